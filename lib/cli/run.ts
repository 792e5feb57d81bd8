/** `husk run`: start a container in the foreground, attached to this terminal, and exit with its code. */
import { defaultRunOptions, type RunOptions } from "../config/options.ts";
import { ExitCode, InvalidInputError } from "../errors.ts";
import { formatBytes, parseBytes } from "../config/resources.ts";
import { RESOURCE_FLAGS, resourceFlags } from "./resources.ts";
import { collectStale } from "../runtime/status.ts";
import { attachConsole } from "../terminal/console.ts";
import { type Container, dryRun, startContainer } from "../runtime/container.ts";
import { formatPlan } from "../spawn/format.ts";
import type { StatePaths } from "../state/paths.ts";
import type { CommandModule } from "./command.ts";
import type { Flag, FlagValues } from "./flags.ts";
import { forwardSignals } from "./signals.ts";
import { displayName, findImage } from "../image/catalog.ts";
import { isLoopback, parseReference } from "../image/reference.ts";
import { readCatalog } from "../image/store.ts";
import { DEFAULT_ROOTFS } from "../runtime/rootfs.ts";

const FLAGS: readonly Flag[] = [
  {
    name: "rootfs",
    value: "DIR",
    help: "root filesystem directory (default: the one `deno task rootfs` made)",
  },
  { name: "entrypoint", value: "CMD", help: 'replace the image\'s ENTRYPOINT ("" clears it)' },
  { name: "name", value: "NAME", help: "assign a name to the container" },
  {
    name: "hostname",
    short: "h",
    value: "NAME",
    help: "container host name (default: the short container ID)",
  },
  { name: "env", short: "e", value: "VAR[=VALUE]", multiple: true, help: "set an environment variable" },
  { name: "env-file", value: "FILE", multiple: true, help: "read environment variables from a file" },
  { name: "workdir", short: "w", value: "DIR", help: "working directory inside the container" },
  { name: "user", short: "u", value: "UID[:GID]", help: "numeric user and group to run as" },
  { name: "volume", short: "v", value: "HOST:CTR[:ro]", multiple: true, help: "bind-mount a host path" },
  { name: "tmpfs", value: "PATH[:OPTS]", multiple: true, help: "mount a tmpfs" },
  { name: "detach", short: "d", help: "run in the background and print the container ID" },
  { name: "rm", help: "remove the container when it exits" },
  { name: "cap-add", value: "CAP", multiple: true, help: "add a Linux capability (ALL for every one)" },
  { name: "cap-drop", value: "CAP", multiple: true, help: "drop a Linux capability (ALL for every one)" },
  { name: "privileged", help: "every capability, no seccomp filter, no masked paths, /sys writable" },
  {
    name: "security-opt",
    value: "OPT",
    multiple: true,
    help: "no-new-privileges, seccomp=unconfined or seccomp=PROFILE.json",
  },
  { name: "read-only", help: "mount the root filesystem read-only" },
  {
    name: "userns",
    value: "MODE",
    help: "host (default) or remap: root inside is an unprivileged id outside",
  },
  { name: "uidmap", value: "C:H:N", multiple: true, help: "map container uids C.. to host uids H.. (N ids)" },
  { name: "gidmap", value: "C:H:N", multiple: true, help: "map container gids (default: as --uidmap)" },
  { name: "init", help: "run an init (tini) as PID 1: it forwards signals and reaps zombies" },
  {
    name: "network",
    value: "NET",
    help: "bridge (default), none, host, container:NAME, or a network from `husk network create`",
  },
  {
    name: "publish",
    short: "p",
    value: "[IP:][HOST:]CTR[/PROTO]",
    multiple: true,
    help: "publish a container port on the host (8080:80, 127.0.0.1:53:53/udp, 8000-8001:80-81)",
  },
  { name: "publish-all", short: "P", help: "publish every exposed port on a free host port" },
  { name: "expose", value: "PORT[/PROTO]", multiple: true, help: "expose a port (published by -P)" },
  { name: "dns", value: "IP", multiple: true, help: "a name server for the container" },
  { name: "dns-search", value: "DOMAIN", multiple: true, help: "a DNS search domain" },
  { name: "dns-option", value: "OPT", multiple: true, help: "a resolver option (resolv.conf's options)" },
  {
    name: "add-host",
    value: "NAME:IP",
    multiple: true,
    help: "add a line to /etc/hosts (IP may be host-gateway)",
  },
  ...RESOURCE_FLAGS,
  {
    name: "log-opt",
    value: "max-size=SIZE",
    multiple: true,
    help: "bytes per log file (default 10m; 2 files)",
  },
  {
    name: "restart",
    value: "POLICY",
    help: "no, on-failure[:N], always, unless-stopped (detached containers)",
  },
  { name: "interactive", short: "i", help: "keep stdin open" },
  { name: "tty", short: "t", help: "allocate a pseudo-terminal" },
  { name: "no-pivot", help: "chroot instead of pivot_root (for a root filesystem on ramfs)" },
  { name: "dry-run", help: "print the container's start-up system calls instead of running them" },
];

