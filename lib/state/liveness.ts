/**
 * Is a recorded process still the one we started? A pid alone can be reused after the process ends, so the
 * process's start time (field 22 of /proc/PID/stat, clock ticks since boot) is recorded with it and checked.
 */

import type { ContainerRecord } from "./store.ts";

/** The start time of `pid`, or null when there is no such process. */
export function processStartTime(pid: number): number | null {
  if (!(pid > 0)) return null;
  try {
    return parseStartTime(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    // Gone: ENOENT, or ESRCH while it exits.
    return null;
  }
}

/** Field 22 of a /proc/PID/stat line (the command name in field 2 may contain spaces and parentheses). */
export function parseStartTime(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const value = Number(fields[22 - 3]);
  return Number.isFinite(value) ? value : null;
}

/** True when `pid` runs and is the process that started at `startTime`. */
export function isSameProcess(pid: number, startTime: number | null): boolean {
  const now = processStartTime(pid);
  if (now === null) return false;
  // A zombie keeps its pid until reaped but is no longer running.
  if (isZombie(pid)) return false;
  return startTime === null || now === startTime;
}

/** Whether a container's record says it runs and its recorded process is still that one. */
export function isRunning(record: ContainerRecord): boolean {
  return record.state.status === "running" && isSameProcess(record.state.pid, record.state.pidStartTime);
}

function isZombie(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return true;
  }
}

/**
 * True while a detached container's monitor runs: its pid was recorded without a start time, so the container's
 * ID in its command line (`husk-monitor ... ID`, then `husk cleanup ID`) tells it from a later process.
 */
export function isMonitorOf(pid: number, id: string): boolean {
  if (!isSameProcess(pid, null)) return false;
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").includes(id);
  } catch {
    return false;
  }
}

/** Waits until `alive()` is false, checking every `intervalMs`. */
export async function waitWhile(alive: () => boolean, intervalMs: number): Promise<void> {
  while (alive()) await new Promise((r) => setTimeout(r, intervalMs));
}

/** Waits until `pid` has ended (a zombie runs no more code). */
export function waitUntilGone(pid: number): Promise<void> {
  return waitWhile(() => isSameProcess(pid, null), 1);
}
