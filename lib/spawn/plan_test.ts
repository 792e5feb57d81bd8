import { FakeFs } from "../rootfs/fake_fs.ts";
import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import { type Arg, Named, Struct } from "../../ffi/spawn.ts";
import type { RunOptions } from "../config/options.ts";
import { testConfig } from "../config/testing.ts";
import type { ContainerConfig } from "../config/types.ts";
import { HuskError } from "../errors.ts";
import {
  AT_FDCWD,
  CLONE,
  makedev,
  MNT_DETACH,
  MS,
  O_RDONLY,
  PR_SET_PDEATHSIG,
  S_IFCHR,
  S_IFREG,
  SIGCHLD,
  SIGKILL,
  SIOCSIFFLAGS,
  TIOCGPTPEER,
  TIOCSCTTY,
  TIOCSPTLCK,
  TIOCSWINSZ,
} from "./linux.ts";
import { type ChildPlan, planChild, type Step, type Wiring } from "./plan.ts";
import { throwsInvalid } from "../testing/errors.ts";

const ROOT = "/r";
const ETC = "/state/c";

const HOST: Record<string, string> = {
  "/r/bin/sh": "file",
  "/r/bin/x": "file",
  "/r/bin/link-to-sh": "->sh",
  "/r/etc/passwd": "file",
  "/r/etc/hostname": "file",
  "/r/etc/hosts": "file",
  "/r/proc": "dir",
  "/r/sys": "dir",
  "/r/dev": "dir",
  "/r/tmp": "dir",
  "/r/usr/local/bin/x": "dir", // a directory, not a command
  [`${ETC}/hostname`]: "file",
  [`${ETC}/hosts`]: "file",
  [`${ETC}/resolv.conf`]: "file",
  "/host/data/file": "file",
  "/host/tools/tool": "file",
  "/host/app.conf": "file",
};

const WIRING: Wiring = {
  syncRead: 10,
  syncWrite: 11,
  errRead: 12,
  console: { child: 13, parent: 14 },
  dieWithParent: true,
};
const NO_CONSOLE: Wiring = { syncRead: 10, syncWrite: 11, errRead: 12, dieWithParent: true };

function config(o: Partial<RunOptions> = {}): ContainerConfig {
  return testConfig(ROOT, ETC, o);
}

interface PlanOptions {
  wiring?: Wiring;
  ignoredSignals?: number[];
  fs?: Record<string, string>;
}

function plan(o: Partial<RunOptions> = {}, p: PlanOptions = {}): ChildPlan {
  return planChild(config(o), {
    wiring: p.wiring ?? (o.tty ? WIRING : NO_CONSOLE),
    ignoredSignals: p.ignoredSignals ?? [],
    fs: new FakeFs(p.fs ?? HOST),
  });
}

/** An argument's plain value (a Named's number). */
const value = (a: Arg) => a instanceof Named ? a.value : a;
const values = (s: Step) => s.args.map(value);

function indexOf(steps: readonly Step[], pred: (s: Step) => boolean, what: string): number {
  const i = steps.findIndex(pred);
  ok(i !== -1, `no step ${what}`);
  return i;
}

const isCall = (call: string) => (s: Step) => s.call === call;
const mountsOf = (steps: readonly Step[]) => steps.filter(isCall("mount"));
const mountAt = (steps: readonly Step[], at: string) => mountsOf(steps).filter((s) => s.args[1] === at);

Deno.test("planChild: clone flags are the namespaces except cgroup, with SIGCHLD", () => {
  const { cloneFlags } = plan();
  equal(SIGCHLD, 17);
  equal(
    cloneFlags,
    BigInt(CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS | SIGCHLD),
  );
  equal(cloneFlags & BigInt(CLONE.NEWCGROUP), 0n);
  equal(cloneFlags & 0xffn, 17n);
});

Deno.test("planChild: clone flags follow the configured namespaces", () => {
  const c = { ...config(), namespaces: ["mount" as const, "user" as const] };
  const p = planChild(c, { wiring: NO_CONSOLE, ignoredSignals: [], fs: new FakeFs(HOST) });
  equal(p.cloneFlags, BigInt(CLONE.NEWNS | CLONE.NEWUSER | SIGCHLD));
  // Without uts, network and cgroup namespaces: no sethostname, no loopback, no unshare.
  ok(!p.steps.some((s) => ["sethostname", "socket", "unshare"].includes(s.call)));
});

Deno.test("planChild: the first step makes the child die with the runtime", () => {
  const first = plan().steps[0];
  equal(first.call, "prctl");
  deepEqual(values(first), [PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0]);
});