export const command: CommandModule = {
  usage:
    "husk run [OPTIONS] IMAGE [COMMAND] [ARG...]  |  husk run [--rootfs DIR] [OPTIONS] [COMMAND] [ARG...]",
  summary: "Run a command in a new container from an image or a root filesystem directory.",
  flags: FLAGS,
  main: (paths, values, rest) =>
    runCommand(
      paths,
      runOptions(values, rest, (name) => imageWanted(paths, name)),
      values["dry-run"] === true,
    ),
};

/**
 * Whether the first word of `husk run`'s arguments names an image: one in the store, or a reference no
 * command could be (a tag, digest or registry), or any name once there is no default root filesystem.
 * Otherwise the words are a command for the default root filesystem, as before images existed.
 */
export function imageWanted(paths: StatePaths, word: string): boolean {
  if (word.startsWith("/") || word.startsWith(".")) return false;
  if (/[:@/]/.test(word) || !hasDefaultRootfs()) return true;
  try {
    return findImage(readCatalog(paths), word) !== null;
  } catch {
    return false;
  }
}

function hasDefaultRootfs(): boolean {
  try {
    return Deno.statSync(DEFAULT_ROOTFS).isDirectory;
  } catch {
    return false;
  }
}

/** --log-opt max-size=10m (the only log option: one rotated file is kept). */
export function logMaxSize(options: readonly string[]): number | undefined {
  let size: number | undefined;
  for (const option of options) {
    const eq = option.indexOf("=");
    const [key, value] = eq === -1 ? [option, ""] : [option.slice(0, eq), option.slice(eq + 1)];
    if (key !== "max-size") {
      throw new InvalidInputError(`unknown --log-opt "${key}": only max-size is supported`);
    }
    const bytes = parseBytes(value);
    if (bytes === null || bytes < 4096) {
      throw new InvalidInputError(
        `invalid --log-opt max-size "${value}": a size of at least 4k, such as 10m`,
      );
    }
    size = bytes;
  }
  return size;
}

/** The parsed flags as RunOptions. */
export function runOptions(
  v: FlagValues,
  args: string[],
  isImage: (word: string) => boolean = () => false,
): RunOptions {
  const list = (name: string) => (v[name] as string[] | undefined) ?? [];
  const text = (name: string) => v[name] as string | undefined;
  const image = text("rootfs") === undefined && args.length > 0 && isImage(args[0]) ? args[0] : undefined;
  const command = image === undefined ? args : args.slice(1);
  return {
    ...defaultRunOptions(),
    rootfs: text("rootfs"),
    image,
    entrypoint: text("entrypoint"),
    name: text("name"),
    hostname: text("hostname"),
    env: list("env"),
    envFiles: list("env-file"),
    workdir: text("workdir"),
    user: text("user"),
    volumes: list("volume"),
    tmpfs: list("tmpfs"),
    rm: v.rm === true,
    interactive: v.interactive === true,
    tty: v.tty === true,
    noPivot: v["no-pivot"] === true,
    detach: v.detach === true,
    init: v.init === true,
    restart: text("restart"),
    logMaxSize: logMaxSize(list("log-opt")),
    resources: resourceFlags(v),
    capAdd: list("cap-add"),
    capDrop: list("cap-drop"),
    privileged: v.privileged === true,
    securityOpt: list("security-opt"),
    readOnly: v["read-only"] === true,
    userns: text("userns"),
    uidmap: list("uidmap"),
    gidmap: list("gidmap"),
    network: text("network"),
    publish: list("publish"),
    publishAll: v["publish-all"] === true,
    expose: list("expose"),
    dns: list("dns"),
    dnsSearch: list("dns-search"),
    dnsOption: list("dns-option"),
    addHost: list("add-host"),
    command,
  };
}

export async function runCommand(paths: StatePaths, options: RunOptions, planOnly: boolean): Promise<number> {
  if (planOnly) {
    console.log(formatPlan(dryRun(paths, options)));
    return 0;
  }
  await collectStale(paths);
  if (options.image !== undefined && findImage(readCatalog(paths), options.image) === null) {
    // As Docker does, and like Docker, registries on this machine may answer in plain HTTP.
    console.error(`Unable to find image '${displayName(options.image)}' locally`);
    const insecure = isLoopback(parseReference(options.image).domain);
    await (await import("./pull.ts")).pullWithReport(paths, options.image, { insecure, quiet: false });
  }
  if (options.detach) {
    const container = await startContainer(paths, options);
    console.log(container.id);
    return 0;
  }
  // Listen before starting: a signal that arrives while the container starts is delivered once it runs.
  let container: Container | undefined;
  const early: number[] = [];
  const stopForwarding = forwardSignals((signal) => container ? container.kill(signal) : early.push(signal));
  try {
    const consoleSize = options.tty && Deno.stdout.isTerminal() ? Deno.consoleSize() : undefined;
    container = await startContainer(paths, { ...options, consoleSize });
    early.forEach((signal) => container!.kill(signal));
    const terminal = container.process.console === null
      ? null
      : attachConsole(container.process.console, { stdin: options.interactive });
    try {
      const { exitCode, oomKilled } = await container.wait();
      await terminal?.output;
      if (oomKilled) {
        const limit = container.config.resources.memory;
        console.error(
          `husk: container was killed: out of memory${limit ? ` (limit ${formatBytes(limit, " ")})` : ""}`,
        );
      }
      return exitCode ?? ExitCode.Runtime;
    } finally {
      terminal?.detach();
    }
  } finally {
    stopForwarding();
  }
}
