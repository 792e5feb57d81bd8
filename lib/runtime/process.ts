/**
 * Starts a container's first process from its config: prepares the pipes, plans the child's steps, clones,
 * lets the caller set up what needs the pid (cgroups, id maps, network), releases the child and learns
 * whether execve succeeded. Anything that fails is undone before the error is thrown.
 *
 * Foreground: this process is the container's parent, the container dies with it and shares its stdio.
 * Detached: a native monitor is the container's parent and keeps its log and exit status (lib/spawn/detached.ts).
 */
import { closeFds, openFd, pipe, readFull, receiveFd, sendFds, socketPair, writeAll } from "../../ffi/fd.ts";
import { strerror } from "../../ffi/libc.ts";
import { kill, waitPid } from "../../ffi/process.ts";
import { spawn } from "../../ffi/spawn.ts";
import type { ContainerConfig } from "../config/types.ts";
import { ExitCode, StartError } from "../errors.ts";
import { type FsView, hostFs } from "../rootfs/resolve.ts";
import { type MonitorWiring, planDetached } from "../spawn/detached.ts";
import { waitUntilGone } from "../state/liveness.ts";
import { sendIdmappedRoot, writeIdMaps } from "./userns.ts";
import { type ExecWiring, JOIN_ORDER, planExec } from "../spawn/exec.ts";
import { syscall } from "../../ffi/native.ts";
import { ERRNO, SIGKILL } from "../spawn/linux.ts";
import { type ChildPlan, planChild, type Step, type Wiring } from "../spawn/plan.ts";
import type { InterfaceSetup } from "../spawn/network.ts";

export interface ContainerProcess {
  pid: number;
  /** The master side of the container's terminal (foreground, with process.terminal). */
  console: number | null;
  /** The monitor's pid (detached). */
  monitorPid: number | null;
}

/** How a detached container's monitor is set up. */
export interface MonitorOptions {
  monitorPath: string;
  /** The container's state directory: its log and exit record are written there. */
  dir: string;
  maxLogSize: number;
  exitCommand: readonly string[];
  env: readonly string[];
}

