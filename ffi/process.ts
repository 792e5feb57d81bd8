/** Waiting for and signalling the runtime's own children, per pid (never waitpid(-1): Deno has children too). */
import { SysError } from "./libc.ts";
import { syscall, syscallAsync } from "./native.ts";

const EINTR = 4, ESRCH = 3;

/** How a process ended: its exit code, or the signal that killed it. */
export type WaitStatus = { exited: true; code: number } | { exited: false; signal: number };

export function decodeWaitStatus(status: number): WaitStatus {
  const signal = status & 0x7f;
  return signal === 0 ? { exited: true, code: (status >> 8) & 0xff } : { exited: false, signal };
}

/** Waits for child `pid` on a worker thread, so the event loop keeps forwarding signals and terminal I/O. */
export async function waitPid(pid: number): Promise<WaitStatus> {
  const status = new Int32Array(1);
  for (;;) {
    const r = await syscallAsync("wait4", pid, Deno.UnsafePointer.of(status), 0, 0);
    if (r === pid) return decodeWaitStatus(status[0]);
    if (r !== -EINTR) throw new SysError(`waitpid ${pid}`, -r);
  }
}

/** Sends a signal; false when the process is already gone. */
export function kill(pid: number, signal: number): boolean {
  const r = syscall("kill", pid, signal);
  if (r === 0) return true;
  const e = -r;
  if (e === ESRCH) return false;
  throw new SysError(`kill ${pid}`, e);
}
