/** `husk images`, `rmi`, `tag`, `image prune|ls|rm|inspect`: the local image store. */
import { type Catalog, shortId } from "../image/catalog.ts";
import { pruneImages, removeImageNamed, tagImage } from "../image/manage.ts";
import { familiarRepository } from "../image/reference.ts";
import { inspectImage, readCatalog } from "../image/store.ts";
import type { StatePaths } from "../state/paths.ts";
import {
  type CommandGroup,
  type CommandModule,
  needArguments,
  needExactly,
  refuseArguments,
} from "./command.ts";
import { forEachRef, inspectEach } from "./containers.ts";
import { humanDuration, humanSize, renderTable } from "./table.ts";

/** The rows of `husk images`: one per name, `<none>` for an image without one; newest first. */
export function imageRows(catalog: Catalog, now: Date, quiet: boolean, noTrunc = false): string[][] {
  const rows: { created: string; row: string[] }[] = [];
  const tagged = new Set<string>();
  const row = (id: string, repo: string, tag: string) => {
    const image = catalog.images[id];
    const shownId = noTrunc ? id : shortId(id);
    rows.push({
      created: image.created,
      row: quiet ? [shownId] : [
        repo,
        tag,
        shownId,
        `${humanDuration(now.getTime() - Date.parse(image.created))} ago`,
        humanSize(image.size),
      ],
    });
  };
  for (const [ref, id] of Object.entries(catalog.tags).sort()) {
    const colon = ref.lastIndexOf(":");
    row(id, familiarRepository(ref.slice(0, colon)), ref.slice(colon + 1));
    tagged.add(id);
  }
  for (const id of Object.keys(catalog.images).filter((id) => !tagged.has(id))) row(id, "<none>", "<none>");
  const sorted = rows.sort((a, b) => b.created.localeCompare(a.created)).map((r) => r.row);
  return quiet ? [...new Set(sorted.map((r) => r[0]))].map((id) => [id]) : sorted;
}

function listImages(paths: StatePaths, quiet: boolean, noTrunc: boolean): number {
  const rows = imageRows(readCatalog(paths), new Date(), quiet, noTrunc);
  if (quiet) rows.forEach((r) => console.log(r[0]));
  else console.log(renderTable(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows));
  return 0;
}

const LIST_FLAGS = [
  { name: "quiet", short: "q", help: "only show image IDs" },
  { name: "no-trunc", help: "show full image IDs" },
];

export const images: CommandModule = {
  usage: "husk images [OPTIONS]",
  summary: "List images.",
  flags: LIST_FLAGS,
  interspersed: true,
  main: (paths, values, rest) => {
    refuseArguments("images", rest);
    return Promise.resolve(listImages(paths, values.quiet === true, values["no-trunc"] === true));
  },
};

const RMI_FLAGS = [{ name: "force", short: "f", help: "remove the name even if a container uses the image" }];

export const rmi: CommandModule = {
  usage: "husk rmi [OPTIONS] IMAGE [IMAGE...]",
  summary: "Remove images.",
  flags: RMI_FLAGS,
  interspersed: true,
  main: (paths, values, rest) => {
    needArguments("rmi", rest);
    return forEachRef(rest, (name) => {
      removeImageNamed(paths, name, values.force === true).forEach((line) => console.log(line));
    });
  },
};

export const tag: CommandModule = {
  usage: "husk tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
  summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.",
  flags: [],
  interspersed: true,
  main: (paths, _values, rest) => {
    needExactly("tag", rest, 2);
    tagImage(paths, rest[0], rest[1]);
    return Promise.resolve(0);
  },
};

const PRUNE_FLAGS = [
  { name: "all", short: "a", help: "remove all unused images, not just those without a name" },
  { name: "force", short: "f", help: "do not prompt for confirmation" },
];

function prune(paths: StatePaths, all: boolean): number {
  const { lines, reclaimed } = pruneImages(paths, all);
  if (lines.length > 0) console.log(["Deleted Images:", ...lines, ""].join("\n"));
  console.log(`Total reclaimed space: ${humanSize(reclaimed)}`);
  return 0;
}

const imageInspect: CommandModule = {
  usage: "husk image inspect IMAGE [IMAGE...]",
  summary: "Show images' details as JSON.",
  flags: [],
  interspersed: true,
  main: async (paths, _values, rest) => {
    needArguments("image inspect", rest);
    return await inspectEach(rest, (name) => inspectImage(paths, name));
  },
};

const imagePrune: CommandModule = {
  usage: "husk image prune [OPTIONS]",
  summary: "Remove unused images (husk never prompts).",
  flags: PRUNE_FLAGS,
  interspersed: true,
  main: (paths, values, rest) => {
    refuseArguments("image prune", rest);
    return Promise.resolve(prune(paths, values.all === true));
  },
};

export const image: CommandGroup = {
  usage: "husk image COMMAND",
  summary: "Manage images.",
  subcommands: { ls: images, rm: rmi, tag, inspect: imageInspect, prune: imagePrune },
};
