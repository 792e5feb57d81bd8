/**
 * A detached container (`run -d`): the runtime's child forks a monitor and exits at once (so the monitor
 * belongs to no husk process); the monitor forks the container, reports both pids, then becomes the native
 * monitor program (ffi/x86_64/monitor.S), which copies the container's output into its log and records its
 * exit status after every husk process has gone. All of it is one step list, run without JavaScript.
 */
import { Named, Stack } from "../../ffi/spawn.ts";
import type { ContainerConfig } from "../config/types.ts";
import { CLONE_VM, SIG_SETMASK, SIGCHLD } from "./linux.ts";
import { type ChildPlan, containerCloneFlags, containerSteps, type PlanContext, type Step } from "./plan.ts";

/** What the runtime prepared for the monitor. */
export interface MonitorWiring {
  /** Write end of the pipe on which the monitor reports {monitor pid, container pid} (2 x u64). */
  pidWrite: number;
  /** Read ends of the container's stdout and stderr pipes. */
  stdoutRead: number;
  stderrRead: number;
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
  const sources = [m.stdoutRead, m.stderrRead, m.dirFd, m.devNull];
  const spare = Math.max(...sources, 5) + 1;
  const move = (fd: number, to: number, what: string): Step => ({ call: "dup3", args: [fd, to, 0], what });
  const monitorSide: Step[] = [
    report("report the container's pid to the runtime"),
    ...sources.map((fd, i) => move(fd, spare + i, `set aside descriptor ${fd}`)),
    move(spare, 3, "the container's stdout as descriptor 3"),
    move(spare + 1, 4, "the container's stderr as descriptor 4"),
    move(spare + 2, 5, "the container's directory as descriptor 5"),
    ...[0, 1, 2].map((fd) => move(spare + 3, fd, `/dev/null as descriptor ${fd}`)),
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
