import { deepEqual, equal, ok } from "node:assert/strict";
import { type Arg, Named, Struct } from "../../ffi/spawn.ts";
import type { RunOptions } from "../config/options.ts";
import { MASKED_DIRS, MASKED_FILES, READONLY_PATHS } from "../config/security.ts";
import { testConfig } from "../config/testing.ts";
import type { ContainerConfig } from "../config/types.ts";
import { CAPABILITIES, DEFAULT_CAPABILITIES } from "../security/capabilities.ts";
import { boundingSteps, capabilitySteps, maskSteps, seccompSteps } from "./confine.ts";
import type { Step } from "./plan.ts";

// The kernel's numbers, written out so that a wrong constant in linux.ts shows.
const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32;
const MS_BIND = 4096, MS_REC = 16384;
const ENOENT = 2, EINVAL = 22;
const PR_CAPBSET_DROP = 24, PR_SET_NO_NEW_PRIVS = 38, PR_CAP_AMBIENT = 47, PR_CAP_AMBIENT_CLEAR_ALL = 4;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const SECCOMP_SET_MODE_FILTER = 1;

const ROOT = "/r";
const ALL_CAPS = Object.keys(CAPABILITIES);

function config(o: Partial<RunOptions> = {}): ContainerConfig {
  return testConfig(ROOT, "/state/c", o);
}

const value = (a: Arg) => a instanceof Named ? a.value : a;
const values = (s: Step) => s.args.map(value);
const u32 = (bytes: Arg) => [...new Uint32Array((bytes as Uint8Array).slice().buffer)];

const isPrctl = (option: number) => (s: Step) => s.call === "prctl" && value(s.args[0]) === option;

// maskSteps

Deno.test("maskSteps: /dev/null is bound over each masked file, a missing one skipped", () => {
  const steps = maskSteps(config());
  const files = steps.filter((s) => s.args[0] === "/dev/null");
  deepEqual(files.map((s) => s.args[1]), MASKED_FILES.map((p) => ROOT + p));
  for (const s of files) {
    equal(s.call, "mount");
    deepEqual(values(s).slice(2), [null, MS_BIND, null]);
    equal(s.okErrno, ENOENT);
  }
  ok(files.some((s) => s.args[1] === "/r/proc/kcore"));
  ok(files.some((s) => s.args[1] === "/r/proc/keys"));
});

Deno.test("maskSteps: an empty read-only tmpfs over each masked directory", () => {
  const steps = maskSteps(config());
  const dirs = steps.filter((s) => s.args[0] === "tmpfs");
  deepEqual(dirs.map((s) => s.args[1]), MASKED_DIRS.map((p) => ROOT + p));
  for (const s of dirs) {
    equal(s.call, "mount");
    equal(s.args[2], "tmpfs");
    const flags = value(s.args[3]) as number;
    equal(flags & MS_RDONLY, MS_RDONLY, `${s.args[1]} is not read-only`);
    equal(flags & MS_BIND, 0);
    equal(flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC), MS_NOSUID | MS_NODEV | MS_NOEXEC);
    equal(s.okErrno, ENOENT);
  }
  ok(dirs.some((s) => s.args[1] === "/r/sys/firmware"));
});

Deno.test("maskSteps: each read-only path is bound onto itself, then remounted read-only", () => {
  const steps = maskSteps(config());
  for (const path of READONLY_PATHS) {
    const at = steps.filter((s) => s.args[1] === ROOT + path);
    equal(at.length, 2, path);
    const [bind, remount] = at;
    equal(steps.indexOf(remount), steps.indexOf(bind) + 1);
    deepEqual(values(bind), [ROOT + path, ROOT + path, null, MS_BIND | MS_REC, null]);
    equal(remount.args[0], null);
    equal(remount.args[2], null);
    const flags = value(remount.args[3]) as number;
    equal(flags & (MS_BIND | MS_REMOUNT | MS_RDONLY), MS_BIND | MS_REMOUNT | MS_RDONLY);
    equal(bind.okErrno, ENOENT);
    equal(remount.okErrno, ENOENT);
  }
  ok(steps.some((s) => s.args[1] === "/r/proc/sys"));
  ok(steps.some((s) => s.args[1] === "/r/proc/sysrq-trigger"));
});