Deno.test("planChild: a detached container does not die with the runtime", () => {
  const { steps } = plan({}, { wiring: { ...NO_CONSOLE, dieWithParent: false } });
  // prctl is still used for the capabilities, never for PR_SET_PDEATHSIG.
  ok(!steps.some((s) => s.call === "prctl" && values(s)[0] === PR_SET_PDEATHSIG));
  deepEqual([steps[0].call, ...steps[0].args], ["close", 11]);
});

Deno.test("planChild: a detached container's stdout and stderr go to the monitor's pipes", () => {
  const wiring: Wiring = { ...NO_CONSOLE, dieWithParent: false, output: { stdout: 20, stderr: 21 } };
  const { steps } = plan({}, { wiring });
  const dups = steps.filter(isCall("dup3")).map((s) => s.args);
  deepEqual(dups, [[20, 1, 0], [21, 2, 0]]);
  const pivot = indexOf(steps, isCall("pivot_root"), "pivot_root");
  ok(steps.indexOf(steps.filter(isCall("dup3"))[0]) > pivot);
  // stdin is still /dev/null without -i.
  ok(steps.some((s) => s.call === "openat" && s.args[1] === "/dev/null"));
  ok(!plan().steps.some(isCall("dup3")));
});

Deno.test("planChild: the child closes the parent's pipe ends first, and waits on the sync pipe before the user's code", () => {
  const { steps } = plan();
  const read = indexOf(steps, isCall("read"), "read");
  equal(steps[read].args[0], 10);
  equal(steps[read].positive, true);
  // The file system is built while the parent makes the cgroup; the wait comes before the switch of user,
  // the cgroup namespace and execve.
  ok(read > indexOf(steps, isCall("pivot_root"), "pivot_root"));
  ok(read < indexOf(steps, isCall("setresuid"), "setresuid"));
  ok(read < indexOf(steps, isCall("execve"), "execve"));
  deepEqual(steps.slice(1, 3).map((s) => [s.call, s.args[0]]), [["close", 11], ["close", 12]]);
  equal(steps[read + 1].call, "close");
  equal(steps[read + 1].args[0], 10);
});

Deno.test("planChild: with a console socket the child closes the parent's end at once", () => {
  const { steps } = plan({ tty: true });
  deepEqual(steps.slice(0, 4).filter(isCall("close")).map((s) => s.args[0]), [11, 12, 14]);
});

Deno.test("planChild: the go-ahead brings the cgroup files; the child writes 0 (itself) to each, then closes it", () => {
  const files = ["/cg/memory/husk/c/tasks", "/cg/pids/husk/c/tasks"];
  for (const userns of [false, true]) {
    const o = userns ? { userns: "remap" } : {};
    const { steps } = plan(o, { wiring: { ...NO_CONSOLE, cgroup: files } });
    const receive = indexOf(steps, isCall("recvmsg"), "recvmsg");
    equal(steps[receive].args[0], 10, "on the sync socket");
    equal(steps[receive].positive, true, "end of file (the runtime died) is a failure");
    equal(steps.filter(isCall("read")).length, 0, "no separate sync read");
    const msghdr = steps[receive].args[1] as Struct;
    const control = msghdr.words[4] as Uint8Array;
    equal(msghdr.words[5], 24, "room for two descriptors");
    const joins = steps.slice(receive + 2, receive + 6);
    deepEqual(joins.map((s) => [s.call, s.loadArg0]), [
      ["write", true],
      ["close", true],
      ["write", true],
      ["close", true],
    ]);
    deepEqual(joins.filter(isCall("write")).map((s) => s.args.slice(1)), [["0", 1], ["0", 1]]);
    // Each write and close takes the descriptor the kernel put in the control message (after its header).
    const slots = joins.map((s) => s.args[0] as Uint8Array);
    ok(slots.every((slot) => slot.buffer === control.buffer));
    deepEqual(slots.map((slot) => slot.byteOffset), [16, 16, 20, 20]);
    ok(joins[0].what.includes(files[0]) && joins[2].what.includes(files[1]));
    ok(receive + 6 <= indexOf(steps, isCall("unshare"), "unshare"), "in the cgroup before its namespace");
    ok(receive < indexOf(steps, isCall("setresuid"), "setresuid"));
    const pivot = indexOf(steps, isCall("pivot_root"), "pivot_root");
    ok(userns ? receive < pivot : receive > pivot, "with a user namespace, the wait comes first");
  }
});

Deno.test("planChild: the cgroup namespace is unshared after the sync read", () => {
  const { steps } = plan();
  const unshare = indexOf(steps, isCall("unshare"), "unshare");
  deepEqual(values(steps[unshare]), [CLONE.NEWCGROUP]);
  ok(unshare > indexOf(steps, isCall("read"), "read"));
  equal(steps.filter(isCall("unshare")).length, 1);
});

