/**
 * Container records under the state root: containers/<id>/config.json (what was asked) and state.json (what
 * happened; none before the first start). Writes are atomic (a temporary file renamed over the old one); creating a container and
 * checking its name happen under an exclusive lock on containers.lock, so concurrent commands never clash.
 */
import { detachMount } from "../../ffi/mount.ts";
import type { ContainerConfig } from "../config/types.ts";
import { ExitCode, StateError } from "../errors.ts";
import { containerDir, containerRunDir, containersDir, lockFile, type StatePaths } from "./paths.ts";
import { exists, ifExists, listDirIfExists, readJsonIfExists, removeIfExists } from "../files.ts";

export type Status = "created" | "running" | "exited";

export interface ContainerState {
  status: Status;
  /** The container's first process, with its start time (clock ticks since boot) so a reused pid is no match. */
  pid: number;
  pidStartTime: number | null;
  /** The monitor of a detached container. */
  monitorPid: number | null;
  detached: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  /** null while running, and when nobody saw the exit (the monitor was killed). */
  exitCode: number | null;
  oomKilled: boolean;
  /** Times the restart policy started it again. */
  restartCount: number;
  /** Stopped by a user (stop, rm -f): a restart policy does not apply. */
  manualStop: boolean;
}

/** The state of a container that was created and never started. */
export function createdState(): ContainerState {
  return {
    status: "created",
    pid: 0,
    pidStartTime: null,
    monitorPid: null,
    detached: false,
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    oomKilled: false,
    restartCount: 0,
    manualStop: false,
  };
}

export interface ContainerRecord {
  config: ContainerConfig;
  state: ContainerState;
}

// The state files are small and each command touches a few of them: synchronous calls are faster here than
// a round trip through the runtime's thread pool.

/**
 * Takes an exclusive lock on `file` (made, with its directory, if missing); it is released when the returned
 * file is closed (`using`).
 */
export function lockExclusive(dir: string, file: string, dirMode: number): Deno.FsFile {
  Deno.mkdirSync(dir, { recursive: true, mode: dirMode });
  const handle = Deno.openSync(file, { create: true, write: true, mode: 0o600 });
  handle.lockSync(true);
  return handle;
}

/** Runs `fn` holding the exclusive state lock (synchronous: nothing else runs while it is held). */
export function withLock<T>(paths: StatePaths, fn: () => T): T {
  using _lock = lockExclusive(containersDir(paths), lockFile(paths), 0o711);
  return fn();
}

/** Like withLock, for work that must wait while holding it (killing a stale cgroup's processes). */
export async function withLockAsync<T>(paths: StatePaths, fn: () => Promise<T>): Promise<T> {
  using _lock = lockExclusive(containersDir(paths), lockFile(paths), 0o711);
  return await fn();
}

/** Writes `data` to `path` atomically. */
export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    Deno.writeTextFileSync(tmp, data, { mode: 0o644 });
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Never written.
    }
    throw e;
  }
}

/**
 * The names of all containers, by name (call under the lock when the answer decides a new name). On the way,
 * it removes what a crashed creation or removal left: a container directory without its config (creation
 * happens under the lock, so no such directory is being made right now).
 */
export function takenNames(paths: StatePaths): Map<string, string> {
  const names = new Map<string, string>();
  for (const entry of Deno.readDirSync(containersDir(paths))) {
    if (!entry.isDirectory) continue;
    const dir = `${containersDir(paths)}/${entry.name}`;
    const retired = entry.name.match(RETIRED);
    if (retired) {
      // Left by a process that died while removing it; a live one is still at it.
      if (!exists(`/proc/${retired[1]}`)) Deno.removeSync(dir, { recursive: true });
      continue;
    }
    try {
      names.set(JSON.parse(Deno.readTextFileSync(`${dir}/config.json`)).name, entry.name);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      Deno.removeSync(dir, { recursive: true });
      removeIfExists(containerRunDir(paths, entry.name), { recursive: true });
    }
  }
  return names;
}