Deno.test("maskSteps: the flags are named for the dry run", () => {
  const steps = maskSteps(config());
  const file = steps.find((s) => s.args[0] === "/dev/null")!;
  equal((file.args[3] as Named).name, "MS_BIND");
  const remount = steps.find((s) => s.args[0] === null)!;
  const name = (remount.args[3] as Named).name;
  for (const flag of ["MS_BIND", "MS_REMOUNT", "MS_RDONLY"]) ok(name.includes(flag), name);
});

Deno.test("maskSteps: only mounts, all under the root, one or two per path", () => {
  const steps = maskSteps(config());
  ok(steps.every((s) => s.call === "mount"));
  ok(steps.every((s) => String(s.args[1]).startsWith(ROOT + "/")));
  equal(steps.length, MASKED_FILES.length + MASKED_DIRS.length + 2 * READONLY_PATHS.length);
});

Deno.test("maskSteps: the root is remounted read-only only with --read-only, last", () => {
  const isRoot = (s: Step) => s.args[1] === ROOT;
  ok(!maskSteps(config()).some(isRoot));
  const steps = maskSteps(config({ readOnly: true }));
  equal(steps.filter(isRoot).length, 1);
  const root = steps.at(-1)!;
  ok(isRoot(root));
  deepEqual(values(root), [null, ROOT, null, MS_BIND | MS_REMOUNT | MS_RDONLY, null]);
  // A root that cannot be made read-only is an error, not skipped.
  equal(root.okErrno, undefined);
});

Deno.test("maskSteps: nothing is masked for a privileged container", () => {
  deepEqual(maskSteps(config({ privileged: true })), []);
  const steps = maskSteps(config({ privileged: true, readOnly: true }));
  equal(steps.length, 1);
  equal(steps[0].args[1], ROOT);
});

// boundingSteps

Deno.test("boundingSteps: PR_CAPBSET_DROP for every capability outside the default set", () => {
  const steps = boundingSteps(config());
  equal(steps.length, ALL_CAPS.length - DEFAULT_CAPABILITIES.length);
  const dropped = steps.map((s) => (s.args[1] as Named).name);
  deepEqual(
    [...dropped].sort(),
    ALL_CAPS.filter((c) => !DEFAULT_CAPABILITIES.includes(c)).sort(),
  );
  for (const s of steps) {
    equal(s.call, "prctl");
    const name = (s.args[1] as Named).name;
    deepEqual(values(s), [PR_CAPBSET_DROP, CAPABILITIES[name], 0, 0, 0]);
    // A capability newer than the kernel: EINVAL, skipped.
    equal(s.okErrno, EINVAL);
  }
  ok(dropped.includes("CAP_SYS_ADMIN"));
  ok(dropped.includes("CAP_CHECKPOINT_RESTORE"));
  ok(!dropped.includes("CAP_CHOWN"));
  ok(steps.some((s) => value(s.args[1]) === 21)); // CAP_SYS_ADMIN
  ok(steps.some((s) => value(s.args[1]) === 40)); // CAP_CHECKPOINT_RESTORE
});

Deno.test("boundingSteps: an added capability is kept, a dropped one goes", () => {
  const bits = (o: Partial<RunOptions>) => boundingSteps(config(o)).map((s) => value(s.args[1]));
  const added = bits({ capAdd: ["SYS_ADMIN", "CHECKPOINT_RESTORE"], capDrop: ["CHOWN"] });
  ok(!added.includes(21));
  ok(!added.includes(40));
  ok(added.includes(0));
  equal(added.length, ALL_CAPS.length - DEFAULT_CAPABILITIES.length - 2 + 1);
});

Deno.test("boundingSteps: --cap-drop ALL drops all 41, --privileged none", () => {
  const all = boundingSteps(config({ capDrop: ["ALL"] }));
  deepEqual(all.map((s) => value(s.args[1])), [...Array(41).keys()]);
  deepEqual(boundingSteps(config({ privileged: true })), []);
  deepEqual(boundingSteps(config({ capAdd: ["ALL"] })), []);
});

// capabilitySteps