export interface StartOptions {
  /**
   * The files through which the child moves itself into its cgroup (lib/cgroups' selfJoinFiles()): opened
   * after `prepare`, which makes the cgroup, and sent to the child with the go-ahead.
   */
  cgroupFiles?: readonly string[];
  /** Runs after the clone and before the child may go on: make the cgroup, write id maps, move interfaces. */
  prepare?: (pid: number) => void | Promise<void>;
  /**
   * Runs once the child has its go-ahead, while it goes on to its execve (so the work costs no time): it
   * may record the container as running. Should the execve then fail, the start throws all the same.
   */
  released?: (pid: number, monitorPid: number | null) => void;
  fs?: FsView;
  /** Start detached, under a monitor. */
  detached?: MonitorOptions;
  /** Where chowned copies of root filesystems are kept, for file systems that cannot be id-mapped. */
  usernsCopies?: string;
  /** The root filesystem's owners are already in the user namespace's range (an image's chowned layers). */
  rootShifted?: boolean;
  /** The network namespace to join (another container's), instead of a new one. */
  netnsPath?: string;
  /** On a bridge network: eth0's address and gateway (the caller's `prepare` moves eth0 in). */
  eth0?: InterfaceSetup;
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
export function dryRunPlan(
  config: ContainerConfig,
  fs: FsView,
  detached?: MonitorOptions,
  eth0?: InterfaceSetup,
  cgroupFiles: readonly string[] = [],
): ChildPlan {
  const wiring: Wiring = {
    syncRead: 3,
    syncWrite: 4,
    errRead: 5,
    console: config.process.terminal ? { child: 6, parent: 7 } : undefined,
    output: detached && !config.process.terminal ? { stdout: 8, stderr: 9 } : undefined,
    dieWithParent: !detached,
    netns: config.network.mode === "container" ? 15 : undefined,
    cgroup: cgroupFiles,
  };
  const ctx = { wiring, ignoredSignals: ignoredSignals(), fs, eth0 };
  if (!detached) return planChild(config, ctx);
  const output = config.process.terminal ? { console: 7 } : { stdout: 11, stderr: 12 };
  const monitor = { pidWrite: 10, output, dirFd: 13, devNull: 14, ...detached };
  return planDetached(config, ctx, monitor);
}

/** Plans and stacks of children that have not called execve yet: referenced here so they are not collected. */
const sharedWithChildren = new Set<ArrayBuffer>();

/** The go-ahead's channel, [read end, write end]: a socket when it carries the cgroup files, else a pipe. */
function syncChannel(cgroupFiles: readonly string[]): [number, number] {
  return cgroupFiles.length > 0 ? socketPair() : pipe();
}

/** Descriptors opened for one start; all closed on every path. */
class Descriptors {
  #fds: number[] = [];
  add<T extends number[]>(...fds: T): T {
    this.#fds.push(...fds);
    return fds;
  }
  /** Closes `fds` now (the child has its copies). */
  close(...fds: (number | null)[]): void {
    for (const fd of fds) {
      if (fd === null) continue;
      closeFds(fd);
      this.#fds = this.#fds.filter((f) => f !== fd);
    }
  }
  closeAll(): void {
    closeFds(...this.#fds);
    this.#fds = [];
  }
}

export async function startContainerProcess(
  config: ContainerConfig,
  options: StartOptions = {},
): Promise<ContainerProcess> {
  const fds = new Descriptors();
  try {
    const cgroupFiles = options.cgroupFiles ?? [];
    const [syncRead, syncWrite] = fds.add(...syncChannel(cgroupFiles));
    const [errRead, errWrite] = fds.add(...pipe());
    const detached = options.detached;
    // The container sends its terminal's master side to this process, or, detached, to its monitor.
    const terminal = config.process.terminal;
    const [consoleParent, consoleChild] = terminal ? fds.add(...socketPair()) : [null, null];
    const pipes = detached && !terminal;
    const [stdoutRead, stdoutWrite] = pipes ? fds.add(...pipe()) : [null, null];
    const [stderrRead, stderrWrite] = pipes ? fds.add(...pipe()) : [null, null];
    const [pidRead, pidWrite] = detached ? fds.add(...pipe()) : [null, null];
    const [rootfsParent, rootfsChild] = config.userns ? fds.add(...socketPair()) : [null, null];
    const [netns] = options.netnsPath ? fds.add(openFd(options.netnsPath, O_RDONLY)) : [null];
    const wiring: Wiring = {
      syncRead,
      syncWrite,
      errRead,
      console: consoleParent === null ? undefined : { parent: consoleParent, child: consoleChild! },
      output: pipes ? { stdout: stdoutWrite!, stderr: stderrWrite! } : undefined,
      dieWithParent: !detached,
      rootfsSocket: rootfsParent === null ? undefined : { parent: rootfsParent, child: rootfsChild! },
      netns: netns ?? undefined,
      cgroup: cgroupFiles,
    };
    const ctx = { wiring, ignoredSignals: ignoredSignals(), fs: options.fs ?? hostFs, eth0: options.eth0 };
    // With a user namespace, the id maps and the id-mapped root come before anything else the child needs.
    const prepare = async (pid: number) => {
      if (config.userns) {
        writeIdMaps(pid, config.userns);
        if (!options.usernsCopies) {
          throw new StartError("a user namespace needs a place for rootfs copies", "userns", 0);
        }
        await sendIdmappedRoot(
          pid,
          config.root.path,
          rootfsParent!,
          config.userns,
          options.usernsCopies,
          options.rootShifted,
        );
      }
      await options.prepare?.(pid);
    };
    let plan: ChildPlan;
    let monitorFds: number[] = [];
    if (detached) {
      const [dirFd] = fds.add(openFd(detached.dir, O_DIRECTORY));
      const [devNull] = fds.add(openFd("/dev/null", O_RDWR));
      const monitor: MonitorWiring = {
        pidWrite: pidWrite!,
        output: terminal ? { console: consoleParent! } : { stdout: stdoutRead!, stderr: stderrRead! },
        dirFd,
        devNull,
        ...detached,
      };
      plan = planDetached(config, ctx, monitor);
      const handedOver = terminal ? [consoleParent] : [stdoutRead, stderrRead, stdoutWrite, stderrWrite];
      monitorFds = [pidWrite!, dirFd, devNull, ...handedOver.map((fd) => fd!)];
    } else {
      plan = planChild(config, ctx);
    }
    const { pid: child, memory } = spawn(plan.cloneFlags, plan.steps, errWrite);
    sharedWithChildren.add(memory);
    try {
      fds.close(syncRead, errWrite, consoleChild, rootfsChild, netns, ...monitorFds);
      let pid = child;
      let monitorPid: number | null = null;
      if (detached) {
        // The intermediate exits at once; the monitor reports its pid and the container's.
        const pids = new BigUint64Array(2);
        const got = await readFull(pidRead!, new Uint8Array(pids.buffer));
        await waitPid(child);
        if (got !== 16) throw await failure(errRead, plan.steps, "the monitor did not start");
        [monitorPid, pid] = [Number(pids[0]), Number(pids[1])];
      }
      // A monitor must not record a container that never ran: it goes first, then the container.
      const abort = () => {
        if (monitorPid !== null) kill(monitorPid, SIGKILL);
        kill(pid, SIGKILL);
      };
      try {
        const io = { syncWrite, errRead, consoleParent: detached ? null : consoleParent, cgroupFiles };
        const released = options.released && (() => options.released!(pid, monitorPid));
        const consoleFd = await release(pid, plan, io, fds, abort, { prepare, released });
        return { pid, console: consoleFd, monitorPid };
      } catch (e) {
        abort();
        if (monitorPid === null) {
          await waitPid(pid);
        } else {
          // Not our children: wait until they no longer run, for they may still read the memory we share.
          await waitUntilGone(monitorPid);
          await waitUntilGone(pid);
        }
        throw e;
      }
    } finally {
      // The children have called execve or are gone: they no longer use the memory they shared with us.
      sharedWithChildren.delete(memory);
    }
  } finally {
    fds.closeAll();
  }
}

const O_RDWR = 2, O_DIRECTORY = 0o200000, O_RDONLY = 0, O_WRONLY = 1;
const PR_SET_CHILD_SUBREAPER = 36;

/**
 * Starts `process` (a container config carrying the exec's command, user, env...) inside the running
 * container whose first process is `containerPid`. Returns the new process, this process's child.
 */
export async function startExecProcess(
  process: ContainerConfig,
  containerPid: number,
  /** As for startContainerProcess: the container's cgroup, which the new process joins itself. */
  options: Pick<StartOptions, "cgroupFiles"> = {},
): Promise<ContainerProcess> {
  // The new process is forked by an intermediate that exits: as a subreaper, this process adopts it.
  const set = syscall("prctl", PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (set < 0) throw new StartError(`prctl(PR_SET_CHILD_SUBREAPER): ${strerror(-set)}`, "prctl", -set);
  const fds = new Descriptors();
  try {
    const cgroupFiles = options.cgroupFiles ?? [];
    const [syncRead, syncWrite] = fds.add(...syncChannel(cgroupFiles));
    const [errRead, errWrite] = fds.add(...pipe());
    const [pidRead, pidWrite] = fds.add(...pipe());
    const [consoleParent, consoleChild] = process.process.terminal ? fds.add(...socketPair()) : [null, null];
    const namespaces: ExecWiring["namespaces"] = {};
    for (const [ns, name] of JOIN_ORDER) {
      if (process.namespaces.includes(ns)) {
        [namespaces[ns]] = fds.add(openFd(`/proc/${containerPid}/ns/${name}`, O_RDONLY));
      }
    }
    const [rootFd] = fds.add(openFd(`/proc/${containerPid}/root`, O_DIRECTORY));
    const wiring: ExecWiring = {
      syncRead,
      syncWrite,
      errRead,
      console: consoleParent === null ? undefined : { parent: consoleParent, child: consoleChild! },
      dieWithParent: false,
      namespaces,
      rootFd,
      pidWrite,
      cgroup: cgroupFiles,
    };
    // Paths are resolved in the container's file system as /proc/PID/root shows it.
    const inside = { ...process, root: { path: `/proc/${containerPid}/root` } };
    const plan = planExec(inside, { wiring, ignoredSignals: ignoredSignals(), fs: hostFs });
    // setns into a user namespace refuses a process that shares its memory: the intermediate is forked then.
    const { pid: intermediate, memory } = spawn(plan.cloneFlags, plan.steps, errWrite, !namespaces.user);
    sharedWithChildren.add(memory);
    try {
      fds.close(syncRead, errWrite, consoleChild, pidWrite, rootFd, ...Object.values(namespaces));
      const pidBytes = new BigUint64Array(1);
      const got = await readFull(pidRead, new Uint8Array(pidBytes.buffer));
      // Reaped, so the new process has been reparented to this one before anything waits for it.
      await waitPid(intermediate);
      if (got !== 8) throw await failure(errRead, plan.steps, "the process could not join the container");
      const pid = Number(pidBytes[0]);
      const abort = () => kill(pid, SIGKILL);
      try {
        const consoleFd = await release(
          pid,
          plan,
          { syncWrite, errRead, consoleParent, cgroupFiles },
          fds,
          abort,
        );
        return { pid, console: consoleFd, monitorPid: null };
      } catch (e) {
        abort();
        await waitPid(pid);
        throw e;
      }
    } finally {
      sharedWithChildren.delete(memory);
    }
  } finally {
    fds.closeAll();
  }
}

/**
 * Runs `prepare` (cgroups...) for the child, lets it go on, and learns whether it reached execve: returns the
 * master of its terminal (when it has one), or throws the error of the step that failed.
 */
async function release(
  pid: number,
  plan: ChildPlan,
  io: { syncWrite: number; errRead: number; consoleParent: number | null; cgroupFiles?: readonly string[] },
  fds: Descriptors,
  /** Kills the child (and a monitor, first). */
  abort: () => void,
  { prepare, released }: { prepare?: (pid: number) => void | Promise<void>; released?: () => void } = {},
): Promise<number | null> {
  let cgroupFds: number[] = [];
  try {
    await prepare?.(pid);
    cgroupFds = fds.add(...(io.cgroupFiles ?? []).map((file) => openFd(file, O_WRONLY)));
  } catch (e) {
    // The child may have failed a step (and exited) while the parent prepared: that failure is the cause.
    // Killed first, a child still waiting for the go-ahead cannot report the end of the sync pipe instead.
    abort();
    fds.close(io.syncWrite);
    const report = await readReport(io.errRead);
    throw report ? stepError(plan.steps[report.step], report.errno) : e;
  }
  try {
    if (cgroupFds.length > 0) sendFds(io.syncWrite, cgroupFds);
    else writeAll(io.syncWrite, new Uint8Array([1]));
  } catch {
    // The child is already gone; its error report (or its exit status) tells why.
  }
  fds.close(io.syncWrite, ...cgroupFds);
  released?.();
  const consoleFd = io.consoleParent === null ? null : receiveFd(io.consoleParent);
  const report = await readReport(io.errRead);
  if (report) {
    closeFds(consoleFd);
    throw stepError(plan.steps[report.step], report.errno);
  }
  if (io.consoleParent !== null && consoleFd === null) {
    throw new StartError("the container sent no terminal", "sendmsg", 0);
  }
  return consoleFd;
}

async function readReport(errRead: number): Promise<{ step: number; errno: number } | null> {
  const report = new Uint8Array(8);
  if (await readFull(errRead, report) !== 8) return null;
  const view = new DataView(report.buffer);
  return { step: view.getUint32(0, true), errno: view.getUint32(4, true) };
}

/** The error the child reported, or `fallback` when it reported none. */
async function failure(errRead: number, steps: readonly Step[], fallback: string): Promise<Error> {
  const report = await readReport(errRead);
  return report ? stepError(steps[report.step], report.errno) : new StartError(fallback, "monitor", 0);
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
