import { equal, ok } from "node:assert/strict";
import { Named, Stack, Struct } from "../../ffi/spawn.ts";
import { testConfig } from "../config/testing.ts";
import type { FsView } from "../rootfs/resolve.ts";
import { formatArg, formatCloneFlags, formatPlan, formatStep } from "./format.ts";
import { CLONE, SIGCHLD } from "./linux.ts";
import { type ChildPlan, planChild, type Step } from "./plan.ts";

Deno.test("formatArg: each kind of argument", () => {
  equal(formatArg(null), "NULL");
  equal(formatArg(0), "0");
  equal(formatArg(-100), "-100");
  equal(formatArg(1n << 40n), "1099511627776");
  equal(formatArg("/dev/null"), `"/dev/null"`);
  equal(formatArg(`a "q"\n`), `"a \\"q\\"\\n"`);
  equal(formatArg(new Named(4096, "MS_BIND")), "MS_BIND");
  equal(formatArg(new Struct([0, 1], "iovec")), "&iovec");
  equal(formatArg(new Uint8Array(40)), "<40 bytes>");
  equal(formatArg(["/bin/sh", "-c", "echo hi"]), `["/bin/sh", "-c", "echo hi"]`);
  equal(formatArg([]), "[]");
  equal(formatArg(new Stack()), "<new stack>");
});

Deno.test("formatStep: the call, its arguments and what it does", () => {
  const step: Step = { call: "chdir", args: ["/"], what: "enter the new root" };
  equal(formatStep(step), `chdir("/")  # enter the new root`);
});

Deno.test("formatStep: a tolerated errno and a positive result are noted", () => {
  const mkdir: Step = {
    call: "mkdirat",
    args: [new Named(-100, "AT_FDCWD"), "/r/x", new Named(0o755, "0755")],
    okErrno: 17,
    what: "create x",
  };
  equal(formatStep(mkdir), `mkdirat(AT_FDCWD, "/r/x", 0755) (EEXIST is fine)  # create x`);
  const read: Step = { call: "read", args: [3, new Uint8Array(1), 1], positive: true, what: "wait" };
  equal(formatStep(read), "read(3, <1 bytes>, 1) (0 is a failure)  # wait");
  const odd: Step = { call: "close", args: [5], okErrno: 99, what: "x" };
  equal(formatStep(odd), "close(5) (99 is fine)  # x");
});

Deno.test("formatStep: a saved result is $saved, and a step using it shows $saved as its first argument", () => {
  const socket: Step = { call: "socket", args: [new Named(2, "AF_INET"), 2, 0], save: true, what: "open" };
  equal(formatStep(socket), "$saved = socket(AF_INET, 2, 0)  # open");
  const close: Step = { call: "close", args: [null], useSaved: true, what: "close it" };
  equal(formatStep(close), "close($saved)  # close it");
  const ioctl: Step = {
    call: "ioctl",
    args: [null, new Named(0x8914, "SIOCSIFFLAGS"), new Uint8Array(40)],
    useSaved: true,
    what: "up",
  };
  equal(formatStep(ioctl), "ioctl($saved, SIOCSIFFLAGS, <40 bytes>)  # up");
});

Deno.test("formatStep: storeSaved shows where the kept result is written", () => {
  const step: Step = {
    call: "write",
    args: [4, new Uint8Array(8), 8],
    storeSaved: true,
    what: "send the pid",
  };
  equal(formatStep(step), "write(4, &$saved, 8)  # send the pid");
});

Deno.test("formatStep: a fork point names where the caller goes on, without the errno note", () => {
  const step: Step = {
    call: "clone",
    args: [new Named(17, "SIGCHLD"), new Stack(), null, null, 0],
    parentContinuesAt: 42,
    okErrno: 17,
    what: "fork",
  };
  equal(formatStep(step), "clone(SIGCHLD, <new stack>, NULL, NULL, 0) (the caller goes on at 42)  # fork");
});

Deno.test("formatCloneFlags: the namespace flags by name, then SIGCHLD", () => {
  equal(formatCloneFlags(BigInt(CLONE.NEWNS | CLONE.NEWPID | SIGCHLD)), "CLONE_NEWNS|CLONE_NEWPID|SIGCHLD");
  equal(
    formatCloneFlags(BigInt(CLONE.NEWNET | CLONE.NEWUTS | CLONE.NEWIPC | SIGCHLD)),
    "CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|SIGCHLD",
  );
  equal(formatCloneFlags(BigInt(SIGCHLD)), "SIGCHLD");
});

Deno.test("formatPlan: the clone line, then one numbered line per step", () => {
  const steps: Step[] = Array.from({ length: 11 }, (_, i) => ({ call: "close", args: [i], what: `c${i}` }));
  const plan: ChildPlan = { cloneFlags: BigInt(CLONE.NEWNS | SIGCHLD), steps };
  const lines = formatPlan(plan).split("\n");
  equal(lines.length, 12);
  equal(lines[0], "clone(CLONE_NEWNS|SIGCHLD)");
  equal(lines[1], " 0  close(0)  # c0");
  equal(lines[10], " 9  close(9)  # c9");
  equal(lines[11], "10  close(10)  # c10");
});

Deno.test("formatPlan: a real plan prints every step once, in order", () => {
  const fs: FsView = {
    lstat: (p) => p === "/r/bin/sh" ? "file" : p === "/r" || p.split("/").length <= 3 ? "dir" : null,
    stat: (p) => p.startsWith("/etc-dir/") ? "file" : "dir",
    readlink: (p) => {
      throw new Error(`no symlink at ${p}`);
    },
  };
  const config = testConfig("/r", "/etc-dir", { command: ["sh", "-c", "echo hi"] });
  const plan = planChild(config, {
    wiring: { syncRead: 5, syncWrite: 6, errRead: 7, dieWithParent: true },
    ignoredSignals: [],
    fs,
  });
  const lines = formatPlan(plan).split("\n");
  equal(lines.length, plan.steps.length + 1);
  ok(lines[0].startsWith("clone(") && lines[0].endsWith("|SIGCHLD)"));
  ok(!lines[0].includes("NEWCGROUP"));
  const width = String(plan.steps.length).length;
  plan.steps.forEach((s, i) => {
    ok(lines[i + 1].startsWith(`${String(i).padStart(width)}  `), lines[i + 1]);
    ok(lines[i + 1].endsWith(`# ${s.what}`), lines[i + 1]);
  });
  ok(lines[1].includes("prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)"));
  ok(lines.some((l) => l.includes("$saved = socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0)")));
  ok(lines.some((l) => l.includes("close($saved)")));
  ok(lines.some((l) => l.includes(`mount("/r", "/r", NULL, MS_BIND|MS_REC, NULL)`)));
  ok(lines.at(-1)!.includes(`execve("/bin/sh", ["sh", "-c", "echo hi"], [`));
});