Deno.test("planChild: the loopback socket is saved and used by the next ioctl and close", () => {
  const { steps } = plan();
  const socket = indexOf(steps, isCall("socket"), "socket");
  ok(socket < indexOf(steps, isCall("read"), "read"));
  equal(steps[socket].save, true);
  const [ioctl, close] = [steps[socket + 1], steps[socket + 2]];
  equal(ioctl.call, "ioctl");
  equal(ioctl.useSaved, true);
  equal(value(ioctl.args[1]), SIOCSIFFLAGS);
  const ifreq = ioctl.args[2] as Uint8Array;
  deepEqual([...ifreq.subarray(0, 3)], [0x6c, 0x6f, 0]); // "lo\0"
  equal(new DataView(ifreq.buffer).getUint16(16, true), 0x1 | 0x8 | 0x40);
  equal(close.call, "close");
  equal(close.useSaved, true);
  equal(steps.filter((s) => s.save).length, 1);
});

Deno.test("planChild: the hostname is set with its length", () => {
  const { steps } = plan({ hostname: "web-1" });
  const step = steps[indexOf(steps, isCall("sethostname"), "sethostname")];
  deepEqual(step.args, ["web-1", 5]);
});

Deno.test("planChild: the root is made private and bound onto itself first", () => {
  const { steps } = plan();
  const [privat, self] = mountsOf(steps);
  deepEqual(values(privat), ["", "/", null, MS.REC | MS.PRIVATE, null]);
  deepEqual(values(self), [ROOT, ROOT, null, MS.BIND | MS.REC, null]);
  const umask = indexOf(steps, isCall("umask"), "umask");
  deepEqual(steps[umask].args, [0]);
  ok(umask < steps.indexOf(privat));
});

Deno.test("planChild: the kernel file systems are mounted in the root, parents first", () => {
  const { steps } = plan();
  deepEqual(values(mountAt(steps, "/r/proc")[0]), [
    "proc",
    "/r/proc",
    "proc",
    MS.NOSUID | MS.NOEXEC | MS.NODEV,
    null,
  ]);
  deepEqual(values(mountAt(steps, "/r/dev")[0]), [
    "tmpfs",
    "/r/dev",
    "tmpfs",
    MS.NOSUID | MS.STRICTATIME,
    "mode=755,size=65536k",
  ]);
  deepEqual(values(mountAt(steps, "/r/sys")[0]), [
    "sysfs",
    "/r/sys",
    "sysfs",
    MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY,
    null,
  ]);
  // /dev/pts and friends do not exist yet on the fresh /dev: created after /dev is mounted.
  const dev = steps.indexOf(mountAt(steps, "/r/dev")[0]);
  const mkPts = indexOf(steps, (s) => s.call === "mkdirat" && s.args[1] === "/r/dev/pts", "mkdir /dev/pts");
  const pts = steps.indexOf(mountAt(steps, "/r/dev/pts")[0]);
  ok(dev < mkPts && mkPts < pts);
});

Deno.test("planChild: the device nodes are created in the new /dev, and the /dev links", () => {
  const { steps } = plan();
  const dev = steps.indexOf(mountAt(steps, "/r/dev")[0]);
  const nodes = steps.filter((s) => s.call === "mknodat" && String(s.args[1]).startsWith("/r/dev/"));
  deepEqual(nodes.map((s) => s.args[1]), [
    "/r/dev/null",
    "/r/dev/zero",
    "/r/dev/full",
    "/r/dev/random",
    "/r/dev/urandom",
    "/r/dev/tty",
  ]);
  deepEqual(values(nodes[0]), [AT_FDCWD, "/r/dev/null", S_IFCHR | 0o666, makedev(1, 3)]);
  equal(nodes[0].okErrno, 17);
  ok(nodes.every((s) => steps.indexOf(s) > dev));
  const links = steps.filter(isCall("symlinkat")).map((s) => [s.args[0], s.args[2]]);
  deepEqual(links[0], ["pts/ptmx", "/r/dev/ptmx"]);
  ok(links.some(([t, l]) => t === "/proc/self/fd" && l === "/r/dev/fd"));
});

Deno.test("planChild: the generated /etc files are bind-mounted without a remount", () => {
  const { steps } = plan();
  const hostname = mountAt(steps, "/r/etc/hostname");
  equal(hostname.length, 1);
  deepEqual(values(hostname[0]), [`${ETC}/hostname`, "/r/etc/hostname", null, MS.BIND, null]);
  equal(mountAt(steps, "/r/etc/hosts").length, 1);
});