/**
 * Creates the container's directory and config; fails if the name is taken (`names`: takenNames(), read
 * under the same lock). Call under the lock.
 */
export function createRecord(paths: StatePaths, config: ContainerConfig, names: Map<string, string>): void {
  const holder = names.get(config.name);
  if (holder !== undefined) {
    throw new StateError(
      `the container name "${config.name}" is already in use by container ${holder.slice(0, 12)}: ` +
        `remove that container or choose another name`,
      ExitCode.Runtime,
    );
  }
  const dir = containerDir(paths, config.id);
  // Traversable (not listable) by others: a container in a user namespace reaches its files here.
  Deno.chmodSync(containersDir(paths), 0o711);
  Deno.mkdirSync(dir, { mode: 0o711 });
  // No state.json yet: a record without one was never started (readRecord). The first start then writes a
  // new file rather than renaming over one, which ext4 answers by writing the new file out at once (and
  // removing it after a short run, as with --rm, then costs a discard of its blocks).
  writeAtomic(`${dir}/config.json`, JSON.stringify(config, null, 2));
}

export function writeState(paths: StatePaths, id: string, state: ContainerState): void {
  writeAtomic(`${containerDir(paths, id)}/state.json`, JSON.stringify(state, null, 2));
}

export function readRecord(paths: StatePaths, id: string): ContainerRecord {
  const dir = containerDir(paths, id);
  return {
    config: JSON.parse(Deno.readTextFileSync(`${dir}/config.json`)),
    state: readJsonIfExists<ContainerState>(`${dir}/state.json`) ?? createdState(),
  };
}

/** The record, or null once it has been removed. */
export function readRecordIfExists(paths: StatePaths, id: string): ContainerRecord | null {
  return ifExists(() => readRecord(paths, id));
}

export function removeRecord(paths: StatePaths, id: string): void {
  // An image's overlay is detached once the container runs; a crash between mount and start leaves it.
  detachMount(`${containerDir(paths, id)}/rootfs`);
  // A monitor that is being killed may still add a file while the directory goes: try again.
  for (let attempt = 0;; attempt++) {
    try {
      Deno.removeSync(containerDir(paths, id), { recursive: true });
      removeIfExists(containerRunDir(paths, id), { recursive: true });
      return;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      if (attempt >= 20 || !(e instanceof Error && /not empty/i.test(e.message))) throw e;
    }
  }
}

/** A record being removed: `.removing-<pid of the remover>-<id>` (hidden from listings; see retireRecord). */
const RETIRED = /^\.removing-(\d+)-[0-9a-f]{64}$/;

/**
 * Takes a container's record out of sight at once (call under the lock): its directory is renamed to a
 * hidden name, and the returned promise removes its files and its run directory on the runtime's worker
 * threads, while the caller goes on (on ext4 mounted with discard, removing a directory waits for the disk).
 * For a record nothing else writes to and nothing is mounted in: a foreground container's, after its exit
 * (an image's overlay left the host when the container started).
 */
export function retireRecord(paths: StatePaths, id: string): Promise<void> {
  const retired = `${containersDir(paths)}/.removing-${Deno.pid}-${id}`;
  Deno.renameSync(containerDir(paths, id), retired);
  const remove = (dir: string) =>
    Deno.remove(dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  return Promise.all([remove(retired), remove(containerRunDir(paths, id))]).then(() => {});
}

/** The IDs of all containers with a complete record. */
export function listIds(paths: StatePaths): string[] {
  return listDirIfExists(containersDir(paths))
    .filter((e) => e.isDirectory && /^[0-9a-f]{64}$/.test(e.name))
    .map((e) => e.name);
}

/** All records that can be read (a creation in progress, without its config yet, is skipped). */
export function listRecords(paths: StatePaths): ContainerRecord[] {
  return listIds(paths).map((id) => readRecordIfExists(paths, id)).filter((r) => r !== null);
}
