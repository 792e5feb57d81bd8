/** `husk pull`. */
import { pullImage } from "../image/pull.ts";
import { canonical, familiar, familiarRepository, parseReference, repository } from "../image/reference.ts";
import { Staging } from "../image/staging.ts";
import { findImage } from "../image/catalog.ts";
import { readCatalog } from "../image/store.ts";
import type { StatePaths } from "../state/paths.ts";
import { type CommandModule, needExactly } from "./command.ts";
import { PullProgress } from "./progress.ts";

const PULL_FLAGS = [
  { name: "insecure", help: "plain HTTP, for a registry on this machine (localhost, 127.0.0.1)" },
  { name: "quiet", short: "q", help: "print only the image's name" },
];

/** Pulls with Docker's report; an interrupt (Ctrl-C) removes what was staged before husk exits. */
export async function pullWithReport(
  paths: StatePaths,
  name: string,
  options: { insecure: boolean; quiet: boolean },
): Promise<void> {
  const ref = parseReference(name);
  const interrupted = () => {
    Staging.disposeAll();
    Deno.exit(130);
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  signals.forEach((s) => Deno.addSignalListener(s, interrupted));
  try {
    const out = (text: string) => !options.quiet && Deno.stdout.writeSync(new TextEncoder().encode(text));
    if (!name.includes(":") && !ref.digest) out("Using default tag: latest\n");
    out(`${ref.tag ?? ref.digest}: Pulling from ${familiarRepository(repository(ref))}\n`);
    const progress = new PullProgress(Deno.stdout.isTerminal(), out);
    const before = findImage(readCatalog(paths), name)?.id;
    const { id, digest } = await pullImage(paths, name, {
      insecure: options.insecure,
      progress: options.quiet ? undefined : (e) => progress.update(e),
    });
    const status = id === before ? "Image is up to date for" : "Downloaded newer image for";
    out(`Digest: ${digest}\nStatus: ${status} ${familiar(ref)}\n`);
    console.log(canonical(ref));
  } finally {
    signals.forEach((s) => Deno.removeSignalListener(s, interrupted));
  }
}

export const pull: CommandModule = {
  usage: "husk pull [OPTIONS] NAME[:TAG|@DIGEST]",
  summary: "Download an image from a registry.",
  flags: PULL_FLAGS,
  interspersed: true,
  main: async (paths, values, rest) => {
    needExactly("pull", rest, 1);
    await pullWithReport(paths, rest[0], {
      insecure: values.insecure === true,
      quiet: values.quiet === true,
    });
    return 0;
  },
};
