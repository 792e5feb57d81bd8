import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Named, Stack } from "../../ffi/spawn.ts";
import type { RunOptions } from "../config/options.ts";
import { testConfig } from "../config/testing.ts";
import type { ContainerConfig, Namespace } from "../config/types.ts";
import { HuskError } from "../errors.ts";
import { FakeFs } from "../rootfs/fake_fs.ts";
import { type ExecWiring, JOIN_ORDER, planExec } from "./exec.ts";
import { CLONE, CLONE_VM, SIGCHLD } from "./linux.ts";
import type { ChildPlan, Step } from "./plan.ts";

const ROOT = "/proc/4242/root";
const FS: Record<string, string> = {
  [`${ROOT}/bin/sh`]: "file",
  [`${ROOT}/usr/bin/env`]: "file",
  [`${ROOT}/srv`]: "dir",
};

const ALL_NAMESPACES: Partial<Record<Namespace, number>> = {
  // Deliberately not in join order.
  mount: 25,
  pid: 24,
  network: 22,
  ipc: 20,
  cgroup: 23,
  uts: 21,
};

const WIRING: ExecWiring = {
  syncRead: 10,
  syncWrite: 11,
  errRead: 12,
  dieWithParent: false,
  namespaces: ALL_NAMESPACES,
  rootFd: 26,
  pidWrite: 27,
};

function config(o: Partial<RunOptions> = {}): ContainerConfig {
  const c = testConfig("/images/alpine", "/state/c", { command: ["/bin/sh", "-c", "echo hi"], ...o });
  return { ...c, root: { path: ROOT } };
}

function plan(o: Partial<RunOptions> = {}, wiring: Partial<ExecWiring> = {}): ChildPlan {
  return planExec(config(o), { wiring: { ...WIRING, ...wiring }, ignoredSignals: [], fs: new FakeFs(FS) });
}

const value = (a: unknown) => a instanceof Named ? a.value : a;

/** The plan cut at the clone: the intermediate's steps before it, the new process's, and the report. */
function parts(steps: readonly Step[]) {
  const fork = steps.findIndex((s) => s.call === "clone");
  ok(fork > 0, "no clone");
  equal(steps.filter((s) => s.call === "clone").length, 1);
  const report = steps[fork].parentContinuesAt!;
  return {
    before: steps.slice(0, fork),
    fork,
    inside: steps.slice(fork + 1, report),
    report,
    after: steps.slice(report),
  };
}

Deno.test("planExec: the namespaces are joined in the order ipc, uts, net, cgroup, pid, mnt", () => {
  const { before } = parts(plan().steps);
  const joins = before.filter((s) => s.call === "setns");
  deepEqual(joins.map((s) => s.args[0]), [20, 21, 22, 23, 24, 25]);
  deepEqual(joins.map((s) => value(s.args[1])), [
    CLONE.NEWIPC,
    CLONE.NEWUTS,
    CLONE.NEWNET,
    CLONE.NEWCGROUP,
    CLONE.NEWPID,
    CLONE.NEWNS,
  ]);
});

Deno.test("planExec: JOIN_ORDER starts with the user namespace and ends with the mount namespace", () => {
  deepEqual(JOIN_ORDER.map(([ns]) => ns), ["user", "ipc", "uts", "network", "cgroup", "pid", "mount"]);
});

Deno.test("planExec: only the namespaces the container has are joined", () => {
  const { before } = parts(plan({}, { namespaces: { mount: 5, uts: 3, pid: 4 } }).steps);
  deepEqual(before.filter((s) => s.call === "setns").map((s) => [s.args[0], value(s.args[1])]), [
    [3, CLONE.NEWUTS],
    [4, CLONE.NEWPID],
    [5, CLONE.NEWNS],
  ]);
  const none = parts(plan({}, { namespaces: {} }).steps).before;
  ok(!none.some((s) => s.call === "setns"));
});

Deno.test("planExec: the parent's pipe ends are closed first, then the joins, fchdir and chroot, then the clone", () => {
  const { before, fork } = parts(plan().steps);
  deepEqual(before.map((s) => s.call), [
    "close",
    "close",
    "setns",
    "setns",
    "setns",
    "setns",
    "setns",
    "setns",
    "fchdir",
    "chroot",
  ]);
  deepEqual(before.slice(0, 2).map((s) => s.args[0]), [11, 12]);
  deepEqual(before.at(-2)!.args, [26]);
  deepEqual(before.at(-1)!.args, ["."]);
  equal(fork, before.length);
});

