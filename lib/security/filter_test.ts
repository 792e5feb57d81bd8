import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import type { RunOptions } from "../config/options.ts";
import { buildSecurity } from "../config/security.ts";
import { testConfig } from "../config/testing.ts";
import type { ContainerConfig } from "../config/types.ts";

import { CAPABILITIES } from "./capabilities.ts";
import { seccompProgram } from "./filter.ts";
import { runFilter } from "./seccomp.ts";
import { X86_64_SYSCALLS } from "./syscalls_x86_64.ts";
import { throwsInvalid } from "../testing/errors.ts";

// The kernel's values, written out.
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const ALLOW = 0x7fff0000;
const ERRNO = 0x00050000;
const EPERM = 1, ENOSYS = 38;
const KILL_PROCESS = 0x80000000;

const ALL_CAPS = Object.keys(CAPABILITIES);

function config(o: Partial<RunOptions> = {}): ContainerConfig {
  return testConfig("/r", "/state/c", o);
}

/** A config whose --security-opt seccomp=PATH reads `files`. */
function withProfile(files: Record<string, string>, o: Partial<RunOptions> = {}): ContainerConfig {
  const base = config({ ...o, securityOpt: [] });
  const options = {
    capAdd: [],
    capDrop: [],
    privileged: false,
    readOnly: false,
    securityOpt: [],
    ...o,
  };
  const security = buildSecurity(options, (path) => {
    if (!(path in files)) throw new Error(`no file ${path}`);
    return files[path];
  }, ALL_CAPS);
  return { ...base, security };
}

function call(program: Uint8Array | null, name: string, ...args: number[]): number {
  ok(program !== null, "no program");
  const nr = X86_64_SYSCALLS[name];
  notEqual(nr, undefined, `no syscall ${name}`);
  return runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args: args.map(BigInt) });
}

Deno.test("seccompProgram: none when unconfined", () => {
  equal(seccompProgram(config({ securityOpt: ["seccomp=unconfined"] })), null);
  equal(seccompProgram(config({ privileged: true })), null);
});

Deno.test("seccompProgram: the default profile is a whole number of BPF instructions", () => {
  const program = seccompProgram(config());
  ok(program instanceof Uint8Array);
  ok(program.length > 0);
  equal(program.length % 8, 0);
  ok(program.length / 8 <= 4096);
});

Deno.test("seccompProgram: the default profile denies keyctl with EPERM and allows ordinary calls", () => {
  const program = seccompProgram(config());
  equal(call(program, "keyctl", 0), ERRNO | EPERM);
  equal(call(program, "add_key"), ERRNO | EPERM);
  for (const name of ["read", "write", "getpid", "execve", "setresuid", "capset", "prctl", "close_range"]) {
    equal(call(program, name), ALLOW, name);
  }
  // Even with every capability, keyctl stays denied.
  equal(call(seccompProgram(config({ capAdd: ["ALL"] })), "keyctl"), ERRNO | EPERM);
});

Deno.test("seccompProgram: mount only with CAP_SYS_ADMIN in the container's set", () => {
  equal(call(seccompProgram(config()), "mount"), ERRNO | EPERM);
  equal(call(seccompProgram(config()), "umount2"), ERRNO | EPERM);
  const admin = seccompProgram(config({ capAdd: ["SYS_ADMIN"] }));
  equal(call(admin, "mount"), ALLOW);
  equal(call(admin, "umount2"), ALLOW);
  // Another capability does not do.
  equal(call(seccompProgram(config({ capAdd: ["NET_ADMIN"] })), "mount"), ERRNO | EPERM);
  equal(call(seccompProgram(config({ capAdd: ["ALL"], capDrop: ["SYS_ADMIN"] })), "mount"), ERRNO | EPERM);
});

Deno.test("seccompProgram: the default profile kills other architectures", () => {
  const program = seccompProgram(config())!;
  equal(runFilter(program, { nr: 0, arch: AUDIT_ARCH_I386, args: [] }), KILL_PROCESS);
});

Deno.test("seccompProgram: a profile given as text is parsed and compiled", () => {
  const profile = JSON.stringify({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["read", "write", "exit_group"], action: "SCMP_ACT_ALLOW" },
      { names: ["getpid"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
    ],
  });
  const c = withProfile({ "/p/allow.json": profile }, { securityOpt: ["seccomp=/p/allow.json"] });
  deepEqual(c.security.seccomp, { kind: "profile", path: "/p/allow.json", text: profile });
  const program = seccompProgram(c);
  equal(call(program, "read"), ALLOW);
  equal(call(program, "write"), ALLOW);
  equal(call(program, "exit_group"), ALLOW);
  equal(call(program, "getpid"), ERRNO | ENOSYS);
  // Not in the list: the profile's default, where husk's own profile would allow it.
  equal(call(program, "openat"), ERRNO | EPERM);
  equal(call(seccompProgram(config()), "openat"), ALLOW);
  // keyctl is denied here only because the list lacks it; mount likewise, whatever the capabilities.
  equal(call(program, "keyctl"), ERRNO | EPERM);
  const admin = withProfile({ "/p/allow.json": profile }, {
    securityOpt: ["seccomp=/p/allow.json"],
    capAdd: ["SYS_ADMIN"],
  });
  equal(call(seccompProgram(admin), "mount"), ERRNO | EPERM);
});

Deno.test("seccompProgram: a profile's capability conditions see the container's capabilities", () => {
  const profile = JSON.stringify({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mount"], action: "SCMP_ACT_ERRNO", excludes: { caps: ["CAP_SYS_ADMIN"] } }],
  });
  const files = { "/p.json": profile };
  const plain = withProfile(files, { securityOpt: ["seccomp=/p.json"] });
  equal(call(seccompProgram(plain), "mount"), ERRNO | EPERM);
  const admin = withProfile(files, { securityOpt: ["seccomp=/p.json"], capAdd: ["SYS_ADMIN"] });
  equal(call(seccompProgram(admin), "mount"), ALLOW);
});

Deno.test("seccompProgram: a given profile applies even with --privileged", () => {
  const profile = JSON.stringify({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["keyctl"], action: "SCMP_ACT_ERRNO" }],
  });
  const c = withProfile({ "/p.json": profile }, { securityOpt: ["seccomp=/p.json"], privileged: true });
  const program = seccompProgram(c);
  equal(call(program, "keyctl"), ERRNO | EPERM);
  equal(call(program, "mount"), ALLOW);
});

Deno.test("seccompProgram: a broken profile is invalid input naming its path", () => {
  const files = {
    "/p/not-json.json": "{ defaultAction: ",
    "/p/bad-action.json": JSON.stringify({ defaultAction: "SCMP_ACT_EXPLODE", syscalls: [] }),
    "/p/bad-key.json": JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", inclues: {} }],
    }),
  };
  for (const path of Object.keys(files)) {
    const c = withProfile(files, { securityOpt: [`seccomp=${path}`] });
    throwsInvalid(() => seccompProgram(c), path);
  }
});
