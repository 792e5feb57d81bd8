/**
 * The command line: Docker's command names and flags, parsed by commander. Each command's implementation is
 * imported only when that command runs. Errors are formatted here and only here.
 */
import { Command, CommanderError, Option } from "commander";
import { defaultRunOptions, type RunOptions } from "../config/options.ts";
import { ExitCode, HuskError } from "../errors.ts";
import { statePaths } from "../state/paths.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

/** Runs the CLI on `argv`; resolves to the process's exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command("husk")
    .description("A daemonless container runtime (Docker's commands, on Deno)")
    .helpOption("--help", "show help")
    .option("--root <dir>", "state directory (default $HUSK_ROOT or /var/lib/husk)")
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });

  program.command("run")
    .description("run a command in a new container")
    .helpOption("--help", "show help")
    .usage("[OPTIONS] [COMMAND] [ARG...]")
    .argument("[command...]", "the command and its arguments (default /bin/sh)")
    .option("--rootfs <dir>", "root filesystem directory (default: the one `deno task rootfs` fetched)")
    .option("--name <name>", "assign a name to the container")
    .option("-h, --hostname <name>", "container host name (default: the short container ID)")
    .option("-e, --env <VAR[=value]>", "set an environment variable (repeatable)", collect, [])
    .option("--env-file <file>", "read environment variables from a file (repeatable)", collect, [])
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("-u, --user <uid[:gid]>", "numeric user and group to run as")
    .option("-v, --volume <host:ctr[:ro]>", "bind-mount a host path (repeatable)", collect, [])
    .option("--tmpfs <path[:opts]>", "mount a tmpfs (repeatable)", collect, [])
    .option("--rm", "remove the container when it exits")
    .option("-i, --interactive", "keep stdin open")
    .option("-t, --tty", "allocate a pseudo-terminal")
    .addOption(new Option("--no-pivot", "chroot instead of pivot_root (for a rootfs on ramfs)"))
    .option("--dry-run", "print the container's start-up system calls instead of running them")
    .passThroughOptions()
    .action(async (command: string[], opts, cmd: Command) => {
      const { runCommand } = await import("./run.ts");
      const options: RunOptions = {
        ...defaultRunOptions(),
        rootfs: opts.rootfs,
        name: opts.name,
        hostname: opts.hostname,
        env: opts.env,
        envFiles: opts.envFile,
        workdir: opts.workdir,
        user: opts.user,
        volumes: opts.volume,
        tmpfs: opts.tmpfs,
        rm: opts.rm === true,
        interactive: opts.interactive === true,
        tty: opts.tty === true,
        noPivot: opts.pivot === false,
        command: command[0] === "--" ? command.slice(1) : command,
      };
      exitCode = await runCommand(statePaths(cmd.optsWithGlobals().root), options, opts.dryRun === true);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    return report(e);
  }
}

/** One line on stderr for a person; the exit code Docker would give. */
function report(e: unknown): number {
  if (e instanceof CommanderError) {
    if (
      e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version"
    ) {
      return 0;
    }
    console.error(`husk: ${e.message.replace(/^error: /, "")} (see 'husk --help')`);
    return ExitCode.Runtime;
  }
  if (e instanceof HuskError) {
    console.error(`husk: ${e.message}`);
    return e.exitCode;
  }
  console.error(`husk: ${e instanceof Error ? e.message : String(e)}`);
  return ExitCode.Runtime;
}
