/** RunOptions -> ContainerConfig: pure; whatever it must read from the host comes in through `BuildContext`. */
import { InvalidInputError } from "../errors.ts";
import { DEFAULT_NAMESPACES, defaultDevices, defaultMounts } from "./defaults.ts";
import { buildEnv, parseEnvEntry, parseEnvFile } from "./env.ts";
import type { RunOptions } from "./options.ts";
import type { ContainerConfig, Mount } from "./types.ts";
import { parseUser } from "./user.ts";
import { normalize, parseTmpfs, parseVolume } from "./volume.ts";

export interface BuildContext {
  id: string;
  name: string;
  /** Absolute path of the root filesystem. */
  rootfs: string;
  /** The host's environment, for `-e NAME` without a value. */
  hostEnv(name: string): string | undefined;
  /** The text of an --env-file. */
  readEnvFile(path: string): string;
  /** Where the container's generated /etc files live on the host. */
  etcDir: string;
  now: Date;
}

const HOSTNAME =
  /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export const DEFAULT_COMMAND = ["/bin/sh"];

/** 10 MiB per log file, two files: Docker's unbounded json logs are a known way to fill a disk. */
export const DEFAULT_LOG_MAX_SIZE = 10 * 1024 * 1024;

export function buildConfig(options: RunOptions, ctx: BuildContext): ContainerConfig {
  const hostname = options.hostname ?? ctx.id.slice(0, 12);
  if (!HOSTNAME.test(hostname) || hostname.length > 64) {
    throw new InvalidInputError(
      `invalid hostname "${hostname}": use letters, digits, "-" and ".", at most 64 characters`,
    );
  }
  const userEnv = [
    ...options.envFiles.flatMap((f) => parseEnvFile(ctx.readEnvFile(f), f)),
    ...options.env,
  ].map((e) => parseEnvEntry(e, ctx.hostEnv)).filter((e): e is string => e !== null);
  const cwd = options.workdir === undefined ? "/" : options.workdir;
  if (!cwd.startsWith("/")) {
    throw new InvalidInputError(`invalid working directory "${cwd}": it must be an absolute path`);
  }
  const userMounts = [...options.volumes.map(parseVolume), ...options.tmpfs.map(parseTmpfs)];
  rejectDuplicateDestinations(userMounts);
  const args = options.command.length > 0 ? options.command : DEFAULT_COMMAND;
  if (args[0] === "") throw new InvalidInputError("the command is an empty string");
  return {
    id: ctx.id,
    name: ctx.name,
    created: ctx.now.toISOString(),
    root: { path: ctx.rootfs },
    hostname,
    process: {
      args,
      env: buildEnv(userEnv, hostname, options.tty),
      cwd: normalize(cwd),
      user: parseUser(options.user),
      terminal: options.tty,
      consoleSize: options.tty && options.consoleSize
        ? { height: options.consoleSize.rows, width: options.consoleSize.columns }
        : undefined,
      stdin: options.interactive,
    },
    namespaces: [...DEFAULT_NAMESPACES],
    mounts: [...defaultMounts(), ...etcMounts(ctx.etcDir, userMounts), ...sortByDepth(userMounts)],
    devices: defaultDevices(),
    noPivot: options.noPivot,
    autoRemove: options.rm,
    log: { maxSize: options.logMaxSize ?? DEFAULT_LOG_MAX_SIZE },
  };
}

/** /etc/hostname and /etc/hosts, written by the runtime, bind-mounted unless the user mounts their own. */
function etcMounts(etcDir: string, userMounts: readonly Mount[]): Mount[] {
  return ["hostname", "hosts"]
    .filter((f) => !userMounts.some((m) => m.destination === `/etc/${f}`))
    .map((f) => ({
      destination: `/etc/${f}`,
      type: "bind",
      source: `${etcDir}/${f}`,
      options: ["bind", "rw"],
    }));
}

function rejectDuplicateDestinations(mounts: readonly Mount[]): void {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.destination)) throw new InvalidInputError(`duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
}

/** Parents before children, so /data is mounted before /data/sub (stable for equal depths). */
function sortByDepth(mounts: Mount[]): Mount[] {
  const depth = (m: Mount) => m.destination.split("/").filter(Boolean).length;
  return mounts.toSorted((a, b) => depth(a) - depth(b));
}

/** The contents of the container's /etc/hosts. */
export function hostsFile(hostname: string): string {
  return [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    `127.0.1.1\t${hostname}`,
    "",
  ].join("\n");
}
