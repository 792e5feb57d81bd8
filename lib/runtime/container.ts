/**
 * Creating, starting and finishing a container: the state record, the generated /etc files, the process.
 * The library API (mod.ts) and the CLI both drive containers through here.
 */
import { kill as killPid, waitPid, type WaitStatus } from "../../ffi/process.ts";
import { buildConfig } from "../config/build.ts";
import type { RunOptions } from "../config/options.ts";
import type { ContainerConfig } from "../config/types.ts";
import { InvalidInputError, StateError } from "../errors.ts";
import { readTextIfExists, removeIfExists } from "../files.ts";
import { type HostFacts, readHostFacts } from "../config/resources.ts";
import { capabilitiesOfMask } from "../security/capabilities.ts";
import {
  type ContainerCgroup,
  createContainerCgroup,
  plannedContainerCgroup,
  releaseCgroup,
} from "./cgroups.ts";
import { hostFs } from "../rootfs/resolve.ts";
import type { ChildPlan } from "../spawn/plan.ts";
import { isValidName, newId, newName } from "../state/ids.ts";
import { lookup } from "../state/lookup.ts";
import { processStartTime } from "../state/liveness.ts";
import { containerDir, containerRunDir, type StatePaths } from "../state/paths.ts";
import {
  createdState,
  createRecord,
  listRecords,
  removeRecord,
  retireRecord,
  takenNames,
  withLock,
  withLockAsync,
  writeState,
} from "../state/store.ts";
import { exitCommand, installedMonitor, monitorEnv, monitorPath } from "./monitor.ts";
import { type ContainerProcess, dryRunPlan, type MonitorOptions, startContainerProcess } from "./process.ts";
import { attachNetwork, releaseNetwork, sampleInterface } from "./network.ts";
import { resolveRootfs } from "./rootfs.ts";
import { accountFiles } from "./accounts.ts";
import { detachMount } from "../../ffi/mount.ts";
import { layeredFs, mountOverlay, type OverlayDirs, overlayDirs } from "../image/overlay.ts";
import { localImage, usernsLayersDir } from "../image/store.ts";
import { hostIdOf } from "../config/userns.ts";
import { chownedCopy } from "./userns.ts";
import { type ExitResult, finishContainer, waitForExit } from "./status.ts";

export function exitCodeOf(status: WaitStatus): number {
  return status.exited ? status.code : 128 + status.signal;
}

/** A started container. */
export class Container {
  #exit: Promise<ExitResult> | undefined;

  constructor(
    readonly paths: StatePaths,
    readonly config: ContainerConfig,
    readonly process: ContainerProcess,
    /** Its cgroup, as this process made it (released with it at the exit). */
    readonly cgroup?: ContainerCgroup,
  ) {}

  get id(): string {
    return this.config.id;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Sends a signal to the container's first process. */
  kill(signal: number): boolean {
    return killPid(this.process.pid, signal);
  }

  /**
   * Waits for the container to exit. A foreground container is this process's child: its exit is recorded
   * here (or its record removed, with --rm). A detached one's monitor records it.
   */
  wait(): Promise<ExitResult> {
    if (!this.#exit) {
      this.#exit = this.process.monitorPid !== null ? waitForExit(this.paths, this.id) : this.#reap();
    }
    return this.#exit;
  }

  async #reap(): Promise<ExitResult> {
    const exitCode = exitCodeOf(await waitPid(this.process.pid));
    const finishedAt = new Date();
    if (this.config.autoRemove) {
      // Out of sight at once; its files go while the cgroup and the network are released.
      const removal = withLock(this.paths, () => retireRecord(this.paths, this.id));
      const { oomKilled } = await releaseResources(this.paths, this.id, this.cgroup);
      await removal;
      return { exitCode, oomKilled };
    }
    const { oomKilled } = await releaseResources(this.paths, this.id, this.cgroup);
    withLock(this.paths, () => finishContainer(this.paths, this.id, { exitCode, finishedAt, oomKilled }));
    return { exitCode, oomKilled };
  }
}

/** After the container ended: its cgroup (with the OOM verdict) and its network lease are released. */
export async function releaseResources(
  paths: StatePaths,
  id: string,
  cgroup?: ContainerCgroup,
): Promise<{ oomKilled: boolean }> {
  const result = await releaseCgroup(paths, id, cgroup);
  await releaseNetwork(paths, id);
  return result;
}