Deno.test("planChild: pivot_root, then the host's root is detached", () => {
  const { steps } = plan();
  const pivot = indexOf(steps, isCall("pivot_root"), "pivot_root");
  deepEqual(steps[pivot - 1].args, [ROOT]);
  equal(steps[pivot - 1].call, "chdir");
  deepEqual(steps[pivot].args, [".", "."]);
  deepEqual([steps[pivot + 1].call, ...values(steps[pivot + 1])], ["umount2", ".", MNT_DETACH]);
  deepEqual([steps[pivot + 2].call, ...steps[pivot + 2].args], ["chdir", "/"]);
  // Every mount and device node is prepared before.
  const lastRootfs = steps.findLastIndex((s) => ["mount", "mknodat", "symlinkat"].includes(s.call));
  ok(lastRootfs < pivot);
  ok(!steps.some(isCall("chroot")));
});

Deno.test("planChild: noPivot moves the root over / and chroots instead", () => {
  const { steps } = plan({ noPivot: true });
  ok(!steps.some(isCall("pivot_root")));
  ok(!steps.some(isCall("umount2")));
  const move = indexOf(steps, (s) => s.call === "mount" && value(s.args[3]) === MS.MOVE, "MS_MOVE");
  deepEqual(values(steps[move]), [ROOT, "/", null, MS.MOVE, null]);
  deepEqual([steps[move - 1].call, ...steps[move - 1].args], ["chdir", ROOT]);
  deepEqual([steps[move + 1].call, ...steps[move + 1].args], ["chroot", "."]);
  deepEqual([steps[move + 2].call, ...steps[move + 2].args], ["chdir", "/"]);
});

Deno.test("planChild: the process steps end with close_range, rt_sigprocmask and execve", () => {
  const { steps } = plan();
  const n = steps.length;
  equal(steps[n - 3].call, "close_range");
  deepEqual(values(steps[n - 3]), [3, 0xffffffff, 4]);
  equal(steps[n - 2].call, "rt_sigprocmask");
  equal(steps[n - 1].call, "execve");
  equal(steps.filter(isCall("execve")).length, 1);
});

Deno.test("planChild: execve of the default command with its arguments and environment", () => {
  const c = config({ env: ["A=1"] });
  const { steps } = planChild(c, { wiring: NO_CONSOLE, ignoredSignals: [], fs: new FakeFs(HOST) });
  const exec = steps.at(-1)!;
  deepEqual(exec.args, ["/bin/sh", ["/bin/sh"], c.process.env]);
  ok((exec.args[2] as string[]).includes("A=1"));
  deepEqual(exec.exec, { command: "/bin/sh", searched: false });
});

Deno.test("planChild: a command with a slash is not looked up", () => {
  const exec = plan({ command: ["/no/such/cmd", "-x"] }).steps.at(-1)!;
  deepEqual(exec.args.slice(0, 2), ["/no/such/cmd", ["/no/such/cmd", "-x"]]);
  deepEqual(exec.exec, { command: "/no/such/cmd", searched: false });
  equal(plan({ command: ["./rel"] }).steps.at(-1)!.args[0], "./rel");
});

Deno.test("planChild: a bare command is looked up along PATH in the rootfs", () => {
  const exec = plan({ command: ["x", "arg"] }).steps.at(-1)!;
  equal(exec.call, "execve");
  deepEqual(exec.args.slice(0, 2), ["/bin/x", ["x", "arg"]]);
  deepEqual(exec.exec, { command: "x", searched: true });
  // A symlink to a file counts; the path is not resolved.
  equal(plan({ command: ["link-to-sh"] }).steps.at(-1)!.args[0], "/bin/link-to-sh");
});

Deno.test("planChild: the first PATH directory with the command wins; directories are skipped", () => {
  const fs = { ...HOST, "/r/usr/bin/x": "file" };
  equal(plan({ command: ["x"] }, { fs }).steps.at(-1)!.args[0], "/usr/bin/x");
});

Deno.test("planChild: the container's PATH is used, not the default", () => {
  const fs = { ...HOST, "/r/opt/bin/x": "file" };
  equal(plan({ command: ["x"], env: ["PATH=/opt/bin/:/bin"] }, { fs }).steps.at(-1)!.args[0], "/opt/bin/x");
  throws(() => plan({ command: ["x"], env: ["PATH=/nowhere:relative"] }), HuskError);
});

Deno.test("planChild: a command is found in a bind-mounted directory", () => {
  const fs = { ...HOST, "/r/opt": "dir" };
  const exec = plan({ command: ["tool"], volumes: ["/host/tools:/opt/tools"], env: ["PATH=/opt/tools"] }, {
    fs,
  })
    .steps.at(-1)!;
  equal(exec.args[0], "/opt/tools/tool");
});

