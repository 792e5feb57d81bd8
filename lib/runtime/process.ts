/**
 * Starts a container's first process from its config: prepares the pipes, plans the child's steps, clones,
 * lets the caller set up what needs the pid (cgroups, id maps, network), releases the child and learns
 * whether execve succeeded. Anything that fails is undone before the error is thrown.
 */
import { closeFds, pipe, readFull, receiveFd, socketPair, writeAll } from "../../ffi/fd.ts";
import { strerror } from "../../ffi/libc.ts";
import { kill, waitPid } from "../../ffi/process.ts";
import { spawn } from "../../ffi/spawn.ts";
import type { ContainerConfig } from "../config/types.ts";
import { ExitCode, StartError } from "../errors.ts";
import { type FsView, hostFs } from "../rootfs/resolve.ts";
import { ERRNO, SIGKILL } from "../spawn/linux.ts";
import { type ChildPlan, planChild, type Step, type Wiring } from "../spawn/plan.ts";

export interface ContainerProcess {
  pid: number;
  /** The master side of the container's terminal (with process.terminal). */
  console: number | null;
}

export interface StartOptions {
  /** Runs after the clone and before the child may go on: join cgroups, write id maps, move interfaces. */
  prepare?: (pid: number) => void | Promise<void>;
  fs?: FsView;
}

/** The signals this process ignores (an ignored disposition would survive execve into the container). */
export function ignoredSignals(): number[] {
  const status = Deno.readTextFileSync("/proc/self/status");
  const mask = BigInt("0x" + (status.match(/^SigIgn:\s*([0-9a-f]+)$/m)?.[1] ?? "0"));
  const signals: number[] = [];
  for (let sig = 1; sig <= 64; sig++) if ((mask >> BigInt(sig - 1)) & 1n) signals.push(sig);
  return signals;
}

/** The plan with placeholder descriptors, for `--dry-run`. */
export function dryRunPlan(config: ContainerConfig, fs: FsView): ChildPlan {
  const wiring: Wiring = {
    syncRead: 3,
    syncWrite: 4,
    errRead: 5,
    console: config.process.terminal ? { child: 6, parent: 7 } : undefined,
  };
  return planChild(config, { wiring, ignoredSignals: ignoredSignals(), fs });
}

/** Plans and stacks of children that have not called execve yet: referenced here so they are not collected. */
const sharedWithChildren = new Set<ArrayBuffer>();

export async function startContainerProcess(
  config: ContainerConfig,
  options: StartOptions = {},
): Promise<ContainerProcess> {
  const [syncRead, syncWrite] = pipe();
  const [errRead, errWrite] = pipe();
  const [consoleParent, consoleChild] = config.process.terminal ? socketPair() : [null, null];
  const wiring: Wiring = {
    syncRead,
    syncWrite,
    errRead,
    console: consoleParent === null ? undefined : { parent: consoleParent, child: consoleChild! },
  };
  let pid: number;
  let plan: ChildPlan;
  let memory: ArrayBuffer;
  try {
    plan = planChild(config, { wiring, ignoredSignals: ignoredSignals(), fs: options.fs ?? hostFs });
    ({ pid, memory } = spawn(plan.cloneFlags, plan.steps, errWrite));
    sharedWithChildren.add(memory);
  } catch (e) {
    closeFds(syncRead, syncWrite, errRead, errWrite, consoleParent, consoleChild);
    throw e;
  }
  closeFds(syncRead, errWrite, consoleChild);
  let consoleFd: number | null = null;
  try {
    await options.prepare?.(pid);
    try {
      writeAll(syncWrite, new Uint8Array([1]));
    } catch {
      // The child is already gone; its error report (or its exit status) tells why.
    }
    closeFds(syncWrite);
    if (consoleParent !== null) consoleFd = receiveFd(consoleParent);
    const report = new Uint8Array(8);
    const got = await readFull(errRead, report);
    if (got === 8) {
      const view = new DataView(report.buffer);
      throw stepError(plan.steps[view.getUint32(0, true)], view.getUint32(4, true));
    }
    if (consoleParent !== null && consoleFd === null) {
      throw new StartError("the container sent no terminal", "sendmsg", 0);
    }
    return { pid, console: consoleFd };
  } catch (e) {
    kill(pid, SIGKILL);
    await waitPid(pid);
    closeFds(consoleFd);
    throw e;
  } finally {
    // The child has called execve or is gone: it no longer uses the memory it shared with us.
    sharedWithChildren.delete(memory);
    closeFds(syncWrite, errRead, consoleParent);
  }
}

/** The error for a failed step, with Docker's exit codes for a command that cannot be run. */
export function stepError(step: Step | undefined, errno: number): StartError {
  if (!step) return new StartError(`the container's start failed (errno ${errno})`, "unknown", errno);
  const reason = errno === 0 ? "unexpected end of file" : strerror(errno);
  if (step.exec) {
    const path = step.args[0] as string;
    if (errno === ERRNO.ENOENT) {
      const message = step.exec.searched
        ? `exec: "${step.exec.command}": executable file not found in $PATH`
        : `exec ${path}: no such file in the root filesystem`;
      return new StartError(message, step.what, errno, ExitCode.NotFound);
    }
    return new StartError(`exec ${path}: ${reason.toLowerCase()}`, step.what, errno, ExitCode.CannotExecute);
  }
  return new StartError(`${step.what}: ${reason}`, step.what, errno);
}