Deno.test("capabilitySteps: root gets capset of exactly its set, version 3", () => {
  const steps = capabilitySteps(config());
  const capset = steps.filter((s) => s.call === "capset");
  equal(capset.length, 1);
  const [header, data] = capset[0].args;
  equal((header as Uint8Array).length, 8);
  deepEqual(u32(header), [LINUX_CAPABILITY_VERSION_3, 0]); // pid 0: this process
  equal((data as Uint8Array).length, 24);
  // Two __user_cap_data_struct {effective, permitted, inheritable}: the low words, then the high ones.
  deepEqual(u32(data), [0xa80425fb, 0xa80425fb, 0, 0, 0, 0]);
  equal(steps[0].call, "capset");
});

Deno.test("capabilitySteps: capabilities above bit 31 go in the high words", () => {
  const steps = capabilitySteps(config({ capAdd: ["CHECKPOINT_RESTORE", "MAC_OVERRIDE"], capDrop: ["ALL"] }));
  const data = steps.find((s) => s.call === "capset")!.args[1];
  deepEqual(u32(data), [0, 0, 0, 0x101, 0x101, 0]);
  const all = capabilitySteps(config({ privileged: true })).find((s) => s.call === "capset")!.args[1];
  deepEqual(u32(all), [0xffffffff, 0xffffffff, 0, 0x1ff, 0x1ff, 0]);
  const none = capabilitySteps(config({ capDrop: ["ALL"] })).find((s) => s.call === "capset")!.args[1];
  deepEqual(u32(none), [0, 0, 0, 0, 0, 0]);
});

Deno.test("capabilitySteps: no capset for a user other than root", () => {
  const steps = capabilitySteps(config({ user: "1000:1000", capAdd: ["NET_ADMIN"] }));
  ok(!steps.some((s) => s.call === "capset"));
  // gid 0 does not make a root user.
  ok(!capabilitySteps(config({ user: "1000:0" })).some((s) => s.call === "capset"));
  ok(capabilitySteps(config({ user: "0:1000" })).some((s) => s.call === "capset"));
});

Deno.test("capabilitySteps: the ambient set is cleared, for root and any other user", () => {
  for (const user of [undefined, "1000"]) {
    const steps = capabilitySteps(config({ user }));
    const clear = steps.filter(isPrctl(PR_CAP_AMBIENT));
    equal(clear.length, 1);
    deepEqual(values(clear[0]), [PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0]);
    equal(clear[0].okErrno, EINVAL);
  }
  const steps = capabilitySteps(config());
  ok(steps.findIndex((s) => s.call === "capset") < steps.findIndex(isPrctl(PR_CAP_AMBIENT)));
});

Deno.test("capabilitySteps: PR_SET_NO_NEW_PRIVS only with no-new-privileges, last", () => {
  ok(!capabilitySteps(config()).some(isPrctl(PR_SET_NO_NEW_PRIVS)));
  ok(
    !capabilitySteps(config({ securityOpt: ["no-new-privileges:false"] })).some(isPrctl(PR_SET_NO_NEW_PRIVS)),
  );
  for (const opt of ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"]) {
    for (const user of [undefined, "1000"]) {
      const steps = capabilitySteps(config({ securityOpt: [opt], user }));
      const nnp = steps.filter(isPrctl(PR_SET_NO_NEW_PRIVS));
      equal(nnp.length, 1, opt);
      deepEqual(values(nnp[0]), [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0]);
      equal(nnp[0].okErrno, undefined);
      equal(steps.at(-1), nnp[0]);
    }
  }
});

// seccompSteps

Deno.test("seccompSteps: no filter, no step", () => {
  deepEqual(seccompSteps(null), []);
});

Deno.test("seccompSteps: seccomp(SECCOMP_SET_MODE_FILTER, 0, sock_fprog) with the instruction count", () => {
  const program = new Uint8Array(3 * 8).fill(7);
  const steps = seccompSteps(program);
  equal(steps.length, 1);
  const [step] = steps;
  equal(step.call, "seccomp");
  equal(value(step.args[0]), SECCOMP_SET_MODE_FILTER);
  equal(step.args[1], 0);
  const fprog = step.args[2];
  ok(fprog instanceof Struct);
  equal(fprog.words.length, 2);
  equal(fprog.words[0], 3);
  equal(fprog.words[1], program);
  ok(fprog.name.includes("3"));
  equal(step.okErrno, undefined);
  equal((seccompSteps(new Uint8Array(8 * 100)).at(0)!.args[2] as Struct).words[0], 100);
});