Deno.test("planChild: a command is found in a bind mount whose parent directory the plan creates", () => {
  // The rootfs has no /opt: the plan creates /opt and /opt/tools, then mounts /host/tools there, so
  // /opt/tools/tool exists when execve runs.
  const options = { command: ["tool"], volumes: ["/host/tools:/opt/tools"], env: ["PATH=/opt/tools"] };
  const { steps } = plan(options);
  ok(steps.some((s) => s.call === "mkdirat" && s.args[1] === "/r/opt"));
  equal(steps.at(-1)!.args[0], "/opt/tools/tool");
});

Deno.test("planChild: a command not found anywhere is Docker's 127", () => {
  throws(() => plan({ command: ["nope"] }), (e: unknown) => {
    ok(e instanceof HuskError);
    equal(e.exitCode, 127);
    ok(e.message.includes(`"nope"`));
    return true;
  });
});

Deno.test("planChild: a read-only bind volume is a bind mount then a read-only remount", () => {
  const { steps } = plan({ volumes: ["/host/data:/data:ro"] });
  const mounts = mountAt(steps, "/r/data");
  equal(mounts.length, 2);
  deepEqual(values(mounts[0]), ["/host/data", "/r/data", null, MS.BIND | MS.REC, null]);
  deepEqual(values(mounts[1]), [null, "/r/data", null, MS.RDONLY | MS.REMOUNT | MS.BIND, null]);
  equal(steps.indexOf(mounts[1]), steps.indexOf(mounts[0]) + 1);
  equal((mounts[1].args[3] as Named).name, "MS_RDONLY|MS_REMOUNT|MS_BIND");
  // The missing mount point is created first, as a directory.
  const mkdir = indexOf(steps, (s) => s.call === "mkdirat" && s.args[1] === "/r/data", "mkdir /r/data");
  ok(mkdir < steps.indexOf(mounts[0]));
});

Deno.test("planChild: a read-write bind volume needs no remount", () => {
  const mounts = mountAt(plan({ volumes: ["/host/data:/data"] }).steps, "/r/data");
  equal(mounts.length, 1);
  deepEqual(values(mounts[0]), ["/host/data", "/r/data", null, MS.BIND | MS.REC, null]);
});

Deno.test("planChild: a missing bind source is invalid input", () => {
  throwsInvalid(() => plan({ volumes: ["/host/missing:/data"] }), "/host/missing", "does not exist");
});

Deno.test("planChild: a file bind source onto a missing target creates an empty file", () => {
  const { steps } = plan({ volumes: ["/host/app.conf:/etc/app/app.conf"] });
  const mount = mountAt(steps, "/r/etc/app/app.conf")[0];
  const mkdir = indexOf(steps, (s) => s.call === "mkdirat" && s.args[1] === "/r/etc/app", "mkdir /etc/app");
  const mknod = indexOf(steps, (s) => s.call === "mknodat" && s.args[1] === "/r/etc/app/app.conf", "mknod");
  deepEqual(values(steps[mknod]), [AT_FDCWD, "/r/etc/app/app.conf", S_IFREG | 0o644, 0]);
  equal(steps[mknod].okErrno, 17);
  ok(mkdir < mknod && mknod < steps.indexOf(mount));
  ok(!steps.some((s) => s.call === "mkdirat" && s.args[1] === "/r/etc/app/app.conf"));
});

Deno.test("planChild: a directory bind onto a nested missing target creates each directory", () => {
  const { steps } = plan({ volumes: ["/host/data:/srv/a/b"] });
  const made = steps.filter((s) => s.call === "mkdirat" && String(s.args[1]).startsWith("/r/srv"));
  deepEqual(made.map((s) => s.args[1]), ["/r/srv", "/r/srv/a", "/r/srv/a/b"]);
  deepEqual(values(made[0]), [AT_FDCWD, "/r/srv", 0o755]);
});

Deno.test("planChild: a volume onto a symlink in the rootfs mounts inside the rootfs", () => {
  const fs = { ...HOST, "/r/etc/evil": "->/tmp/target", "/tmp/target": "dir" };
  const { steps } = plan({ volumes: ["/host/data:/etc/evil"] }, { fs });
  deepEqual(mountAt(steps, "/r/tmp/target").length, 1);
  ok(!mountsOf(steps).some((s) => s.args[1] === "/tmp/target" || s.args[1] === "/r/etc/evil"));
});