/** The child's plan for `options`, computed without creating anything (for --dry-run). */
export function dryRun(paths: StatePaths, options: RunOptions): ChildPlan {
  const config = configFor(paths, options, newId(), options.name ?? "dry-run");
  // The generated /etc files do not exist yet: plan as if they did.
  const etcDir = containerRunDir(paths, config.id) + "/";
  const host = config.image ? layeredFs(config.root.path, config.image.layers, hostFs) : hostFs;
  const fs = { ...host, stat: (p: string) => p.startsWith(etcDir) ? "file" as const : host.stat(p) };
  return dryRunPlan(
    config,
    fs,
    options.detach ? monitorOptions(paths, config) : undefined,
    config.network.mode === "bridge" ? sampleInterface() : undefined,
    plannedContainerCgroup(paths, config.id).selfJoinFiles(),
  );
}

/** tini's static build (Debian's tini package), which runs in any root filesystem. */
const INIT_BINARIES = ["/usr/bin/tini-static", "/usr/local/bin/tini-static"];

/** What configs are checked against on this host: read once per process (a library may start thousands). */
function hostFacts(): HostContext {
  facts ??= {
    initBinary: INIT_BINARIES.find((path) => hostFs.stat(path) === "file") ?? null,
    host: readHostFacts(),
    hostCapabilities: capabilitiesOfMask(
      Deno.readTextFileSync("/proc/self/status").match(/^CapPrm:\s*([0-9a-f]+)$/m)?.[1] ?? "0",
    ),
  };
  return facts;
}

type HostContext = { initBinary: string | null; host: HostFacts; hostCapabilities: string[] };
let facts: HostContext | undefined;

function configFor(paths: StatePaths, options: RunOptions, id: string, name: string): ContainerConfig {
  if (options.name !== undefined && !isValidName(options.name)) {
    throw new InvalidInputError(
      `invalid container name "${options.name}": at least 2 characters of [a-zA-Z0-9_.-], starting with a letter or digit`,
    );
  }
  const image = options.image === undefined ? undefined : localImage(paths, options.image);
  const rootfs = image ? overlayDirs(containerDir(paths, id)).target : resolveRootfs(options.rootfs);
  return buildConfig(options, {
    id,
    name,
    rootfs,
    image,
    accountFiles: () => accountFiles(image ? image.layers.toReversed() : [rootfs]),
    hostEnv: (n) => Deno.env.get(n),
    readEnvFile: (f) => {
      try {
        return Deno.readTextFileSync(f);
      } catch (e) {
        throw new InvalidInputError(`cannot read env file ${f}: ${(e as Error).message}`);
      }
    },
    subordinateIds: () => ({
      subuid: readTextIfExists("/etc/subuid") ?? "",
      subgid: readTextIfExists("/etc/subgid") ?? "",
    }),
    resolveContainer: (ref) => {
      try {
        return lookup(listRecords(paths).map((r) => r.config), ref).id;
      } catch (e) {
        // For `run`, an unknown container is bad input (exit 125), as with Docker.
        if (e instanceof StateError) throw new InvalidInputError(e.message);
        throw e;
      }
    },
    readSeccompProfile: (f) => {
      try {
        return Deno.readTextFileSync(f);
      } catch (e) {
        throw new InvalidInputError(`cannot read seccomp profile ${f}: ${(e as Error).message}`);
      }
    },
    etcDir: containerRunDir(paths, id),
    ...hostFacts(),
    now: new Date(),
  });
}

function monitorOptions(paths: StatePaths, config: ContainerConfig): MonitorOptions {
  return {
    monitorPath: monitorPath(paths),
    dir: containerDir(paths, config.id),
    maxLogSize: config.log.maxSize,
    exitCommand: exitCommand(paths, config.id),
    env: monitorEnv(),
  };
}

/** Creates the container's record (config, /etc files) without starting it; the name is checked under the lock. */
export function createContainer(paths: StatePaths, options: RunOptions): ContainerConfig {
  const id = newId();
  const config = withLock(paths, () => {
    const names = takenNames(paths);
    const name = options.name ?? newName(new Set(names.keys()));
    const config = configFor(paths, options, id, name);
    createRecord(paths, config, names);
    return config;
  });
  try {
    // A container in a user namespace reaches its files here as an unprivileged id: the state root must
    // let it through (traverse, not list).
    if (config.userns) Deno.chmodSync(paths.root, (Deno.statSync(paths.root).mode! & 0o777) | 0o011);
    return config;
  } catch (e) {
    removeRecord(paths, id);
    throw e;
  }
}

