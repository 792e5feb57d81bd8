/**
 * Operations on existing containers: signal, stop, remove, start again. Each checks that the recorded pid is
 * still the process that was started (pid and start time) before signalling it: a recycled pid is never hit.
 */
import { kill as killPid } from "../../ffi/process.ts";
import type { ContainerConfig } from "../config/types.ts";
import { StateError } from "../errors.ts";
import { SIGKILL } from "../spawn/linux.ts";
import { isSameProcess } from "../state/liveness.ts";
import type { StatePaths } from "../state/paths.ts";
import { type ContainerRecord, removeRecord, withLock } from "../state/store.ts";
import { type Container, startCreated } from "./container.ts";
import { refresh, waitForExit } from "./status.ts";

export const SIGTERM = 15;

export function isRunning(record: ContainerRecord): boolean {
  return record.state.status === "running" && isSameProcess(record.state.pid, record.state.pidStartTime);
}

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
  if (isRunning(record)) {
    if (!force) {
      throw new StateError(
        `cannot remove container ${
          short(record)
        }: it is running; stop it first, or use rm -f to kill and remove it`,
      );
    }
    killPid(record.state.pid, SIGKILL);
    await waitForExit(paths, record.config.id);
  }
  await withLock(paths, () => removeRecord(paths, record.config.id));
}

/** Starts a container that is not running, detached (as `docker start` does). */
export async function restartContainer(paths: StatePaths, record: ContainerRecord): Promise<Container> {
  const current = refresh(paths, record);
  if (current === null) throw new StateError(`no such container: ${short(record)}`);
  if (isRunning(current)) {
    return Promise.reject(new StateError(`container ${short(record)} is already running`));
  }
  return await startCreated(paths, current.config as ContainerConfig, true);
}