Deno.test("planChild: a nested volume is resolved through its parent volume", () => {
  const { steps } = plan({ volumes: ["/host/data/file:/data/f2", "/host/data:/data"] });
  // /data is mounted first (parents first); /data/f2 does not exist in /host/data and is created there.
  const parent = steps.indexOf(mountAt(steps, "/r/data")[0]);
  const mknod = indexOf(steps, (s) => s.call === "mknodat" && s.args[1] === "/r/data/f2", "mknod /data/f2");
  ok(parent < mknod);
  // /data/file exists in the volume: no mount point to create for a volume onto it.
  const again = plan({ volumes: ["/host/data:/data", "/host/app.conf:/data/file"] }).steps;
  ok(!again.some((s) => s.call === "mknodat" && s.args[1] === "/r/data/file"));
});

Deno.test("planChild: a symlink inside a volume mounted at a created directory is resolved in the container", () => {
  // /new does not exist in the rootfs; the plan creates /new/x and mounts /host/data there. The volume holds
  // a symlink to /etc/passwd, which must resolve to the container's /etc/passwd (before pivot_root the
  // kernel would follow it to the host's).
  const fs = { ...HOST, "/host/data/link": "->/etc/passwd" };
  const { steps } = plan({ volumes: ["/host/data:/new/x", "/host/app.conf:/new/x/link"] }, { fs });
  equal(mountAt(steps, "/r/etc/passwd").length, 1);
  equal(mountAt(steps, "/r/new/x/link").length, 0);
});

Deno.test("planChild: a tmpfs volume", () => {
  const { steps } = plan({ tmpfs: ["/scratch:size=1m"] });
  deepEqual(values(mountAt(steps, "/r/scratch")[0]), [
    "tmpfs",
    "/r/scratch",
    "tmpfs",
    MS.NOEXEC | MS.NOSUID | MS.NODEV,
    "size=1m",
  ]);
});

Deno.test("planChild: without -i, stdin is /dev/null, opened after the pivot", () => {
  const { steps } = plan();
  const open = indexOf(steps, isCall("openat"), "openat");
  deepEqual(values(steps[open]), [AT_FDCWD, "/dev/null", O_RDONLY, 0]);
  deepEqual([steps[open - 1].call, ...steps[open - 1].args], ["close", 0]);
  ok(indexOf(steps, isCall("pivot_root"), "pivot_root") < open);
});

Deno.test("planChild: with -i, stdin is left alone", () => {
  const { steps } = plan({ interactive: true });
  ok(!steps.some(isCall("openat")));
  ok(!steps.some((s) => s.call === "close" && s.args[0] === 0));
});

Deno.test("planChild: with a terminal, the pseudo-terminal sequence after the pivot", () => {
  const { steps } = plan({ tty: true, interactive: true });
  const pivot = indexOf(steps, isCall("pivot_root"), "pivot_root");
  const open = indexOf(steps, (s) => s.call === "openat" && s.args[1] === "/dev/pts/ptmx", "open ptmx");
  const order = [
    open,
    indexOf(steps, (s) => s.call === "ioctl" && value(s.args[1]) === TIOCSPTLCK, "TIOCSPTLCK"),
    indexOf(steps, (s) => s.call === "ioctl" && value(s.args[1]) === TIOCGPTPEER, "TIOCGPTPEER"),
    indexOf(steps, isCall("sendmsg"), "sendmsg"),
    indexOf(steps, isCall("setsid"), "setsid"),
    indexOf(steps, (s) => s.call === "ioctl" && value(s.args[1]) === TIOCSCTTY, "TIOCSCTTY"),
  ];
  ok(pivot < open);
  deepEqual(order, order.toSorted((a, b) => a - b), `out of order: ${order}`);
  const sendmsg = steps[order[3]];
  equal(sendmsg.args[0], 13);
  ok(sendmsg.args[1] instanceof Struct);
  equal(sendmsg.positive, true);
  ok(!steps.some((s) => s.call === "openat" && s.args[1] === "/dev/null"));
  // The terminal becomes stdin, stdout and stderr.
  const dups = steps.filter(isCall("dup3")).map((s) => s.args.slice(0, 2));
  deepEqual(dups, [[1, 0], [1, 2]]);
  ok(order[5] < indexOf(steps, isCall("execve"), "execve"));
});

Deno.test("planChild: a terminal needs the console socket", () => {
  throws(() => plan({ tty: true }, { wiring: NO_CONSOLE }), /console/);
});

