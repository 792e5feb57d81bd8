/**
 * A detached container (`run -d`): the runtime's child forks a monitor and exits at once (so the monitor
 * belongs to no husk process); the monitor forks the container, reports both pids, then becomes the native
 * monitor program (ffi/x86_64/monitor.S), which copies the container's output into its log and records its
 * exit status after every husk process has gone. All of it is one step list, run without JavaScript.
 */
import { Named, Stack } from "../../ffi/spawn.ts";
import type { ContainerConfig } from "../config/types.ts";
import { CLONE_VM, ERRNO, SIG_SETMASK, SIGCHLD } from "./linux.ts";

const EBADF = ERRNO.EBADF;
import {
  type ChildPlan,
  containerCloneFlags,
  containerSteps,
  type PlanContext,
  receiveSteps,
  type Step,
} from "./plan.ts";

/** What the runtime prepared for the monitor. */
export interface MonitorWiring {
  /** Write end of the pipe on which the monitor reports {monitor pid, container pid} (2 x u64). */
  pidWrite: number;
  /**
   * What the monitor reads: the read ends of the container's stdout and stderr pipes, or, with a terminal,
   * the monitor's end of the socket on which the container sends its terminal's master side.
   */
  output: { stdout: number; stderr: number } | { console: number };
  /** The container's state directory (the log and the exit record go there). */
  dirFd: number;
  /** /dev/null, for the monitor's own stdio. */
  devNull: number;
  monitorPath: string;
  maxLogSize: number;
  /** Run by the monitor after the container exited (records the exit, removes what must go). */
  exitCommand: readonly string[];
  /** The monitor's environment, passed on to the exit command. */
  env: readonly string[];
}

/**
 * With a terminal: the monitor takes the master side the container sends once it holds the slave side
 * (SCM_RIGHTS), and keeps it at `to`.
 */
function receiveTerminal(socket: number, to: number): Step[] {
  const { steps, slots: [slot] } = receiveSteps(socket, "receive the container's terminal");
  return [
    ...steps,
    // The descriptor may already be `to` (the lowest free number), which dup3 refuses with EINVAL: then it
    // is where it should be.
    {
      call: "dup3",
      args: [slot, to, 0],
      loadArg0: true,
      okErrno: ERRNO.EINVAL,
      what: "set aside the terminal",
    },
  ];
}

export function planDetached(config: ContainerConfig, ctx: PlanContext, m: MonitorWiring): ChildPlan {
  const container = containerSteps(config, ctx);
  const slot = new Uint8Array(8);
  const report = (what: string): Step => ({
    call: "write",
    args: [m.pidWrite, slot, 8],
    storeSaved: true,
    positive: true,
    what,
  });
  // Descriptors are moved to 3, 4, 5 and 0-2 through numbers above all of them, so no move clobbers a source.
  const streams = "console" in m.output ? [] : [m.output.stdout, m.output.stderr];
  const sources = [...streams, m.dirFd, m.devNull, ..."console" in m.output ? [m.output.console] : []];
  const spare = Math.max(...sources, 5) + 1;
  const move = (fd: number, to: number, what: string): Step => ({ call: "dup3", args: [fd, to, 0], what });
  const [outAside, errAside, dirAside, nullAside] = [spare, spare + 1, spare + 2, spare + 3];
  const monitorSide: Step[] = [
    report("report the container's pid to the runtime"),
    ...("console" in m.output ? receiveTerminal(m.output.console, outAside) : [
      move(m.output.stdout, outAside, "set aside the container's stdout"),
      move(m.output.stderr, errAside, "set aside the container's stderr"),
    ]),
    move(m.dirFd, dirAside, "set aside the container's directory"),
    move(m.devNull, nullAside, "set aside /dev/null"),
    move(outAside, 3, "the container's output as descriptor 3"),
    "console" in m.output
      ? { call: "close", args: [4], okErrno: EBADF, what: "no second stream: descriptor 4 stays closed" }
      : move(errAside, 4, "the container's stderr as descriptor 4"),
    move(dirAside, 5, "the container's directory as descriptor 5"),
    ...[0, 1, 2].map((fd) => move(nullAside, fd, `/dev/null as descriptor ${fd}`)),
    {
      call: "close_range",
      args: [6, 0xffffffff, 0],
      what: "close every other descriptor (the pipes' write ends)",
    },
    { call: "chdir", args: ["/"], what: "keep no directory of the runtime busy" },
    {
      call: "rt_sigprocmask",
      args: [new Named(SIG_SETMASK, "SIG_SETMASK"), new Uint8Array(8), null, 8],
      what: "unblock every signal",
    },
    {
      call: "execve",
      args: [m.monitorPath, ["husk-monitor", String(m.maxLogSize), ...m.exitCommand], m.env],
      what: `execve the monitor ${m.monitorPath}`,
    },
  ];
  const monitorStart: Step[] = [
    { call: "setsid", args: [], what: "lead a session of its own, away from the runtime's terminal" },
    { call: "getpid", args: [], save: true, what: "learn the monitor's pid" },
    report("report the monitor's pid to the runtime"),
  ];
  // [0] fork of the monitor | the monitor's start | fork of the container | the container's steps |
  // the monitor's steps | the intermediate's exit (where the process that forked the monitor goes on).
  const containerFork = 1 + monitorStart.length;
  const monitorRest = containerFork + 1 + container.length;
  const intermediateExit = monitorRest + monitorSide.length;
  const steps: Step[] = [
    {
      call: "clone",
      args: [new Named(SIGCHLD | CLONE_VM, "SIGCHLD|CLONE_VM"), new Stack(), 0, 0, 0],
      parentContinuesAt: intermediateExit,
      what: "fork the monitor",
    },
    ...monitorStart,
    {
      call: "clone",
      args: [
        new Named(containerCloneFlags(config) | BigInt(CLONE_VM), "namespaces|SIGCHLD|CLONE_VM"),
        new Stack(),
        0,
        0,
        0,
      ],
      parentContinuesAt: monitorRest,
      what: "fork the container",
    },
    ...container,
    ...monitorSide,
    { call: "exit_group", args: [0], what: "leave the monitor to init" },
  ];
  return { cloneFlags: BigInt(SIGCHLD), steps };
}
