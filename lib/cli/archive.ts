/** `husk load`, `husk save`, `husk export`, `husk import`: images and containers as tar archives. */
import { InvalidInputError } from "../errors.ts";
import { loadArchive, saveArchive } from "../image/archive.ts";
import { applyChanges } from "../image/changes.ts";
import { importTarball } from "../image/import.ts";
import { containerFilesystem } from "../runtime/export.ts";
import { type CommandModule, needArguments, needExactly } from "./command.ts";
import { findContainer } from "./containers.ts";

/** Opens the archive to read: a file, or stdin. */
async function input(file: string | undefined): Promise<ReadableStream<Uint8Array>> {
  if (file === undefined) return Deno.stdin.readable;
  try {
    return (await Deno.open(file)).readable;
  } catch (e) {
    throw new InvalidInputError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Writes a stream to a file (complete or not at all) or stdout. */
async function output(stream: ReadableStream<Uint8Array>, file: string | undefined): Promise<void> {
  if (file === undefined) {
    if (Deno.stdout.isTerminal()) {
      throw new InvalidInputError(
        "refusing to write an archive to a terminal: use -o FILE or redirect stdout",
      );
    }
    await stream.pipeTo(Deno.stdout.writable, { preventClose: true });
    return;
  }
  const tmp = `${file}.tmp-${crypto.randomUUID()}`;
  try {
    await stream.pipeTo((await Deno.open(tmp, { write: true, createNew: true })).writable);
    await Deno.rename(tmp, file);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

const OUTPUT = { name: "output", short: "o", value: "FILE", help: "write to FILE instead of stdout" };

export const load: CommandModule = {
  usage: "husk load [-i FILE]",
  summary: "Load images from an archive (docker save's, either form) or stdin.",
  flags: [{ name: "input", short: "i", value: "FILE", help: "read from FILE instead of stdin" }],
  interspersed: true,
  main: async (paths, values) => {
    const lines = await loadArchive(paths, await input(values.input as string | undefined));
    lines.forEach((l) => console.log(l));
    return 0;
  },
};

export const save: CommandModule = {
  usage: "husk save [-o FILE] IMAGE [IMAGE...]",
  summary: "Save images to an archive (OCI layout and manifest.json, as docker save).",
  flags: [OUTPUT],
  interspersed: true,
  main: async (paths, values, rest) => {
    needArguments("save", rest);
    await output(saveArchive(paths, rest), values.output as string | undefined);
    return 0;
  },
};

export const exportCommand: CommandModule = {
  usage: "husk export [-o FILE] CONTAINER",
  summary: "Export a container's filesystem as a tar archive.",
  flags: [OUTPUT],
  interspersed: true,
  main: async (paths, values, rest) => {
    needExactly("export", rest, 1);
    const record = findContainer(paths, rest[0]);
    const fs = containerFilesystem(paths, record);
    try {
      await output(fs.stream, values.output as string | undefined);
    } finally {
      fs.release();
    }
    return 0;
  },
};

const IMPORT_FLAGS = [
  {
    name: "change",
    short: "c",
    value: "INSTRUCTION",
    multiple: true,
    help: "CMD, ENTRYPOINT, ENV, WORKDIR, USER or EXPOSE for the image's config",
  },
];

export const importCommand: CommandModule = {
  usage: "husk import [OPTIONS] FILE|- [REPOSITORY[:TAG]]",
  summary: "Import a filesystem tarball (plain, gzip or zstd) as an image.",
  flags: IMPORT_FLAGS,
  interspersed: true,
  main: async (paths, values, rest) => {
    if (rest.length < 1 || rest.length > 2) {
      throw new InvalidInputError(`"husk import" requires 1 or 2 arguments: FILE|- [REPOSITORY[:TAG]]`);
    }
    const [source, name] = rest;
    const changes = applyChanges((values.change as string[] | undefined) ?? []);
    const stream = await input(source === "-" ? undefined : source);
    console.log(await importTarball(paths, stream, name ?? null, changes));
    return 0;
  },
};
