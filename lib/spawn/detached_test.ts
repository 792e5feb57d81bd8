import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { Named, Stack, Struct } from "../../ffi/spawn.ts";
import type { RunOptions } from "../config/options.ts";
import { testConfig } from "../config/testing.ts";
import type { ContainerConfig } from "../config/types.ts";
import { FakeFs } from "../rootfs/fake_fs.ts";
import { type MonitorWiring, planDetached } from "./detached.ts";
import { CLONE_VM, ERRNO, SIGCHLD } from "./linux.ts";
import {
  type ChildPlan,
  containerCloneFlags,
  containerSteps,
  type PlanContext,
  type Step,
  type Wiring,
} from "./plan.ts";

const ROOT = "/r";
const ETC = "/state/c";
const HOST: Record<string, string> = {
  "/r/bin/sh": "file",
  "/r/usr/bin/env": "file",
  "/r/etc/hostname": "file",
  "/r/etc/hosts": "file",
  "/r/proc": "dir",
  "/r/sys": "dir",
  "/r/dev": "dir",
  [`${ETC}/hostname`]: "file",
  [`${ETC}/hosts`]: "file",
  [`${ETC}/resolv.conf`]: "file",
};

function config(o: Partial<RunOptions> = {}): ContainerConfig {
  return testConfig(ROOT, ETC, { detach: true, ...o });
}

// The runtime's descriptors: the container's (sync pipe, error pipe, output pipes' write ends or the console
// socket's child end) and the monitor's.
const PIPES: Wiring = {
  syncRead: 10,
  syncWrite: 11,
  errRead: 12,
  output: { stdout: 13, stderr: 14 },
  dieWithParent: false,
};
const PIPES_MONITOR: MonitorWiring = {
  pidWrite: 17,
  output: { stdout: 15, stderr: 16 },
  dirFd: 18,
  devNull: 19,
  monitorPath: "/usr/libexec/husk-monitor",
  maxLogSize: 65536,
  exitCommand: ["/usr/bin/husk", "--root", "/state", "cleanup", "0123456789abcdef".repeat(4)],
  env: ["PATH=/usr/bin", "HOME=/root"],
};
const TERMINAL: Wiring = {
  syncRead: 10,
  syncWrite: 11,
  errRead: 12,
  console: { child: 13, parent: 14 },
  dieWithParent: false,
};
const TERMINAL_MONITOR: MonitorWiring = { ...PIPES_MONITOR, output: { console: 14 } };

interface Planned {
  config: ContainerConfig;
  ctx: PlanContext;
  monitor: MonitorWiring;
  plan: ChildPlan;
}

function planned(o: Partial<RunOptions>, wiring: Wiring, monitor: MonitorWiring): Planned {
  const c = config(o);
  const ctx: PlanContext = { wiring, ignoredSignals: [13], fs: new FakeFs(HOST) };
  return { config: c, ctx, monitor, plan: planDetached(c, ctx, monitor) };
}

const pipes = (o: Partial<RunOptions> = {}) => planned(o, PIPES, PIPES_MONITOR);
const terminal = (o: Partial<RunOptions> = {}) =>
  planned({ tty: true, interactive: true, ...o }, TERMINAL, TERMINAL_MONITOR);

const value = (a: unknown) => a instanceof Named ? a.value : a;

/** The plan cut where its clones say each process goes. */
function parts(steps: readonly Step[]) {
  const exit = steps.length - 1;
  const containerFork = steps.findIndex((s, i) => i > 0 && s.call === "clone");
  ok(containerFork > 0, "no second clone");
  const monitorRest = steps[containerFork].parentContinuesAt!;
  return {
    monitorStart: steps.slice(1, containerFork),
    containerFork,
    container: steps.slice(containerFork + 1, monitorRest),
    monitorRest,
    monitor: steps.slice(monitorRest, exit),
    exit,
  };
}