/** Starts a created (or exited) container, in the foreground or detached under a monitor. */
export async function startCreated(
  paths: StatePaths,
  config: ContainerConfig,
  detach: boolean,
  restartCount = 0,
  /** Just created: it reads as created, and no earlier run left an exit record, a cgroup or a lease. */
  fresh = false,
): Promise<Container> {
  const dir = containerDir(paths, config.id);
  writeHostname(paths, config);
  if (detach) installedMonitor(paths);
  if (!(restartCount === 0 && fresh)) {
    // A restart begins a new exit record; the old one would make the new run look finished.
    for (const stale of ["exit", "exit.tmp"]) removeIfExists(`${dir}/${stale}`);
    // "created" again before the cgroup exists: a collection of stale cgroups counts this one as live.
    await withLockAsync(paths, async () => {
      writeState(paths, config.id, { ...createdState(), restartCount });
      // A previous run's cgroup and lease, which its monitor's exit command has not released yet (a restart).
      await releaseResources(paths, config.id);
    });
  }
  let cgroup: ContainerCgroup | undefined;
  let recordedRunning = false;
  // The overlay stays on the host only until the container's own mount namespace holds it (overlay.ts).
  const overlay = config.image ? await mountImageRoot(paths, dir, config) : null;
  let process: ContainerProcess;
  try {
    const network = await attachNetwork(paths, config);
    process = await startContainerProcess(config, {
      usernsCopies: `${paths.root}/userns-rootfs`,
      rootShifted: overlay !== null,
      // The cgroup is made while the child builds its file system; the child moves itself into it once
      // released, before it runs anything of the user's. The network's tools start first: they come up meanwhile.
      cgroupFiles: plannedContainerCgroup(paths, config.id).selfJoinFiles(),
      prepare: async (pid) => {
        const networking = network.prepare(pid);
        try {
          cgroup = createContainerCgroup(paths, config);
        } finally {
          await networking;
        }
      },
      detached: detach ? monitorOptions(paths, config) : undefined,
      netnsPath: network.netnsPath,
      eth0: network.eth0,
      released: (pid, monitorPid) => {
        writeState(paths, config.id, {
          status: "running",
          pid,
          pidStartTime: processStartTime(pid),
          monitorPid,
          detached: detach,
          startedAt: new Date().toISOString(),
          finishedAt: null,
          exitCode: null,
          oomKilled: false,
          restartCount,
          manualStop: false,
        });
        recordedRunning = true;
      },
    });
  } catch (e) {
    // Its execve failed after it was recorded as running: created again (a new container's record goes).
    if (recordedRunning) writeState(paths, config.id, { ...createdState(), restartCount });
    await releaseNetwork(paths, config.id);
    await cgroup?.destroy();
    throw e;
  } finally {
    if (overlay) detachMount(overlay.target);
  }
  return new Container(paths, config, process, cgroup);
}

/**
 * The container's run directory (made, traversable by a user namespace's ids, not listable) and its
 * /etc/hostname, written at each start: /run does not outlive a reboot.
 */
function writeHostname(paths: StatePaths, config: ContainerConfig): void {
  const dir = containerRunDir(paths, config.id);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o711 });
  Deno.writeTextFileSync(`${dir}/hostname`, config.hostname + "\n");
}

/**
 * An image container's overlay. In a user namespace its layers are chowned copies (made once per layer and
 * mapping, kept in the image store, which removes them with their layer) and its upper directory belongs to
 * the container's root: writes stay copy-on-write and the image stays shared.
 */
async function mountImageRoot(paths: StatePaths, dir: string, config: ContainerConfig): Promise<OverlayDirs> {
  const { image, userns } = config;
  if (!userns) return mountOverlay(dir, image!.layers);
  const copies = usernsLayersDir(paths);
  const layers = await Promise.all(
    image!.layers.map((l) => chownedCopy(l, userns, copies, l.slice(l.lastIndexOf("/") + 1))),
  );
  // Owned before the mount: the overlay's root takes its owner from the upper directory then.
  const { upper } = overlayDirs(dir);
  Deno.mkdirSync(upper, { recursive: true, mode: 0o755 });
  Deno.chownSync(upper, hostIdOf(userns.uidMappings, 0)!, hostIdOf(userns.gidMappings, 0)!);
  return mountOverlay(dir, layers);
}

/** Creates the container's record and starts its process; on failure nothing is left behind. */
export async function startContainer(paths: StatePaths, options: RunOptions): Promise<Container> {
  const config = createContainer(paths, options);
  try {
    return await startCreated(paths, config, options.detach, 0, true);
  } catch (e) {
    withLock(paths, () => removeRecord(paths, config.id));
    throw e;
  }
}
