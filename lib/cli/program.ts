/**
 * The command line: Docker's command names and flags. Only the chosen command's module is loaded.
 * Errors are formatted here and only here: one line on stderr, Docker's exit code.
 */
import { ExitCode, HuskError } from "../errors.ts";
import { statePaths } from "../state/paths.ts";
import type { CommandGroup, CommandModule } from "./command.ts";
import { type Flag, parseFlags, usage } from "./flags.ts";

const lifecycle = () => import("./lifecycle.ts");
const listing = () => import("./ps.ts");
const imaging = () => import("./images.ts");

/** Every command; `hidden` ones are for husk's own use. Each module is loaded only when its command runs. */
const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<CommandModule | CommandGroup>; hidden?: boolean }
> = {
  run: { summary: "Run a command in a new container", load: async () => (await import("./run.ts")).command },
  ps: { summary: "List containers", load: async () => (await listing()).ps },
  logs: { summary: "Show a container's output", load: async () => (await import("./logs.ts")).logs },
  exec: {
    summary: "Run a command in a running container",
    load: async () => (await import("./exec.ts")).exec,
  },
  inspect: { summary: "Show containers' details as JSON", load: async () => (await listing()).inspect },
  top: { summary: "Show the processes of a container", load: async () => (await import("./top.ts")).top },
  stop: { summary: "Stop running containers", load: async () => (await lifecycle()).stop },
  kill: { summary: "Send a signal to running containers", load: async () => (await lifecycle()).kill },
  start: { summary: "Start stopped containers", load: async () => (await lifecycle()).start },
  restart: { summary: "Restart containers", load: async () => (await lifecycle()).restart },
  wait: {
    summary: "Wait for containers to stop; print exit codes",
    load: async () => (await lifecycle()).wait,
  },
  stats: { summary: "Show containers' resource use", load: async () => (await import("./stats.ts")).stats },
  update: { summary: "Change containers' limits", load: async () => (await import("./stats.ts")).update },
  port: { summary: "List a container's published ports", load: async () => (await import("./port.ts")).port },
  rm: { summary: "Remove containers", load: async () => (await lifecycle()).rm },
  prune: { summary: "Remove all stopped containers", load: async () => (await lifecycle()).prune },
  network: { summary: "Manage networks", load: async () => (await import("./network.ts")).network },
  pull: { summary: "Download an image from a registry", load: async () => (await import("./pull.ts")).pull },
  login: { summary: "Log in to a registry", load: async () => (await import("./login.ts")).login },
  images: { summary: "List images", load: async () => (await imaging()).images },
  image: {
    summary: "Manage images (ls, rm, tag, inspect, prune)",
    load: async () => (await imaging()).image,
  },
  rmi: { summary: "Remove images", load: async () => (await imaging()).rmi },
  tag: { summary: "Give an image another name", load: async () => (await imaging()).tag },
  import: {
    summary: "Import a filesystem tarball as an image",
    load: async () => (await import("./archive.ts")).importCommand,
  },
  load: { summary: "Load images from an archive", load: async () => (await import("./archive.ts")).load },
  save: { summary: "Save images to an archive", load: async () => (await import("./archive.ts")).save },
  export: {
    summary: "Export a container's filesystem as a tar archive",
    load: async () => (await import("./archive.ts")).exportCommand,
  },
  version: {
    summary: "Show the husk version information",
    load: async () => (await import("./version.ts")).version,
  },
  cleanup: { summary: "", load: async () => (await lifecycle()).cleanup, hidden: true },
};

const GLOBAL_FLAGS: readonly Flag[] = [
  { name: "root", value: "DIR", help: "state directory (default $HUSK_ROOT, else /var/lib/husk)" },
  { name: "help", help: "show this help" },
  { name: "version", short: "v", help: "print the version and quit" },
];

function globalHelp(): string {
  return usage(
    "husk [OPTIONS] COMMAND",
    "A daemonless container runtime with Docker's commands.",
    GLOBAL_FLAGS,
  ) +
    "\nCommands:\n" +
    Object.entries(COMMANDS).filter(([, c]) => !c.hidden).map(([name, c]) =>
      `  ${name.padEnd(10)} ${c.summary}`
    )
      .join("\n") +
    "\n\nRun 'husk COMMAND --help' for more information on a command.\n";
}

function groupHelp(group: CommandGroup): string {
  return [
    `Usage:  ${group.usage}`,
    "",
    group.summary,
    "",
    "Commands:",
    ...Object.entries(group.subcommands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    "",
  ].join("\n");
}

/** Runs the CLI on `argv`; resolves to the process's exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const global = parseFlags(argv, GLOBAL_FLAGS, "");
    let [name, ...args] = global.rest;
    if (global.values.version) {
      console.log((await import("./version.ts")).versionLine());
      return 0;
    }
    if (global.values.help || name === undefined) {
      (name === undefined && !global.values.help ? console.error : console.log)(globalHelp());
      return global.values.help ? 0 : ExitCode.Runtime;
    }
    const entry = COMMANDS[name];
    if (!entry) throw new HuskError(`'${name}' is not a husk command (see 'husk --help')`);
    const loaded = await entry.load();
    let command: CommandModule;
    let where = name;
    if ("subcommands" in loaded) {
      const [sub, ...subArgs] = args;
      if (sub === undefined || sub === "--help" || sub === "-h") {
        (sub === undefined ? console.error : console.log)(groupHelp(loaded));
        return sub === undefined ? ExitCode.Runtime : 0;
      }
      if (!Object.hasOwn(loaded.subcommands, sub)) {
        throw new HuskError(`'husk ${name} ${sub}' is not a husk command (see 'husk ${name} --help')`);
      }
      command = loaded.subcommands[sub];
      args = subArgs;
      where = `${name} ${sub}`;
    } else {
      command = loaded;
    }
    const flags = [...command.flags, { name: "help", help: "show this help" }];
    const parsed = parseFlags(args, flags, where, command.interspersed === true);
    if (parsed.values.help) {
      console.log(usage(command.usage, command.summary, flags));
      return 0;
    }
    return await command.main(
      statePaths(global.values.root as string | undefined),
      parsed.values,
      parsed.rest,
    );
  } catch (e) {
    return report(e);
  }
}

function report(e: unknown): number {
  if (e instanceof HuskError) {
    console.error(`husk: ${e.message}`);
    return e.exitCode;
  }
  console.error(`husk: ${e instanceof Error ? e.message : String(e)}`);
  return ExitCode.Runtime;
}