for (const [label, make] of [["pipes", pipes], ["terminal", terminal]] as const) {
  Deno.test(`planDetached (${label}): the runtime's child forks the monitor and goes on to exit_group`, () => {
    const { steps } = make().plan;
    equal(steps[0].call, "clone");
    equal(steps[0].parentContinuesAt, steps.length - 1);
    deepEqual([steps.at(-1)!.call, ...steps.at(-1)!.args], ["exit_group", 0]);
    ok(steps[0].args[1] instanceof Stack, "the clone needs a stack of its own (CLONE_VM)");
    // The monitor lives outside the container's namespaces.
    equal(value(steps[0].args[0]), SIGCHLD | CLONE_VM);
  });

  Deno.test(`planDetached (${label}): the spawned process itself enters no namespace`, () => {
    equal(make().plan.cloneFlags, BigInt(SIGCHLD));
  });

  Deno.test(`planDetached (${label}): the monitor starts a session and reports its own pid`, () => {
    const { plan, monitor } = make();
    const { monitorStart } = parts(plan.steps);
    deepEqual(monitorStart.map((s) => s.call), ["setsid", "getpid", "write"]);
    equal(monitorStart[1].save, true);
    const report = monitorStart[2];
    equal(report.args[0], monitor.pidWrite);
    equal(report.storeSaved, true);
    equal(report.positive, true);
    equal(report.args[2], 8);
  });

  Deno.test(`planDetached (${label}): the second clone forks the container with its namespaces`, () => {
    const { plan, config } = make();
    const { containerFork } = parts(plan.steps);
    const fork = plan.steps[containerFork];
    equal(value(fork.args[0]), containerCloneFlags(config) | BigInt(CLONE_VM));
    ok(fork.args[1] instanceof Stack);
    ok(fork.parentContinuesAt! > containerFork);
    ok(fork.parentContinuesAt! < plan.steps.length - 1);
  });

  Deno.test(`planDetached (${label}): the monitor goes on at its report of the container's pid`, () => {
    const { plan, monitor } = make();
    const { monitorRest } = parts(plan.steps);
    const report = plan.steps[monitorRest];
    equal(report.call, "write");
    equal(report.storeSaved, true);
    equal(report.positive, true);
    equal(report.args[0], monitor.pidWrite);
    ok(/container's pid/.test(report.what), report.what);
  });

  Deno.test(`planDetached (${label}): between the clone and the monitor's report are the container's steps`, () => {
    const { plan, config, ctx } = make();
    const { container } = parts(plan.steps);
    const expected = containerSteps(config, ctx);
    deepEqual(container.map((s) => [s.call, s.what]), expected.map((s) => [s.call, s.what]));
    const last = container.at(-1)!;
    equal(last.call, "execve");
    deepEqual(last.args.slice(0, 2), ["/bin/sh", config.process.args]);
    deepEqual(last.args[2], config.process.env);
    ok(!container.some((s) => s.call === "clone" || s.call === "exit_group"));
    equal(container.filter((s) => s.call === "execve").length, 1);
  });

  Deno.test(`planDetached (${label}): the monitor ends with execve of the monitor program`, () => {
    const { plan, monitor } = make();
    const { monitor: side } = parts(plan.steps);
    const last = side.at(-1)!;
    equal(last.call, "execve");
    deepEqual(last.args, [
      "/usr/libexec/husk-monitor",
      ["husk-monitor", "65536", "/usr/bin/husk", "--root", "/state", "cleanup", "0123456789abcdef".repeat(4)],
      monitor.env,
    ]);
    equal(side.filter((s) => s.call === "execve").length, 1);
    ok(!side.some((s) => s.call === "clone"));
  });

  Deno.test(`planDetached (${label}): the monitor's descriptors end up as 0-2 /dev/null, 3 output, 5 directory`, () => {
    const { plan, monitor } = make();
    const fds = runMonitor(plan.steps, monitor, initialFds(plan, monitor));
    equal(fds.get(0), "devNull");
    equal(fds.get(1), "devNull");
    equal(fds.get(2), "devNull");
    equal(fds.get(3), "console" in monitor.output ? "terminal" : "stdout");
    equal(fds.get(5), "dir");
    deepEqual(
      [...fds.keys()].sort((a, b) => a - b),
      "console" in monitor.output ? [0, 1, 2, 3, 5] : [0, 1, 2, 3, 4, 5],
    );
  });
}

Deno.test("planDetached: the log size and exit command are passed as given", () => {
  const { plan } = planned({}, PIPES, { ...PIPES_MONITOR, maxLogSize: 10 * 1024 * 1024, exitCommand: ["x"] });
  deepEqual(plan.steps.at(-2)!.args[1], ["husk-monitor", "10485760", "x"]);
  equal(plan.steps.at(-2)!.args[0], "/usr/libexec/husk-monitor");
});

Deno.test("planDetached (pipes): no terminal to receive; stdout and stderr are moved to 3 and 4", () => {
  const { plan } = pipes();
  const { monitor, container } = parts(plan.steps);
  ok(!plan.steps.some((s) => s.call === "recvmsg" || s.call === "sendmsg"));
  ok(!monitor.some((s) => s.loadArg0));
  const fds = runMonitor(plan.steps, PIPES_MONITOR, initialFds(plan, PIPES_MONITOR));
  equal(fds.get(3), "stdout");
  equal(fds.get(4), "stderr");
  // The container writes into the pipes' other ends.
  deepEqual(container.filter((s) => s.call === "dup3").map((s) => s.args), [[13, 1, 0], [14, 2, 0]]);
});

Deno.test("planDetached (pipes): low descriptor numbers are not clobbered by the moves", () => {
  const monitor: MonitorWiring = { ...PIPES_MONITOR, devNull: 3, dirFd: 4, output: { stdout: 5, stderr: 6 } };
  const p = planned({}, PIPES, monitor);
  const fds = runMonitor(p.plan.steps, monitor, initialFds(p.plan, monitor));
  deepEqual(Object.fromEntries(fds), {
    0: "devNull",
    1: "devNull",
    2: "devNull",
    3: "stdout",
    4: "stderr",
    5: "dir",
  });
});

Deno.test("planDetached (terminal): the monitor receives the terminal and sets it aside", () => {
  const { plan } = terminal();
  const { monitor } = parts(plan.steps);
  const recv = monitor.findIndex((s) => s.call === "recvmsg");
  ok(recv > 0, "no recvmsg after the report");
  equal(monitor[recv].args[0], 14);
  equal(monitor[recv].positive, true);
  const dup = monitor[recv + 1];
  equal(dup.call, "dup3");
  equal(dup.loadArg0, true);
  equal(dup.okErrno, ERRNO.EINVAL);
  equal(dup.okErrno, 22);
  // The descriptor is read from the control message that recvmsg fills, after its 16-byte header.
  const msghdr = monitor[recv].args[1];
  ok(msghdr instanceof Struct);
  const control = msghdr.words[4];
  ok(control instanceof Uint8Array);
  const fdBytes = dup.args[0];
  ok(fdBytes instanceof Uint8Array);
  equal(fdBytes.buffer, control.buffer);
  equal(fdBytes.byteOffset, control.byteOffset + 16);
  // Where it was set aside is what becomes descriptor 3.
  ok(monitor.some((s) => s.call === "dup3" && s.args[0] === dup.args[1] && s.args[1] === 3));
});

Deno.test("planDetached (terminal): descriptor 4 is closed, EBADF being fine", () => {
  const { monitor } = parts(terminal().plan.steps);
  const close4 = monitor.filter((s) => s.call === "close" && s.args[0] === 4);
  equal(close4.length, 1);
  equal(close4[0].okErrno, ERRNO.EBADF);
  ok(!monitor.some((s) => s.call === "dup3" && s.args[1] === 4));
});

Deno.test("planDetached (terminal): the container sends its terminal on the console socket", () => {
  const { container } = parts(terminal().plan.steps);
  const send = container.filter((s) => s.call === "sendmsg");
  equal(send.length, 1);
  equal(send[0].args[0], TERMINAL.console!.child);
  ok(!container.some((s) => s.call === "recvmsg"));
});

Deno.test("planDetached (terminal): a terminal received on the set-aside number stays there (EINVAL)", () => {
  const { plan } = terminal();
  // Every number below the set-aside one is taken, so the received descriptor gets exactly that number.
  const start = initialFds(plan, TERMINAL_MONITOR);
  const { monitor } = parts(plan.steps);
  const aside = monitor[monitor.findIndex((s) => s.call === "recvmsg") + 1].args[1] as number;
  for (let fd = 0; fd < aside; fd++) if (!start.has(fd)) start.set(fd, `other${fd}`);
  const fds = runMonitor(plan.steps, TERMINAL_MONITOR, start);
  equal(fds.get(3), "terminal");
  deepEqual([...fds.keys()].sort((a, b) => a - b), [0, 1, 2, 3, 5]);
});

Deno.test("planDetached: without a terminal nothing is received even if the container has -i", () => {
  const { plan } = pipes({ interactive: true });
  ok(!plan.steps.some((s) => s.call === "recvmsg"));
});

Deno.test("planDetached: the two plans differ only where a terminal is involved", () => {
  const a = parts(pipes().plan.steps);
  const b = parts(terminal().plan.steps);
  notEqual(a.monitor.length, 0);
  equal(a.monitorStart.length, b.monitorStart.length);
  deepEqual(a.monitor.slice(-6).map((s) => s.call), b.monitor.slice(-6).map((s) => s.call));
});

// A small model of the monitor's descriptor table, run over the monitor's steps from its report of the
// container's pid to its execve: dup3, close, close_range and recvmsg with the kernel's rules.

function initialFds(plan: ChildPlan, m: MonitorWiring): Map<number, string> {
  const fds = new Map<number, string>([[0, "runtime0"], [1, "runtime1"], [2, "runtime2"]]);
  const w = "console" in m.output ? TERMINAL : PIPES;
  for (
    const [fd, name] of [[w.syncRead, "syncRead"], [w.syncWrite, "syncWrite"], [
      w.errRead,
      "errRead",
    ]] as const
  ) {
    fds.set(fd, name);
  }
  if (w.console) fds.set(w.console.child, "consoleChild");
  if (w.output) {
    fds.set(w.output.stdout, "stdoutWrite");
    fds.set(w.output.stderr, "stderrWrite");
  }
  fds.set(m.pidWrite, "pidWrite");
  if ("console" in m.output) fds.set(m.output.console, "consoleSocket");
  else {
    fds.set(m.output.stdout, "stdout");
    fds.set(m.output.stderr, "stderr");
  }
  fds.set(m.dirFd, "dir");
  fds.set(m.devNull, "devNull");
  notEqual(plan.steps.length, 0);
  return fds;
}

function runMonitor(
  steps: readonly Step[],
  m: MonitorWiring,
  start: Map<number, string>,
): Map<number, string> {
  const fds = new Map(start);
  const { monitorRest } = parts(steps);
  const fail = (s: Step, errno: number) => {
    if (s.okErrno !== errno) {
      throw new Error(`${s.call}(${s.args.map(String)}) fails with errno ${errno}: ${s.what}`);
    }
  };
  for (const s of steps.slice(monitorRest)) {
    switch (s.call) {
      case "write":
        if (!fds.has(s.args[0] as number)) fail(s, ERRNO.EBADF);
        equal(s.args[0], m.pidWrite);
        break;
      case "recvmsg": {
        if (!fds.has(s.args[0] as number)) fail(s, ERRNO.EBADF);
        let fd = 0;
        while (fds.has(fd)) fd++;
        fds.set(fd, "terminal");
        const control = ((s.args[1] as Struct).words[4]) as Uint8Array;
        new DataView(control.buffer, control.byteOffset).setInt32(16, fd, true);
        break;
      }
      case "dup3": {
        const from = s.loadArg0
          ? new DataView((s.args[0] as Uint8Array).buffer, (s.args[0] as Uint8Array).byteOffset).getInt32(
            0,
            true,
          )
          : s.args[0] as number;
        const to = s.args[1] as number;
        if (!fds.has(from)) fail(s, ERRNO.EBADF);
        else if (from === to) fail(s, ERRNO.EINVAL);
        else fds.set(to, fds.get(from)!);
        break;
      }
      case "close":
        if (!fds.delete(s.args[0] as number)) fail(s, ERRNO.EBADF);
        break;
      case "close_range": {
        const [lo, hi] = s.args as number[];
        for (const fd of [...fds.keys()]) if (fd >= lo && fd <= hi) fds.delete(fd);
        break;
      }
      case "chdir":
      case "rt_sigprocmask":
        break;
      case "execve":
        return fds;
      default:
        throw new Error(`unexpected step in the monitor: ${s.call} (${s.what})`);
    }
  }
  throw new Error("the monitor never execs");
}