Deno.test("planExec: with a console socket its parent end is closed before the joins", () => {
  const { before } = parts(plan({ tty: true }, { console: { child: 13, parent: 14 } }).steps);
  deepEqual(before.slice(0, 3).map((s) => [s.call, s.args[0]]), [["close", 11], ["close", 12], [
    "close",
    14,
  ]]);
  equal(before[3].call, "setns");
});

Deno.test("planExec: the clone forks inside the joined PID namespace without new namespaces", () => {
  const p = plan();
  const { fork } = parts(p.steps);
  const clone = p.steps[fork];
  equal(value(clone.args[0]), SIGCHLD | CLONE_VM);
  ok(clone.args[1] instanceof Stack);
  equal(p.cloneFlags, BigInt(SIGCHLD));
});

Deno.test("planExec: the intermediate goes on at the report of the new pid, then exits", () => {
  const { steps } = plan();
  const { report, after } = parts(steps);
  equal(report, steps.length - 2);
  const write = steps[report];
  equal(write.call, "write");
  equal(write.storeSaved, true);
  equal(write.positive, true);
  equal(write.args[0], 27);
  equal(write.args[2], 8);
  deepEqual(after.map((s) => s.call), ["write", "exit_group"]);
  deepEqual(after[1].args, [0]);
});

Deno.test("planExec: the new process waits for the go-ahead first and execs last", () => {
  const { inside } = parts(plan().steps);
  const first = inside[0];
  equal(first.call, "read");
  equal(first.args[0], 10);
  equal(first.positive, true);
  deepEqual([inside[1].call, inside[1].args[0]], ["close", 10]);
  const last = inside.at(-1)!;
  equal(last.call, "execve");
  deepEqual(last.args, ["/bin/sh", ["/bin/sh", "-c", "echo hi"], config().process.env]);
  equal(inside.filter((s) => s.call === "execve").length, 1);
  ok(!inside.some((s) => ["setns", "chroot", "fchdir", "clone", "exit_group"].includes(s.call)));
});

Deno.test("planExec: with cgroup files, the go-ahead brings them and the new process joins the cgroup first", () => {
  const files = ["/cg/pids/husk/c/tasks", "/cg/memory/husk/c/tasks"];
  const { inside } = parts(plan({}, { cgroup: files }).steps);
  deepEqual(inside.slice(0, 6).map((s) => [s.call, s.loadArg0 ?? false]), [
    ["recvmsg", false],
    ["close", false],
    ["write", true],
    ["close", true],
    ["write", true],
    ["close", true],
  ]);
  equal(inside[0].args[0], 10, "on the sync socket");
  deepEqual(inside.filter((s) => s.call === "write" && s.loadArg0).map((s) => s.args.slice(1)), [["0", 1], [
    "0",
    1,
  ]]);
});

Deno.test("planExec: the new process switches user and working directory", () => {
  const { inside } = parts(plan({ user: "1000:100", workdir: "/srv" }).steps);
  ok(inside.some((s) => s.call === "setresuid" && s.args.every((a) => a === 1000)));
  ok(inside.some((s) => s.call === "setresgid" && s.args.every((a) => a === 100)));
  ok(inside.some((s) => s.call === "chdir" && s.args[0] === "/srv"));
});

Deno.test("planExec: a bare command is looked up in the container's file system", () => {
  const { inside } = parts(plan({ command: ["env"] }).steps);
  const exec = inside.at(-1)!;
  equal(exec.call, "execve");
  equal(exec.args[0], "/usr/bin/env");
  deepEqual(exec.args[1], ["env"]);
  throws(() => plan({ command: ["nope"] }), (e: unknown) => e instanceof HuskError && e.exitCode === 127);
});

Deno.test("planExec: with a terminal the new process sends it on the console socket", () => {
  const { inside } = parts(plan({ tty: true }, { console: { child: 13, parent: 14 } }).steps);
  const send = inside.filter((s) => s.call === "sendmsg");
  equal(send.length, 1);
  equal(send[0].args[0], 13);
});

Deno.test("planExec: without -i, stdin is /dev/null", () => {
  const { inside } = parts(plan().steps);
  ok(inside.some((s) => s.call === "openat" && s.args[1] === "/dev/null"));
  const interactive = parts(plan({ interactive: true }).steps).inside;
  ok(!interactive.some((s) => s.call === "openat" && s.args[1] === "/dev/null"));
});