Deno.test("planChild: the terminal's size is set before its slave side is opened", () => {
  const { steps } = plan({ tty: true, consoleSize: { rows: 40, columns: 120 } });
  const winsz = indexOf(steps, (s) => s.call === "ioctl" && value(s.args[1]) === TIOCSWINSZ, "TIOCSWINSZ");
  const bytes = steps[winsz].args[2] as Uint8Array;
  deepEqual([...new Uint16Array(bytes.slice().buffer)], [40, 120, 0, 0]);
  ok(winsz < indexOf(steps, (s) => s.call === "ioctl" && value(s.args[1]) === TIOCGPTPEER, "TIOCGPTPEER"));
  ok(!plan({ tty: true }).steps.some((s) => s.call === "ioctl" && value(s.args[1]) === TIOCSWINSZ));
});

Deno.test("planChild: ignored signals are reset to their default before the signal mask", () => {
  const { steps } = plan({}, { ignoredSignals: [13, 2] });
  const actions = steps.filter(isCall("rt_sigaction"));
  deepEqual(actions.map((s) => s.args[0]), [13, 2]);
  const first = steps.indexOf(actions[0]);
  equal(steps[first - 1].call, "close_range");
  equal(steps[first + 2].call, "rt_sigprocmask");
  // The sigaction is all zeroes: SIG_DFL, no flags, empty mask.
  ok((actions[0].args[1] as Uint8Array).every((b) => b === 0));
  equal(plan().steps.filter(isCall("rt_sigaction")).length, 0);
});

Deno.test("planChild: the user's ids: groups, then gid, then uid", () => {
  const { steps } = plan({ user: "1000:1000" });
  const groups = indexOf(steps, isCall("setgroups"), "setgroups");
  equal(steps[groups].args[0], 1);
  deepEqual([...new Uint32Array((steps[groups].args[1] as Uint8Array).slice().buffer)], [1000]);
  deepEqual([steps[groups + 1].call, ...steps[groups + 1].args], ["setresgid", 1000, 1000, 1000]);
  deepEqual([steps[groups + 2].call, ...steps[groups + 2].args], ["setresuid", 1000, 1000, 1000]);
  ok(indexOf(steps, isCall("pivot_root"), "pivot_root") < groups);
});

Deno.test("planChild: distinct uid and gid go to the right calls", () => {
  const { steps } = plan({ user: "1000:2000" });
  const groups = steps.find(isCall("setgroups"))!;
  deepEqual([...new Uint32Array((groups.args[1] as Uint8Array).slice().buffer)], [2000]);
  deepEqual(steps.find(isCall("setresgid"))!.args, [2000, 2000, 2000]);
  deepEqual(steps.find(isCall("setresuid"))!.args, [1000, 1000, 1000]);
});

Deno.test("planChild: root by default", () => {
  const { steps } = plan();
  deepEqual(steps.find(isCall("setresuid"))!.args, [0, 0, 0]);
  deepEqual(steps.find(isCall("setresgid"))!.args, [0, 0, 0]);
});

Deno.test("planChild: the working directory is entered, and created after the pivot when missing", () => {
  const { steps } = plan({ workdir: "/work/app" });
  const chdir = indexOf(steps, (s) => s.call === "chdir" && s.args[0] === "/work/app", "chdir workdir");
  const made = steps.filter((s) => s.call === "mkdirat" && String(s.args[1]).includes("work"));
  deepEqual(made.map((s) => s.args[1]), ["/work", "/work/app"]);
  ok(indexOf(steps, isCall("pivot_root"), "pivot_root") < steps.indexOf(made[0]));
  ok(steps.indexOf(made[1]) < chdir);
  const existing = plan({ workdir: "/tmp" }).steps;
  ok(!existing.some((s) => s.call === "mkdirat" && s.args[1] === "/tmp"));
  ok(existing.some((s) => s.call === "chdir" && s.args[0] === "/tmp"));
});

Deno.test("planChild: planning does not depend on the wiring's descriptors except where they are used", () => {
  const a = plan({}, { wiring: NO_CONSOLE }).steps.map((s) => s.call);
  const b = plan({}, { wiring: { syncRead: 3, syncWrite: 4, errRead: 5, dieWithParent: true } }).steps.map((
    s,
  ) => s.call);
  deepEqual(a, b);
  notEqual(a.length, 0);
});

// Confinement: where the capability, no_new_privs, seccomp and mask steps fall in the plan.

const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const isPrctl = (option: number) => (s: Step) => s.call === "prctl" && value(s.args[0]) === option;
const isMask = (s: Step) =>
  s.call === "mount" && ["/r/proc/kcore", "/r/proc/asound", "/r/sys/firmware", "/r/proc/sys"].includes(
    s.args[1] as string,
  );

