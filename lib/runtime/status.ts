/**
 * A container's state as it is now, not as last written: a detached container's monitor leaves an exit
 * record when the container ends, and a process can be gone without anyone having written so (a killed
 * monitor, a crash). Reading a record through here turns both into "exited".
 */
import { exitCodeFromStatus, readExitSync } from "../logs/exit.ts";
import { isMonitorOf, isSameProcess } from "../state/liveness.ts";
import { containerDir, type StatePaths } from "../state/paths.ts";
import {
  type ContainerRecord,
  listRecords,
  readRecord,
  readRecordIfExists,
  removeRecord,
  withLock,
  withLockAsync,
  writeState,
} from "../state/store.ts";
import { removeStaleCgroups } from "../cgroups/mod.ts";
import { cgroupOptions } from "./cgroups.ts";
import { collectStaleLeases } from "./network.ts";

export interface ExitResult {
  /** Docker's convention: the command's own code, or 128 + the signal that killed it; null when unknown. */
  exitCode: number | null;
  /** The kernel killed it for memory (its cgroup's OOM counter). */
  oomKilled: boolean;
}

/** Records a container's end, or removes it (--rm). Idempotent: the monitor and a command may both get here. */
export function finishContainer(
  paths: StatePaths,
  id: string,
  exit: { exitCode: number | null; finishedAt: Date; oomKilled?: boolean },
): void {
  let record: ContainerRecord;
  try {
    record = readRecord(paths, id);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (record.config.autoRemove) {
    removeRecord(paths, id);
    return;
  }
  if (record.state.status === "exited") return;
  writeState(paths, id, {
    ...record.state,
    status: "exited",
    finishedAt: exit.finishedAt.toISOString(),
    exitCode: exit.exitCode,
    oomKilled: exit.oomKilled ?? false,
  });
}

/** The exit the monitor recorded, or null while there is none. */
export function readExitRecord(dir: string): { finishedAt: Date; exitCode: number | null } | null {
  const exit = readExitSync(dir);
  return exit && { finishedAt: exit.finishedAt, exitCode: exitCodeFromStatus(exit.status) };
}

/** Brings a running record up to date; returns it as it is now (null once --rm removed it). */
export function refresh(paths: StatePaths, record: ContainerRecord): ContainerRecord | null {
  if (record.state.status !== "running") return record;
  const exit = readExitRecord(containerDir(paths, record.config.id));
  if (exit === null) {
    if (isSameProcess(record.state.pid, record.state.pidStartTime)) return record;
    // Just exited, not yet reaped and recorded by its monitor (which is still there to do it).
    const monitor = record.state.monitorPid;
    if (monitor !== null && isMonitorOf(monitor, record.config.id)) return record;
  }
  withLock(
    paths,
    () => finishContainer(paths, record.config.id, exit ?? { exitCode: null, finishedAt: new Date() }),
  );
  return readRecordIfExists(paths, record.config.id);
}

/** Every container, up to date. */
export function currentRecords(paths: StatePaths): ContainerRecord[] {
  return listRecords(paths).map((r) => refresh(paths, r)).filter((r): r is ContainerRecord => r !== null);
}

/** Waits until a container is no longer running; its exit code (null when nobody saw it). */
export async function waitForExit(paths: StatePaths, id: string): Promise<ExitResult> {
  const dir = containerDir(paths, id);
  for (;;) {
    // The exit record is read first: with --rm, the record and its directory go soon after it appears.
    const exit = readExitRecord(dir);
    let record: ContainerRecord | null;
    try {
      record = refresh(paths, readRecord(paths, id));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      record = null;
    }
    if (record === null) return { exitCode: exit?.exitCode ?? null, oomKilled: false };
    if (record.state.status !== "running") {
      return { exitCode: record.state.exitCode, oomKilled: record.state.oomKilled };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Removes the cgroups and network leases of containers that are gone or exited (husk was killed before it
 * could).
 */
export async function collectStale(paths: StatePaths): Promise<void> {
  // Records first brought up to date (a container whose husk was killed becomes "exited"), outside the lock.
  currentRecords(paths);
  await withLockAsync(paths, async () => {
    const live = new Set(
      listRecords(paths).filter((r) => r.state.status !== "exited").map((r) => r.config.id),
    );
    await removeStaleCgroups(live, cgroupOptions(paths));
  });
  await collectStaleLeases(paths);
}
