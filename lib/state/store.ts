/**
 * Container records under the state root: containers/<id>/config.json (what was asked) and state.json (what
 * happened). Writes are atomic (a temporary file renamed over the old one); creating a container and
 * checking its name happen under an exclusive lock on containers.lock, so concurrent commands never clash.
 */
import type { ContainerConfig } from "../config/types.ts";
import { StateError } from "../errors.ts";
import { containerDir, containersDir, lockFile, type StatePaths } from "./paths.ts";

export type Status = "created" | "running" | "exited";

export interface ContainerState {
  status: Status;
  pid: number;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
}

export interface ContainerRecord {
  config: ContainerConfig;
  state: ContainerState;
}

/** Runs `fn` holding the exclusive state lock. */
export async function withLock<T>(paths: StatePaths, fn: () => T | Promise<T>): Promise<T> {
  await Deno.mkdir(containersDir(paths), { recursive: true, mode: 0o700 });
  using file = await Deno.open(lockFile(paths), { create: true, write: true, mode: 0o600 });
  await file.lock(true);
  return await fn();
}

/** Writes `data` to `path` atomically. */
export async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(tmp, data, { mode: 0o644 });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** The names of all containers (call under the lock when the answer decides a new name). */
export async function takenNames(paths: StatePaths): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for await (const entry of Deno.readDir(containersDir(paths))) {
    if (!entry.isDirectory) continue;
    try {
      const config = JSON.parse(await Deno.readTextFile(`${containersDir(paths)}/${entry.name}/config.json`));
      names.set(config.name, entry.name);
    } catch (e) {
      // A directory without a config is a creation that has not finished (or crashed): not a name holder.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return names;
}

/** Creates the container's directory and config; fails if the name is taken. Call under the lock. */
export async function createRecord(paths: StatePaths, config: ContainerConfig): Promise<void> {
  const names = await takenNames(paths);
  const holder = names.get(config.name);
  if (holder !== undefined) {
    throw new StateError(
      `the container name "${config.name}" is already in use by container ${holder.slice(0, 12)}: ` +
        `remove that container or choose another name`,
    );
  }
  const dir = containerDir(paths, config.id);
  await Deno.mkdir(dir, { mode: 0o700 });
  await writeState(paths, config.id, {
    status: "created",
    pid: 0,
    startedAt: null,
    finishedAt: null,
    exitCode: null,
  });
  await writeAtomic(`${dir}/config.json`, JSON.stringify(config, null, 2));
}

export async function writeState(paths: StatePaths, id: string, state: ContainerState): Promise<void> {
  await writeAtomic(`${containerDir(paths, id)}/state.json`, JSON.stringify(state, null, 2));
}

export async function readRecord(paths: StatePaths, id: string): Promise<ContainerRecord> {
  const dir = containerDir(paths, id);
  return {
    config: JSON.parse(await Deno.readTextFile(`${dir}/config.json`)),
    state: JSON.parse(await Deno.readTextFile(`${dir}/state.json`)),
  };
}

export async function removeRecord(paths: StatePaths, id: string): Promise<void> {
  await Deno.remove(containerDir(paths, id), { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