Deno.test("planChild: the bounding set is reduced before setresuid, after the pivot", () => {
  const { steps } = plan();
  const drops = steps.filter(isPrctl(PR_CAPBSET_DROP));
  equal(drops.length, 41 - 14);
  const setresuid = indexOf(steps, isCall("setresuid"), "setresuid");
  const pivot = indexOf(steps, isCall("pivot_root"), "pivot_root");
  ok(drops.every((s) => steps.indexOf(s) < setresuid));
  ok(drops.every((s) => steps.indexOf(s) > pivot));
  // For a non-root user as well: after setresuid the capability to drop them is gone.
  const user = plan({ user: "1000:1000" }).steps;
  const userSetresuid = indexOf(user, isCall("setresuid"), "setresuid");
  ok(user.filter(isPrctl(PR_CAPBSET_DROP)).every((s) => user.indexOf(s) < userSetresuid));
});

Deno.test("planChild: without no_new_privs the seccomp filter is installed before setresuid and capset", () => {
  const { steps } = plan();
  equal(steps.filter(isCall("seccomp")).length, 1);
  const seccomp = indexOf(steps, isCall("seccomp"), "seccomp");
  ok(seccomp < indexOf(steps, isCall("setresuid"), "setresuid"));
  ok(seccomp < indexOf(steps, isCall("setgroups"), "setgroups"));
  ok(seccomp < indexOf(steps, isCall("capset"), "capset"));
  ok(seccomp > indexOf(steps, isCall("pivot_root"), "pivot_root"));
  ok(seccomp < indexOf(steps, isCall("execve"), "execve"));
  ok(!steps.some(isPrctl(PR_SET_NO_NEW_PRIVS)));
  // capset comes after the switch of user.
  ok(indexOf(steps, isCall("capset"), "capset") > indexOf(steps, isCall("setresuid"), "setresuid"));
});

Deno.test("planChild: with no-new-privileges the filter comes after the no_new_privs prctl", () => {
  const { steps } = plan({ securityOpt: ["no-new-privileges"] });
  equal(steps.filter(isCall("seccomp")).length, 1);
  const seccomp = indexOf(steps, isCall("seccomp"), "seccomp");
  const nnp = indexOf(steps, isPrctl(PR_SET_NO_NEW_PRIVS), "PR_SET_NO_NEW_PRIVS");
  deepEqual(values(steps[nnp]), [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0]);
  ok(nnp < seccomp);
  ok(indexOf(steps, isCall("setresuid"), "setresuid") < nnp);
  ok(indexOf(steps, isCall("capset"), "capset") < nnp);
  ok(seccomp < indexOf(steps, isCall("execve"), "execve"));
});

Deno.test("planChild: the masks come after the /proc and /sys mounts and before pivot_root", () => {
  const { steps } = plan();
  const masks = steps.filter(isMask);
  equal(masks.length, 5); // kcore, asound, firmware, and /proc/sys bound then remounted
  const proc = steps.indexOf(mountAt(steps, "/r/proc")[0]);
  const sys = steps.indexOf(mountAt(steps, "/r/sys")[0]);
  const pivot = indexOf(steps, isCall("pivot_root"), "pivot_root");
  ok(proc !== -1 && sys !== -1);
  for (const mask of masks) {
    const i = steps.indexOf(mask);
    ok(proc < i && sys < i && i < pivot, `${mask.what} at ${i}`);
  }
});

Deno.test("planChild: --read-only remounts the root after every other mount, before pivot_root", () => {
  const { steps } = plan({ readOnly: true, volumes: ["/host/data:/data"] });
  const root = mountAt(steps, ROOT);
  // The bind of the root onto itself, and the read-only remount.
  equal(root.length, 2);
  const remount = steps.indexOf(root[1]);
  deepEqual(values(root[1]), [null, ROOT, null, MS.BIND | MS.REMOUNT | MS.RDONLY, null]);
  ok(steps.findLastIndex(isCall("mount")) === remount);
  ok(remount > steps.indexOf(mountAt(steps, "/r/data")[0]));
  ok(remount < indexOf(steps, isCall("pivot_root"), "pivot_root"));
  equal(mountAt(plan().steps, ROOT).length, 1);
});

Deno.test("planChild: --privileged has no seccomp step, no mask and no bounding drop", () => {
  const { steps } = plan({ privileged: true });
  ok(!steps.some(isCall("seccomp")));
  ok(!steps.some(isMask));
  ok(!steps.some((s) => s.call === "mount" && s.args[0] === "/dev/null"));
  ok(!steps.some(isPrctl(PR_CAPBSET_DROP)));
  // Still root with every capability.
  ok(steps.some(isCall("capset")));
  // seccomp=unconfined alone drops the filter but keeps the masks.
  const unconfined = plan({ securityOpt: ["seccomp=unconfined"] }).steps;
  ok(!unconfined.some(isCall("seccomp")));
  ok(unconfined.some(isMask));
});
