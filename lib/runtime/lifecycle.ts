/**
 * Operations on existing containers: signal, stop, remove, start again. Each checks that the recorded pid is
 * still the process that was started (pid and start time) before signalling it: a recycled pid is never hit.
 */
import { kill as killPid } from "../../ffi/process.ts";
import type { ContainerConfig } from "../config/types.ts";
import { StateError } from "../errors.ts";
import { SIGKILL } from "../spawn/linux.ts";
import { isMonitorOf, isRunning, waitWhile } from "../state/liveness.ts";
import type { StatePaths } from "../state/paths.ts";
import {
  type ContainerRecord,
  readRecord,
  readRecordIfExists,
  removeRecord,
  withLock,
  writeState,
} from "../state/store.ts";
import { type Container, startCreated } from "./container.ts";
import { refresh, waitForExit } from "./status.ts";

export const SIGTERM = 15;

const short = (r: ContainerRecord) => r.config.id.slice(0, 12);

/** Sends `signal` to the container's first process; an error when it is not running. */
export function signalContainer(record: ContainerRecord, signal: number): void {
  if (!isRunning(record) || !killPid(record.state.pid, signal)) {
    throw new StateError(`cannot kill container ${short(record)}: it is not running`);
  }
}

/**
 * SIGTERM, then SIGKILL after `timeoutSeconds` (Docker's default is 10), then waits until the exit is
 * recorded. A container that is not running is left as it is.
 */
export async function stopContainer(
  paths: StatePaths,
  record: ContainerRecord,
  timeoutSeconds = 10,
): Promise<void> {
  if (!isRunning(record)) return;
  markManualStop(paths, record);
  killPid(record.state.pid, SIGTERM);
  const exited = waitForExit(paths, record.config.id);
  const deadline = new Promise<"timeout">((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), Math.max(0, timeoutSeconds) * 1000);
    exited.finally(() => clearTimeout(timer));
  });
  if (await Promise.race([exited, deadline]) === "timeout" && isRunning(record)) {
    killPid(record.state.pid, SIGKILL);
  }
  await exited;
}

/** Removes a container's record; a running one only with `force` (it is killed first). */
export async function removeContainer(
  paths: StatePaths,
  record: ContainerRecord,
  force: boolean,
): Promise<void> {
  const { id } = record.config;
  const running = isRunning(record);
  if (running && !force) {
    throw new StateError(
      `cannot remove container ${
        short(record)
      }: it is running; stop it first, or use rm -f to kill and remove it`,
    );
  }
  const monitor = record.state.monitorPid;
  const monitorRuns = () => monitor !== null && isMonitorOf(monitor, id);
  // A monitor still running may be about to restart the container: the mark tells it not to.
  if (running || monitorRuns()) markManualStop(paths, record);
  if (running) {
    killPid(record.state.pid, SIGKILL);
    await waitForExit(paths, id);
  }
  // The monitor (by now `husk cleanup`) records the exit: once the record is gone it would write into a
  // directory being removed, so husk waits for it, as `docker rm -f` returns once everything has stopped.
  await waitWhile(monitorRuns, 5);
  withLock(paths, () => removeRecord(paths, id));
}

/** Records that a user stopped the container, so that its restart policy leaves it stopped. */
function markManualStop(paths: StatePaths, record: ContainerRecord): void {
  withLock(paths, () => {
    const current = readRecord(paths, record.config.id);
    writeState(paths, record.config.id, { ...current.state, manualStop: true });
  });
}

/** Whether a detached container that just exited must be started again, by its restart policy. */
export function shouldRestart(record: ContainerRecord): boolean {
  const { restartPolicy } = record.config;
  const { state } = record;
  if (!state.detached || state.manualStop || state.status !== "exited") return false;
  switch (restartPolicy.name) {
    case "no":
      return false;
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure":
      return state.exitCode !== 0 &&
        (restartPolicy.maximumRetryCount === 0 || state.restartCount < restartPolicy.maximumRetryCount);
  }
}

/** Docker's back-off before a restart: 100 ms, doubling, at most a minute. */
export function restartDelay(restartCount: number): number {
  return Math.min(100 * 2 ** restartCount, 60_000);
}

/**
 * Sleeps through the restart delay of a container that just exited; ends early when a stop or rm makes the
 * restart moot. Returns the record as it then is (null once removed).
 */
export async function afterRestartDelay(paths: StatePaths, id: string): Promise<ContainerRecord | null> {
  const first = readRecordIfExists(paths, id);
  if (first === null) return null;
  const end = Date.now() + restartDelay(first.state.restartCount);
  for (let record: ContainerRecord | null = first;; record = readRecordIfExists(paths, id)) {
    if (record === null || !shouldRestart(record) || Date.now() >= end) return record;
    await new Promise((r) => setTimeout(r, Math.min(20, end - Date.now())));
  }
}

/** Starts a container that is not running, detached (as `docker start` does). */
export async function restartContainer(
  paths: StatePaths,
  record: ContainerRecord,
  restartCount = 0,
): Promise<Container> {
  const current = refresh(paths, record);
  if (current === null) throw new StateError(`no such container: ${short(record)}`);
  if (isRunning(current)) {
    return Promise.reject(new StateError(`container ${short(record)} is already running`));
  }
  return await startCreated(paths, current.config as ContainerConfig, true, restartCount);
}
