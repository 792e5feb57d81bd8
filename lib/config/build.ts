/** RunOptions -> ContainerConfig: pure; whatever it must read from the host comes in through `BuildContext`. */
import { InvalidInputError } from "../errors.ts";
import { DEFAULT_NAMESPACES, defaultDevices, defaultMounts } from "./defaults.ts";
import { buildNetwork } from "./network.ts";
import { buildEnv, parseEnvEntry, parseEnvFile } from "./env.ts";
import { type ImageContext, imageDefaults } from "./image.ts";
import type { RunOptions } from "./options.ts";
import { type HostFacts, parseResources } from "./resources.ts";
import { buildSecurity } from "./security.ts";
import { buildUserns } from "./userns.ts";
import type { ContainerConfig, Mount, RestartPolicy } from "./types.ts";
import { type AccountFiles, parseUser } from "./user.ts";
import { normalize, parseTmpfs, parseVolume } from "./volume.ts";

export interface BuildContext {
  id: string;
  name: string;
  /** Absolute path of the root filesystem (with an image: where its overlay will be mounted). */
  rootfs: string;
  /** The image to run, resolved in the store. */
  image?: ImageContext;
  /** The root filesystem's /etc/passwd and /etc/group, for user names (read only when a user is given). */
  accountFiles?(): AccountFiles;
  /** The host's environment, for `-e NAME` without a value. */
  hostEnv(name: string): string | undefined;
  /** The text of an --env-file. */
  readEnvFile(path: string): string;
  /** Where the container's generated /etc files live on the host. */
  etcDir: string;
  /** The static init binary for --init (tini), when the host has one. */
  initBinary: string | null;
  /** What limits are checked against (the host's CPUs). */
  host: HostFacts;
  /** The text of a --security-opt seccomp=PROFILE.json file. */
  readSeccompProfile(path: string): string;
  /** The capabilities husk holds (its permitted set): more cannot be granted. */
  hostCapabilities: readonly string[];
  /** The texts of /etc/subuid and /etc/subgid ("" when absent). */
  subordinateIds(): { subuid: string; subgid: string };
  /** The full ID of an existing container named by --network container:REF. */
  resolveContainer(ref: string): string;
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
  // A plain directory runs as an image whose only setting is Cmd /bin/sh.
  const image = imageDefaults(ctx.image?.config ?? { Cmd: DEFAULT_COMMAND }, options);
  const cwd = image.workdir ?? "/";
  if (!cwd.startsWith("/")) {
    throw new InvalidInputError(`invalid working directory "${cwd}": it must be an absolute path`);
  }
  const userMounts = [...options.volumes.map(parseVolume), ...options.tmpfs.map(parseTmpfs)];
  rejectDuplicateDestinations(userMounts);
  const command = image.command;
  if (command[0] === "") throw new InvalidInputError("the command is an empty string");
  const restartPolicy = parseRestartPolicy(options.restart);
  if (restartPolicy.name !== "no" && options.rm) {
    throw new InvalidInputError(
      "conflicting options: --restart and --rm (a removed container cannot restart)",
    );
  }
  const init = options.init ? initMount(ctx.initBinary) : null;
  const security = buildSecurity(options, ctx.readSeccompProfile, ctx.hostCapabilities);
  const usernsWanted = options.userns !== undefined || options.uidmap.length + options.gidmap.length > 0;
  const ids = usernsWanted ? ctx.subordinateIds() : { subuid: "", subgid: "" };
  const userns = buildUserns(options, ids.subuid, ids.subgid);
  const args = init ? [INIT_PATH, "--", ...command] : command;
  // The image's EXPOSE ports join --expose's (what -P publishes).
  const fromImage = image.exposedPorts.filter((p) =>
    !options.expose.some((e) => e === p || `${e}/tcp` === p)
  );
  const expose = [...fromImage, ...options.expose];
  const network = buildNetwork({ ...options, expose }, ctx.resolveContainer);
  if (network.mode === "container" && userns) {
    // Joining a namespace owned by another user namespace needs privileges the remapped child lacks.
    throw new InvalidInputError(
      "conflicting options: --network container:NAME and a user namespace (--userns=remap)",
    );
  }
  // Host and container modes use a namespace that exists already: the host's, or joined at start.
  const namespaces = DEFAULT_NAMESPACES.filter((ns) =>
    ns !== "network" || ["bridge", "none"].includes(network.mode)
  );
  return {
    id: ctx.id,
    name: ctx.name,
    created: ctx.now.toISOString(),
    root: { path: ctx.rootfs },
    hostname,
    process: {
      args,
      env: buildEnv([...image.env, ...userEnv], hostname, options.tty),
      cwd: normalize(cwd),
      user: parseUser(image.user, image.user === undefined ? undefined : ctx.accountFiles?.()),
      terminal: options.tty,
      consoleSize: options.tty && options.consoleSize
        ? { height: options.consoleSize.rows, width: options.consoleSize.columns }
        : undefined,
      stdin: options.interactive,
    },
    namespaces: userns ? [...namespaces, "user"] : namespaces,
    // Sorted together, so that a user's /etc volume lies under the generated /etc/hosts, as with Docker.
    mounts: [
      ...defaultMounts(security.privileged),
      ...sortByDepth([...(init ? [init] : []), ...etcMounts(ctx.etcDir, userMounts), ...userMounts]),
    ],
    devices: defaultDevices(),
    noPivot: options.noPivot,
    autoRemove: options.rm,
    log: { maxSize: options.logMaxSize ?? DEFAULT_LOG_MAX_SIZE },
    restartPolicy,
    resources: parseResources(options.resources, ctx.host),
    security,
    userns,
    network,
    image: ctx.image ? { id: ctx.image.id, name: ctx.image.name, layers: ctx.image.layers } : null,
  };
}

/** Where --init's binary appears in the container (as podman's catatonit): on /dev, outside the image. */
export const INIT_PATH = "/dev/init";

function initMount(binary: string | null): Mount {
  if (binary === null) {
    throw new InvalidInputError("--init needs tini's static binary on the host: apt-get install tini");
  }
  return { destination: INIT_PATH, type: "bind", source: binary, options: ["bind", "ro"] };
}

/** --restart: Docker's policies. */
export function parseRestartPolicy(text: string | undefined): RestartPolicy {
  if (text === undefined || text === "no") return { name: "no", maximumRetryCount: 0 };
  if (text === "always" || text === "unless-stopped") return { name: text, maximumRetryCount: 0 };
  const onFailure = text.match(/^on-failure(?::(\d+))?$/);
  if (onFailure) return { name: "on-failure", maximumRetryCount: Number(onFailure[1] ?? 0) };
  throw new InvalidInputError(
    `invalid restart policy "${text}": use no, always, unless-stopped or on-failure[:max-retries]`,
  );
}

/** /etc/hostname, /etc/hosts and /etc/resolv.conf, written by the runtime, bind-mounted unless the user mounts their own. */
function etcMounts(etcDir: string, userMounts: readonly Mount[]): Mount[] {
  return ["hostname", "hosts", "resolv.conf"]
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
