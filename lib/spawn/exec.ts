/**
 * `husk exec`: a new process in a running container. An intermediate joins the container's namespaces
 * (setns: mount last, since it changes what paths mean), takes the container's root, and forks, so the new
 * process is really inside the container's PID namespace; the intermediate reports its pid and exits, and
 * the new process, reparented to the runtime (a child subreaper), waits for the go-ahead, then execs.
 */
import { Named, Stack } from "../../ffi/spawn.ts";
import type { ContainerConfig, Namespace } from "../config/types.ts";
import type { FsView } from "../rootfs/resolve.ts";
import { CLONE, CLONE_VM, SIGCHLD } from "./linux.ts";
import {
  type ChildPlan,
  execSteps,
  processSteps,
  stdioSteps,
  type Step,
  syncSteps,
  type Wiring,
} from "./plan.ts";

/** The container's namespaces as the kernel names them under /proc/PID/ns, in the order they are joined. */
export const JOIN_ORDER: readonly [Namespace, string, number][] = [
  // The user namespace first: it gives the rights to join the others.
  ["user", "user", CLONE.NEWUSER],
  ["ipc", "ipc", CLONE.NEWIPC],
  ["uts", "uts", CLONE.NEWUTS],
  ["network", "net", CLONE.NEWNET],
  ["cgroup", "cgroup", CLONE.NEWCGROUP],
  ["pid", "pid", CLONE.NEWPID],
  ["mount", "mnt", CLONE.NEWNS],
];

export interface ExecWiring extends Wiring {
  /** Descriptors of /proc/PID/ns/* of the container's first process, by namespace. */
  namespaces: Partial<Record<Namespace, number>>;
  /** /proc/PID/root of the container's first process. */
  rootFd: number;
  /** Write end of the pipe on which the intermediate reports the new process's pid. */
  pidWrite: number;
}

export interface ExecContext {
  wiring: ExecWiring;
  ignoredSignals: readonly number[];
  /** The container's file system, seen through /proc/PID/root. */
  fs: FsView;
}

/** `process` is the container's config with the exec's command, env, user, workdir and terminal. */
export function planExec(process: ContainerConfig, ctx: ExecContext): ChildPlan {
  const w = ctx.wiring;
  const joins: Step[] = JOIN_ORDER.filter(([ns]) => w.namespaces[ns] !== undefined).map((
    [ns, name, flag],
  ) => ({
    call: "setns",
    args: [
      w.namespaces[ns]!,
      new Named(flag, ns === "mount" ? "CLONE_NEWNS" : `CLONE_NEW${name.toUpperCase()}`),
    ],
    what: `join the container's ${name} namespace`,
  }));
  const inside: Step[] = [
    ...syncSteps(w),
    ...stdioSteps(process, w),
    ...processSteps(process, [], ctx.fs, ctx.ignoredSignals),
    ...execSteps(process, [], ctx.fs),
  ];
  const before: Step[] = [
    { call: "close", args: [w.syncWrite], what: "close the parent's end of the sync pipe" },
    { call: "close", args: [w.errRead], what: "close the parent's end of the error pipe" },
    ...(w.console
      ? [{ call: "close" as const, args: [w.console.parent], what: "close the parent's console socket" }]
      : []),
    ...joins,
    { call: "fchdir", args: [w.rootFd], what: "enter the container's root" },
    { call: "chroot", args: ["."], what: "take the container's root as the root" },
  ];
  const fork = before.length;
  const report = fork + 1 + inside.length;
  const steps: Step[] = [
    ...before,
    {
      call: "clone",
      args: [new Named(SIGCHLD | CLONE_VM, "SIGCHLD|CLONE_VM"), new Stack(), 0, 0, 0],
      parentContinuesAt: report,
      what: "fork the process inside the container's PID namespace",
    },
    ...inside,
    {
      call: "write",
      args: [w.pidWrite, new Uint8Array(8), 8],
      storeSaved: true,
      positive: true,
      what: "report its pid",
    },
    { call: "exit_group", args: [0], what: "leave it to the runtime" },
  ];
  return { cloneFlags: BigInt(SIGCHLD), steps };
}
