import assert from "node:assert/strict";
import { InvalidInputError } from "../errors.ts";
import { throwsInvalid } from "../testing/errors.ts";
import {
  AUDIT_ARCH_X86_64,
  BPF_MAXINSNS,
  compileProfile,
  DEFAULT_PROFILE,
  disassemble,
  parseProfile,
  type Profile,
  runFilter,
  type SeccompAction,
  type SeccompArg,
  type SeccompData,
  type SeccompOperator,
  type SeccompRule,
  validateProfile,
} from "./seccomp.ts";
import { X86_64_SYSCALLS } from "./syscalls_x86_64.ts";

const ALLOW = 0x7fff0000;
const EPERM_RET = 0x00050001;
const ENOSYS_RET = 0x00050026;
const KILL_PROCESS = 0x80000000;
const KILL_THREAD = 0;
const TRAP = 0x00030000;
const LOG = 0x7ffc0000;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
/** What glibc's fork() passes: CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD. */
const FORK_FLAGS = 0x01200011;
/** What pthread_create passes. */
const THREAD_FLAGS = 0x003d0f00;

const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const NR = X86_64_SYSCALLS;
const NAMES: Record<number, string> = Object.fromEntries(Object.entries(NR).map(([name, nr]) => [nr, name]));

/** Runs `name` with `args` (numbers or bigints) through `program` on x86_64. */
function call(program: Uint8Array, name: string, ...args: (number | bigint)[]): number {
  const nr = NR[name];
  assert.notEqual(nr, undefined, `no syscall ${name}`);
  return runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args: args.map((a) => BigInt(a)) });
}

function compile(profile: Profile, caps: string[] = [], kernelVersion?: string): Uint8Array {
  const program = compileProfile(profile, { capabilities: new Set(caps), kernelVersion });
  verify(program);
  return program;
}

/**
 * What the kernel's checker (and more) demands of a program: known opcodes, every jump inside the program and
 * forward, loads aligned inside seccomp_data, a RET at the end; also that every instruction is reachable.
 */
function verify(program: Uint8Array): void {
  assert.equal(program.length % 8, 0);
  const count = program.length / 8;
  assert.ok(count >= 1 && count <= BPF_MAXINSNS, `${count} instructions`);
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const reachable = new Array<boolean>(count).fill(false);
  reachable[0] = true;
  for (let pc = 0; pc < count; pc++) {
    const code = view.getUint16(pc * 8, true);
    const jt = view.getUint8(pc * 8 + 2);
    const jf = view.getUint8(pc * 8 + 3);
    const k = view.getUint32(pc * 8 + 4, true);
    const to = (offset: number) => {
      const target = pc + 1 + offset;
      assert.ok(target < count, `jump at ${pc} leaves the program`);
      if (reachable[pc]) reachable[target] = true;
    };
    switch (code) {
      case 0x20: // ld [k]
        assert.ok(k % 4 === 0 && k < 64, `load of ${k} at ${pc}`);
        to(0);
        break;
      case 0x54: // and #k
        to(0);
        break;
      case 0x05: // ja
        to(k);
        break;
      case 0x15:
      case 0x25:
      case 0x35:
      case 0x45:
        assert.ok(jt <= 255 && jf <= 255);
        to(jt);
        to(jf);
        break;
      case 0x06: // ret
        break;
      default:
        assert.fail(`opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  assert.equal(view.getUint16((count - 1) * 8, true), 0x06, "the program ends with RET");
  const unreachable = reachable.flatMap((r, pc) => r ? [] : [pc]);
  assert.deepEqual(unreachable, [], "unreachable instructions");
}

// ---------------------------------------------------------------------------------------------------------------

Deno.test("syscall table: x86_64 numbers, unique, no x32 entries", () => {
  assert.equal(NR.read, 0);
  assert.equal(NR.write, 1);
  assert.equal(NR.clone, 56);
  assert.equal(NR.execve, 59);
  assert.equal(NR.mount, 165);
  assert.equal(NR._sysctl, 156);
  assert.equal(NR.clone3, 435);
  assert.equal(NR.mseal, 462);
  const numbers = Object.values(NR);
  assert.equal(new Set(numbers).size, numbers.length);
  assert.ok(numbers.length > 370, `${numbers.length} syscalls`);
  assert.ok(numbers.every((n) => Number.isInteger(n) && n >= 0 && n < 512));
  assert.equal(NR.vm86, undefined);
  assert.equal(NR.mmap2, undefined);
});

Deno.test("default profile: ordinary calls are allowed", () => {
  const program = compile(DEFAULT_PROFILE);
  for (
    const name of ["read", "write", "openat", "execve", "exit_group", "mmap", "futex", "socket", "ioctl"]
  ) {
    assert.equal(call(program, name, 3, 0, 0), ALLOW, name);
  }
  assert.equal(call(program, "clone", FORK_FLAGS), ALLOW);
  assert.equal(call(program, "clone", THREAD_FLAGS), ALLOW);
  assert.equal(call(program, "socket", 2, 1, 0), ALLOW); // AF_INET
  assert.equal(call(program, "socket", 1, 1, 0), ALLOW); // AF_UNIX
  // Syscalls newer than the table are allowed too: the default profile is a deny list.
  assert.equal(runFilter(program, { nr: 471, arch: AUDIT_ARCH_X86_64, args: [] }), ALLOW);
});

Deno.test("default profile: dangerous calls fail with EPERM", () => {
  const program = compile(DEFAULT_PROFILE);
  const denied = [
    "keyctl",
    "add_key",
    "request_key",
    "mount",
    "umount2",
    "pivot_root",
    "setns",
    "unshare",
    "ptrace",
    "process_vm_readv",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "reboot",
    "bpf",
    "perf_event_open",
    "open_by_handle_at",
    "userfaultfd",
    "fsopen",
    "move_mount",
    "open_tree",
    "settimeofday",
    "clock_settime",
    "acct",
    "iopl",
    "ioperm",
    "swapon",
    "_sysctl",
    "syslog",
  ];
  for (const name of denied) assert.equal(call(program, name), EPERM_RET, name);
});

Deno.test("default profile: capabilities lift the matching denials", () => {
  const admin = compile(DEFAULT_PROFILE, ["CAP_SYS_ADMIN"]);
  for (
    const name of ["mount", "umount2", "pivot_root", "setns", "unshare", "bpf", "perf_event_open", "fsopen"]
  ) {
    assert.equal(call(admin, name), ALLOW, name);
  }
  assert.equal(call(admin, "clone", CLONE_NEWUSER | CLONE_NEWNS), ALLOW);
  assert.equal(call(admin, "clone3"), ALLOW);
  assert.equal(call(admin, "ptrace"), EPERM_RET);
  assert.equal(call(admin, "keyctl"), EPERM_RET);

  const ptrace = compile(DEFAULT_PROFILE, ["CAP_SYS_PTRACE"]);
  assert.equal(call(ptrace, "ptrace"), ALLOW);
  assert.equal(call(ptrace, "process_vm_writev"), ALLOW);
  assert.equal(call(ptrace, "mount"), EPERM_RET);

  const more = compile(DEFAULT_PROFILE, ["CAP_SYS_MODULE", "CAP_SYS_BOOT", "CAP_SYS_TIME", "cap_sys_rawio"]);
  for (const name of ["init_module", "reboot", "clock_settime", "settimeofday", "clock_adjtime", "iopl"]) {
    assert.equal(call(more, name), ALLOW, name);
  }
  assert.equal(call(more, "acct"), EPERM_RET);
  assert.equal(call(compile(DEFAULT_PROFILE, ["CAP_BPF"]), "bpf"), ALLOW);
});

Deno.test("default profile: mknod of block devices only is denied", () => {
  const program = compile(DEFAULT_PROFILE);
  const AT_FDCWD = -100;
  assert.equal(call(program, "mknodat", AT_FDCWD, 0x1000, S_IFBLK | 0o600, 0x0801), EPERM_RET);
  assert.equal(call(program, "mknodat", AT_FDCWD, 0x1000, S_IFCHR | 0o666, 0x0103), ALLOW);
  assert.equal(call(program, "mknodat", AT_FDCWD, 0x1000, S_IFREG | 0o644, 0), ALLOW);
  assert.equal(call(program, "mknodat", AT_FDCWD, 0x1000, 0o010644, 0), ALLOW); // FIFO
  assert.equal(call(program, "mknod", 0x1000, S_IFBLK | 0o600, 0x0801), EPERM_RET);
  assert.equal(call(program, "mknod", 0x1000, S_IFCHR | 0o600, 0x0103), ALLOW);
  // The kernel ignores the high 32 bits of mode; so does the test.
  assert.equal(call(program, "mknodat", AT_FDCWD, 0x1000, 0xdead_0000_0000n | BigInt(S_IFBLK), 0), EPERM_RET);
});

Deno.test("default profile: clone creating namespaces is denied, clone3 gets ENOSYS", () => {
  const program = compile(DEFAULT_PROFILE);
  for (
    const flag of [
      CLONE_NEWNS,
      CLONE_NEWCGROUP,
      CLONE_NEWUTS,
      CLONE_NEWIPC,
      CLONE_NEWUSER,
      CLONE_NEWPID,
      CLONE_NEWNET,
    ]
  ) {
    assert.equal(call(program, "clone", FORK_FLAGS | flag), EPERM_RET, `0x${flag.toString(16)}`);
  }
  assert.equal(call(program, "clone", CLONE_NEWUSER), EPERM_RET);
  assert.equal(call(program, "clone", 0xffff_ffff_0000_0000n | BigInt(CLONE_NEWUSER)), EPERM_RET);
  assert.equal(call(program, "clone", 0x1_0000_0000n | BigInt(FORK_FLAGS)), ALLOW);
  assert.equal(call(program, "clone3", 0x1000, 88), ENOSYS_RET);
});

Deno.test("default profile: personality only with Docker's harmless values", () => {
  const program = compile(DEFAULT_PROFILE);
  for (const persona of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
    assert.equal(call(program, "personality", persona), ALLOW, `0x${persona.toString(16)}`);
  }
  for (const persona of [0x0400000, /* READ_IMPLIES_EXEC */ 0x0040000, /* ADDR_COMPAT_LAYOUT */ 1, 0x20009]) {
    assert.equal(call(program, "personality", persona), EPERM_RET, `0x${persona.toString(16)}`);
  }
});

Deno.test("default profile: AF_ALG and AF_VSOCK sockets are denied, whatever the high bits", () => {
  const program = compile(DEFAULT_PROFILE);
  assert.equal(call(program, "socket", 38, 5, 0), EPERM_RET);
  assert.equal(call(program, "socket", 40, 1, 0), EPERM_RET);
  assert.equal(call(program, "socket", 0x1_0000_0026n, 5, 0), EPERM_RET);
  assert.equal(call(program, "socket", 39, 1, 0), ALLOW);
});

Deno.test("foreign architectures are killed, x32 numbers refused, nr -1 passes", () => {
  const program = compile(DEFAULT_PROFILE);
  for (const arch of [AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0]) {
    assert.equal(runFilter(program, { nr: NR.read, arch, args: [] }), KILL_PROCESS);
  }
  for (const nr of [0x40000000, 0x40000000 | NR.mount, 0x40000000 | 521, /* x32 ptrace */ 0xfffffffe]) {
    assert.equal(
      runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args: [] }),
      EPERM_RET,
      `nr 0x${nr.toString(16)}`,
    );
  }
  assert.equal(runFilter(program, { nr: -1, arch: AUDIT_ARCH_X86_64, args: [] }), ALLOW);

  // With a denying default the x32 numbers get the default.
  const strict = compile({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, syscalls: [] });
  assert.equal(runFilter(strict, { nr: 0x40000001, arch: AUDIT_ARCH_X86_64, args: [] }), ENOSYS_RET);
  assert.equal(runFilter(strict, { nr: NR.read, arch: AUDIT_ARCH_I386, args: [] }), KILL_PROCESS);
});

Deno.test("default profile size", () => {
  const program = compile(DEFAULT_PROFILE);
  const count = program.length / 8;
  assert.ok(count < 150, `${count} instructions`);
  assert.match(disassemble(program).split("\n")[0], /^\s+0: ld \[4\]$/);
});

// ---------------------------------------------------------------------------------------------------------------

const ALLOW_LIST = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "syscalls": [
    { "names": ["read", "write", "exit_group", "vm86", "no_such_call"], "action": "SCMP_ACT_ALLOW" },
    { "name": "close", "action": "SCMP_ACT_ALLOW", "comment": "the deprecated form" },
    { "names": ["lseek"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 1, "value": 4294967301, "op": "SCMP_CMP_LT" }] },
    { "names": ["pread64"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 3, "value": 8589934592, "valueTwo": 0, "op": "SCMP_CMP_GE" }] },
    { "names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 1, "value": 9, "op": "SCMP_CMP_NE" }] },
    { "names": ["mmap"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 2, "value": 64424509444, "valueTwo": 4294967300, "op": "SCMP_CMP_MASKED_EQ" }] },
    { "names": ["pwrite64"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 2, "value": 18446744069414584320, "op": "SCMP_CMP_LE" },
               { "index": 3, "value": 4294967296, "op": "SCMP_CMP_GT" }] },
    { "names": ["getpid"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ" }] },
    { "names": ["openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 },
    { "names": ["getuid"], "action": "SCMP_ACT_KILL" },
    { "names": ["getgid"], "action": "SCMP_ACT_KILL_PROCESS" },
    { "names": ["getppid"], "action": "SCMP_ACT_TRAP" },
    { "names": ["gettid"], "action": "SCMP_ACT_LOG" },
    { "names": ["getpgrp"], "action": "SCMP_ACT_KILL_THREAD" },
    { "names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_CHROOT"] } },
    { "names": ["sync"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["arm64"] } },
    { "names": ["syncfs"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["x86_64"] } },
    { "names": ["fsync"], "action": "SCMP_ACT_ALLOW", "excludes": { "arches": ["amd64"] } }
  ]
}`;

Deno.test("Docker-format allow list: names, actions, conditions", () => {
  const profile = parseProfile(ALLOW_LIST, "allow.json");
  const program = compile(profile);
  assert.equal(call(program, "read", 0, 0, 10), ALLOW);
  assert.equal(call(program, "write", 1, 0, 10), ALLOW);
  assert.equal(call(program, "close", 3), ALLOW);
  assert.equal(call(program, "exit_group", 0), ALLOW);
  assert.equal(call(program, "execve"), EPERM_RET);
  assert.equal(call(program, "openat"), 0x0005000d);
  assert.equal(call(program, "getuid"), KILL_THREAD);
  assert.equal(call(program, "getgid"), KILL_PROCESS);
  assert.equal(call(program, "getppid"), TRAP);
  assert.equal(call(program, "gettid"), LOG);
  assert.equal(call(program, "getpgrp"), KILL_THREAD);
  assert.equal(call(program, "chroot"), EPERM_RET);
  assert.equal(call(compile(profile, ["CAP_SYS_CHROOT"]), "chroot"), ALLOW);
  assert.equal(call(program, "sync"), EPERM_RET);
  assert.equal(call(program, "syncfs"), ALLOW);
  assert.equal(call(program, "fsync"), EPERM_RET);
  // x32 gets the default of a denying profile.
  assert.equal(runFilter(program, { nr: 0x40000000, arch: AUDIT_ARCH_X86_64, args: [] }), EPERM_RET);
});

Deno.test("Docker-format allow list: 64-bit argument comparisons, high words included", () => {
  const program = compile(parseProfile(ALLOW_LIST, "allow.json"));
  // lseek: offset < 0x1_0000_0005
  assert.equal(call(program, "lseek", 3, 5), ALLOW);
  assert.equal(call(program, "lseek", 3, 0xffffffff), ALLOW);
  assert.equal(call(program, "lseek", 3, 0x1_0000_0004), ALLOW);
  assert.equal(call(program, "lseek", 3, 0x1_0000_0005), EPERM_RET);
  assert.equal(call(program, "lseek", 3, 0x2_0000_0000), EPERM_RET);
  assert.equal(call(program, "lseek", 3, -1), EPERM_RET); // 2^64-1
  // pread64: offset >= 0x2_0000_0000
  assert.equal(call(program, "pread64", 3, 0, 0, 0x1_ffff_ffff), EPERM_RET);
  assert.equal(call(program, "pread64", 3, 0, 0, 0xffff_ffff), EPERM_RET);
  assert.equal(call(program, "pread64", 3, 0, 0, 0x2_0000_0000), ALLOW);
  assert.equal(call(program, "pread64", 3, 0, 0, 0x2_0000_0001), ALLOW);
  assert.equal(call(program, "pread64", 3, 0, 0, 0x3_0000_0000), ALLOW);
  // kill: signal != 9, as 64-bit values
  assert.equal(call(program, "kill", 1, 15), ALLOW);
  assert.equal(call(program, "kill", 1, 9), EPERM_RET);
  assert.equal(call(program, "kill", 1, 0x1_0000_0009), ALLOW);
  // mmap: (prot & 0xf_0000_0004) == 0x1_0000_0004
  assert.equal(call(program, "mmap", 0, 0, 0x1_0000_0004), ALLOW);
  assert.equal(call(program, "mmap", 0, 0, 0x1_0000_0007), ALLOW);
  assert.equal(call(program, "mmap", 0, 0, 0xf1_0000_0004), ALLOW);
  assert.equal(call(program, "mmap", 0, 0, 0x2_0000_0004), EPERM_RET);
  assert.equal(call(program, "mmap", 0, 0, 0x1_0000_0003), EPERM_RET);
  assert.equal(call(program, "mmap", 0, 0, 4), EPERM_RET);
  // pwrite64: count <= 0xffff_ffff_0000_0000 AND offset > 0x1_0000_0000 (ANDed)
  assert.equal(call(program, "pwrite64", 3, 0, 0xffff_ffff_0000_0000n, 0x1_0000_0001), ALLOW);
  assert.equal(call(program, "pwrite64", 3, 0, 0xffff_ffff_0000_0001n, 0x1_0000_0001), EPERM_RET);
  assert.equal(call(program, "pwrite64", 3, 0, 0xffff_fffe_ffff_ffffn, 0x1_0000_0001), ALLOW);
  assert.equal(call(program, "pwrite64", 3, 0, 10, 0x1_0000_0000), EPERM_RET);
  assert.equal(call(program, "pwrite64", 3, 0, 10, 0x2_0000_0000), ALLOW);
  // getpid: arg0 == 2^64-1 exactly (parsed without losing precision)
  assert.equal(call(program, "getpid", -1), ALLOW);
  assert.equal(call(program, "getpid", 0xffff_ffff_ffff_fffen), EPERM_RET);
  assert.equal(call(program, "getpid", 0xffff_ffff), EPERM_RET);
});

Deno.test("several rules for one syscall: first match wins, in profile order", () => {
  const tcgets: SeccompRule = {
    names: ["ioctl"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: 25,
    args: [{ index: 1, value: 0x5401, op: "SCMP_CMP_EQ" }],
  };
  const fionread: SeccompRule = {
    names: ["ioctl"],
    action: "SCMP_ACT_LOG",
    args: [{ index: 1, value: 0x541b, op: "SCMP_CMP_EQ" }],
  };
  const any: SeccompRule = { names: ["ioctl"], action: "SCMP_ACT_ALLOW" };
  const first = compile({ defaultAction: "SCMP_ACT_KILL_PROCESS", syscalls: [tcgets, fionread, any] });
  assert.equal(call(first, "ioctl", 0, 0x5401), 0x00050019);
  assert.equal(call(first, "ioctl", 0, 0x541b), LOG);
  assert.equal(call(first, "ioctl", 0, 0x5402), ALLOW);
  const last = compile({ defaultAction: "SCMP_ACT_KILL_PROCESS", syscalls: [any, tcgets, fionread] });
  assert.equal(call(last, "ioctl", 0, 0x5401), ALLOW);
  const none = compile({ defaultAction: "SCMP_ACT_KILL_PROCESS", syscalls: [tcgets, fionread] });
  assert.equal(call(none, "ioctl", 0, 0x5402), KILL_PROCESS);
  assert.equal(call(none, "read"), KILL_PROCESS);
});

Deno.test("errno: the rule's, else the profile's default, else EPERM", () => {
  const rule = (errnoRet?: number): SeccompRule => ({ names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet });
  assert.equal(call(compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [rule(5)] }), "read"), 0x00050005);
  assert.equal(
    call(compile({ defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: 38, syscalls: [rule()] }), "read"),
    ENOSYS_RET,
  );
  assert.equal(call(compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [rule()] }), "read"), EPERM_RET);
});

Deno.test("minKernel: checked against kernelVersion when given", () => {
  const profile: Profile = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["ptrace"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4.8" } },
      { names: ["kcmp"], action: "SCMP_ACT_ALLOW", excludes: { minKernel: "5.10" } },
    ],
  };
  assert.equal(call(compile(profile, [], "4.4.0-21-generic"), "ptrace"), EPERM_RET);
  assert.equal(call(compile(profile, [], "4.4.0-21-generic"), "kcmp"), ALLOW);
  assert.equal(call(compile(profile, [], "6.8.0-45-generic"), "ptrace"), ALLOW);
  assert.equal(call(compile(profile, [], "6.8.0-45-generic"), "kcmp"), EPERM_RET);
  assert.equal(call(compile(profile, [], "4.10"), "ptrace"), ALLOW);
  assert.equal(call(compile(profile), "ptrace"), ALLOW); // no version: new enough
  throwsInvalid(() => compile(profile, [], "banana"), "kernel version");
});

// A trimmed sample of moby's profiles/seccomp/default.json: the same constructs (archMap, includes caps, arches
// and minKernel, excludes caps and arches, argument tests on socket, personality and clone, clone3 ENOSYS).
const MOBY_SAMPLE = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { "architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null }
  ],
  "syscalls": [
    { "names": ["read", "write", "execve", "exit_group", "fork", "clock_gettime64", "fstat64"],
      "action": "SCMP_ACT_ALLOW" },
    { "names": ["process_vm_readv", "process_vm_writev", "ptrace"], "action": "SCMP_ACT_ALLOW",
      "includes": { "minKernel": "4.8" } },
    { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 38, "op": "SCMP_CMP_LT" }] },
    { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 39, "op": "SCMP_CMP_EQ" }] },
    { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 40, "op": "SCMP_CMP_GT" }] },
    { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 0, "value": 0, "op": "SCMP_CMP_EQ" }] },
    { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ" }] },
    { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64", "x32"] } },
    { "names": ["s390_runtime_instr"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["s390", "s390x"] } },
    { "names": ["open_by_handle_at"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_DAC_READ_SEARCH"] } },
    { "names": ["bpf", "clone", "clone3", "mount", "setns", "umount", "umount2", "unshare"],
      "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
    { "names": ["clone"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ" }],
      "excludes": { "caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"] } },
    { "names": ["clone"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 1, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ" }],
      "comment": "s390 parameter ordering for clone is different",
      "includes": { "arches": ["s390", "s390x"] }, "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
    { "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
    { "names": ["kcmp", "ptrace"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_PTRACE"] } }
  ]
}`;

Deno.test("moby-style profile sample compiles and behaves like Docker", () => {
  const profile = parseProfile(MOBY_SAMPLE, "moby-sample.json");
  const program = compile(profile, ["CAP_CHOWN", "CAP_NET_RAW"], "6.8.0");
  assert.equal(call(program, "read"), ALLOW);
  assert.equal(call(program, "execve"), ALLOW);
  assert.equal(call(program, "ptrace"), ALLOW); // minKernel 4.8
  assert.equal(call(program, "arch_prctl"), ALLOW);
  assert.equal(call(program, "mount"), EPERM_RET);
  assert.equal(call(program, "open_by_handle_at"), EPERM_RET);
  assert.equal(call(program, "kcmp"), EPERM_RET);
  assert.equal(call(program, "clone", FORK_FLAGS), ALLOW);
  assert.equal(call(program, "clone", FORK_FLAGS | CLONE_NEWUSER), EPERM_RET);
  assert.equal(call(program, "clone", 0, FORK_FLAGS | CLONE_NEWUSER), ALLOW); // the s390 rule is not ours
  assert.equal(call(program, "clone3"), ENOSYS_RET);
  assert.equal(call(program, "socket", 2), ALLOW);
  assert.equal(call(program, "socket", 39), ALLOW);
  assert.equal(call(program, "socket", 38), EPERM_RET);
  assert.equal(call(program, "socket", 40), EPERM_RET);
  assert.equal(call(program, "socket", 41), ALLOW);
  // 64-bit semantics, as libseccomp: GT 40 holds for 0x1_0000_0026, which the kernel truncates to AF_ALG.
  assert.equal(call(program, "socket", 0x1_0000_0026n), ALLOW);
  assert.equal(call(program, "personality", 0xffffffff), ALLOW);
  assert.equal(call(program, "personality", 0x1_ffff_ffffn), EPERM_RET);
  assert.equal(call(program, "personality", 8), EPERM_RET);
  assert.equal(runFilter(program, { nr: NR.read, arch: AUDIT_ARCH_I386, args: [] }), KILL_PROCESS);

  const admin = compile(profile, ["CAP_SYS_ADMIN"], "6.8.0");
  assert.equal(call(admin, "mount"), ALLOW);
  assert.equal(call(admin, "clone", CLONE_NEWUSER | CLONE_NEWNET), ALLOW);
  assert.equal(call(admin, "clone3"), ALLOW);
  assert.equal(call(compile(profile, ["CAP_SYS_PTRACE"], "4.4"), "ptrace"), ALLOW);
  assert.equal(call(compile(profile, [], "4.4"), "ptrace"), EPERM_RET);
});

// ---------------------------------------------------------------------------------------------------------------

Deno.test("parse errors are one-line InvalidInputErrors naming the file", () => {
  const parse = (text: string) => () => parseProfile(text, "/etc/husk/profile.json");
  const file = "/etc/husk/profile.json";
  throwsInvalid(parse("{ nope"), file, "not valid JSON");
  throwsInvalid(parse("[]"), file, "expected an object");
  throwsInvalid(parse(`{ "syscalls": [] }`), file, "defaultAction: missing");
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_MAYBE" }`),
    file,
    `defaultAction: unknown action "SCMP_ACT_MAYBE"`,
  );
  throwsInvalid(
    parse(
      `{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_NOPE" }] }`,
    ),
    file,
    "syscalls[0].action",
    "SCMP_ACT_NOPE",
  );
  throwsInvalid(
    parse(
      `{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_NOTIFY" }] }`,
    ),
    "not supported",
  );
  const withArg = (arg: string) =>
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [${arg}] }] }`);
  throwsInvalid(
    withArg(`{ "index": 0, "value": 1, "op": "SCMP_CMP_SIMILAR" }`),
    file,
    "syscalls[0].args[0].op",
  );
  throwsInvalid(withArg(`{ "index": 6, "value": 1, "op": "SCMP_CMP_EQ" }`), "args[0].index");
  throwsInvalid(withArg(`{ "index": 0, "value": -1, "op": "SCMP_CMP_EQ" }`), "args[0].value");
  throwsInvalid(
    withArg(`{ "index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ" }`),
    "args[0].value",
  );
  throwsInvalid(withArg(`{ "index": 0, "value": 1.5, "op": "SCMP_CMP_EQ" }`), "args[0].value");
  throwsInvalid(withArg(`{ "index": 0, "value": 1, "op": "SCMP_CMP_EQ", "mask": 3 }`), `unknown key "mask"`);
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW",
      "errnoRet": 1 }] }`),
    "errnoRet: only valid with SCMP_ACT_ERRNO",
  );
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "name": "read", "names": ["write"],
      "action": "SCMP_ACT_ALLOW" }] }`),
    `both "name" and "names"`,
  );
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW",
      "include": { "caps": ["CAP_SYS_ADMIN"] } }] }`),
    `unknown key "include"`,
  );
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW",
      "includes": { "minKernel": "4" } }] }`),
    "includes.minKernel",
  );
  throwsInvalid(parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 70000 }`), "defaultErrnoRet");
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": {} }`),
    "syscalls: expected an array",
  );
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
      "archMap": [{ "architecture": "SCMP_ARCH_X86_64", "subArchitectures": [] }] }`),
    `both "architectures" and "archMap"`,
  );
  throwsInvalid(
    parse(`{ "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_X"] }`),
    "flags[0]",
  );
});

Deno.test("parse: Docker's tolerated forms", () => {
  const profile = parseProfile(
    `{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": null, "architectures": ["SCMP_ARCH_X86_64"],
       "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] }`,
    "p.json",
  );
  assert.deepEqual(profile.syscalls, []);
  assert.deepEqual(profile.flags, ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]);
  const rule = parseProfile(
    `{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{ "name": "read", "action": "SCMP_ACT_ALLOW",
       "args": null, "includes": {}, "excludes": { "caps": null } }] }`,
    "p.json",
  ).syscalls[0];
  assert.deepEqual(rule.names, ["read"]);
  const big = parseProfile(
    `{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW",
       "args": [{ "index": 0, "value": 18446744073709551615, "valueTwo": 9007199254740993, "op": "SCMP_CMP_EQ" }] }] }`,
    "p.json",
  ).syscalls[0].args![0];
  assert.equal(big.value, 18446744073709551615n);
  assert.equal(big.valueTwo, 9007199254740993n);
  assert.throws(
    () => validateProfile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [1] }, "x"),
    InvalidInputError,
  );
});

Deno.test("unknown syscall names are skipped", () => {
  const program = compile({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{
      names: ["vm86", "stime", "clock_gettime64", "definitely_not_a_syscall", "read"],
      action: "SCMP_ACT_ALLOW",
    }],
  });
  assert.equal(call(program, "read"), ALLOW);
  assert.equal(call(program, "write"), EPERM_RET);
});

Deno.test("a profile allowing every syscall compiles small; a huge one with long jumps still works", () => {
  const names = Object.keys(NR);
  const all = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names, action: "SCMP_ACT_ALLOW" }] });
  assert.ok(all.length / 8 < 20, `${all.length / 8} instructions`);
  for (const name of names) assert.equal(call(all, name), ALLOW, name);
  assert.equal(runFilter(all, { nr: 471, arch: AUDIT_ARCH_X86_64, args: [] }), EPERM_RET);

  // Every syscall with its own argument test: well over 255 instructions between the first and the last, so
  // the search tree needs JA trampolines.
  const each: SeccompRule[] = names.map((name) => ({
    names: [name],
    action: "SCMP_ACT_ALLOW",
    args: [{ index: NR[name] % 6, value: NR[name], op: "SCMP_CMP_EQ" }],
  }));
  const big = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: each });
  const count = big.length / 8;
  assert.ok(count > 1000 && count <= BPF_MAXINSNS, `${count} instructions`);
  assert.match(disassemble(big), / ja /);
  for (const name of names) {
    const args = [0n, 0n, 0n, 0n, 0n, 0n];
    args[NR[name] % 6] = BigInt(NR[name]);
    assert.equal(runFilter(big, { nr: NR[name], arch: AUDIT_ARCH_X86_64, args }), ALLOW, name);
    args[NR[name] % 6] += 0x1_0000_0000n;
    assert.equal(runFilter(big, { nr: NR[name], arch: AUDIT_ARCH_X86_64, args }), EPERM_RET, name);
  }

  // Too many instructions for the kernel.
  const huge: SeccompRule[] = names.map((name) => ({
    names: [name],
    action: "SCMP_ACT_ALLOW",
    args: [0, 1, 2, 3, 4, 5].map((index): SeccompArg => ({ index, value: index + 1, op: "SCMP_CMP_GT" })),
  }));
  assert.throws(
    () =>
      compileProfile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: huge }, {
        capabilities: new Set(),
        source: "huge.json",
      }),
    (error: unknown) =>
      error instanceof InvalidInputError && /huge\.json/.test(error.message) && /4096/.test(error.message),
  );
});

Deno.test("runFilter refuses malformed programs", () => {
  const data: SeccompData = { nr: 0, arch: AUDIT_ARCH_X86_64, args: [] };
  assert.throws(() => runFilter(new Uint8Array(0), data));
  assert.throws(() => runFilter(new Uint8Array(7), data));
  const insn = (code: number, jt: number, jf: number, k: number) => {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, code, true);
    view.setUint8(2, jt);
    view.setUint8(3, jf);
    view.setUint32(4, k, true);
    return bytes;
  };
  assert.throws(() => runFilter(insn(0x15, 3, 0, 0), data), /out of the program/);
  assert.throws(() => runFilter(insn(0x20, 0, 0, 64), data), /load/);
  assert.throws(() => runFilter(insn(0x87, 0, 0, 0), data), /opcode/);
  assert.throws(() => runFilter(insn(0x20, 0, 0, 0), data), /without RET/);
  assert.equal(runFilter(insn(0x06, 0, 0, ALLOW), data), ALLOW);
  // JSET, which the compiler does not emit, for completeness.
  const jset = new Uint8Array([
    ...insn(0x20, 0, 0, 16),
    ...insn(0x45, 0, 1, 4),
    ...insn(0x06, 0, 0, 1),
    ...insn(0x06, 0, 0, 2),
  ]);
  assert.equal(runFilter(jset, { ...data, args: [6n] }), 1);
  assert.equal(runFilter(jset, { ...data, args: [3n] }), 2);
});

// ---------------------------------------------------------------------------------------------------------------
// Randomized comparison with a direct evaluation of the profile's semantics.

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RET_OF: Record<SeccompAction, (errno: number) => number> = {
  SCMP_ACT_ALLOW: () => ALLOW,
  SCMP_ACT_ERRNO: (errno) => 0x00050000 | errno,
  SCMP_ACT_KILL: () => KILL_THREAD,
  SCMP_ACT_KILL_THREAD: () => KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: () => KILL_PROCESS,
  SCMP_ACT_LOG: () => LOG,
  SCMP_ACT_TRAP: () => TRAP,
};

/** The profile's meaning, evaluated directly: what the compiled filter must return. */
function reference(profile: Profile, caps: Set<string>, data: SeccompData): number {
  const defaultRet = RET_OF[profile.defaultAction](profile.defaultErrnoRet ?? 1);
  if (data.arch !== AUDIT_ARCH_X86_64) return KILL_PROCESS;
  const nr = data.nr >>> 0;
  if (nr >= 0x40000000 && nr !== 0xffffffff) {
    return defaultRet === ALLOW || defaultRet === LOG ? EPERM_RET : defaultRet;
  }
  const name = NAMES[nr];
  const applies = (rule: SeccompRule) =>
    !(rule.excludes?.caps ?? []).some((c) => caps.has(c)) &&
    !(rule.excludes?.arches ?? []).includes("amd64") &&
    (rule.includes?.caps ?? []).every((c) => caps.has(c)) &&
    (!rule.includes?.arches?.length || rule.includes.arches.includes("amd64"));
  const holds = (arg: SeccompArg): boolean => {
    const a = BigInt.asUintN(64, data.args[arg.index] ?? 0n);
    const v = BigInt(arg.value);
    switch (arg.op) {
      case "SCMP_CMP_EQ":
        return a === v;
      case "SCMP_CMP_NE":
        return a !== v;
      case "SCMP_CMP_LT":
        return a < v;
      case "SCMP_CMP_LE":
        return a <= v;
      case "SCMP_CMP_GT":
        return a > v;
      case "SCMP_CMP_GE":
        return a >= v;
      case "SCMP_CMP_MASKED_EQ":
        return (a & v) === BigInt(arg.valueTwo ?? 0);
    }
  };
  for (const rule of profile.syscalls) {
    if (name === undefined || !rule.names.includes(name) || !applies(rule)) continue;
    if ((rule.args ?? []).every(holds)) {
      return RET_OF[rule.action](rule.errnoRet ?? profile.defaultErrnoRet ?? 1);
    }
  }
  return defaultRet;
}

Deno.test("randomized: compiled filters agree with the profile's semantics", () => {
  const random = mulberry32(0x5ecc0);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const actions: SeccompAction[] = [
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_LOG",
    "SCMP_ACT_TRAP",
  ];
  const ops: SeccompOperator[] = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_GT",
    "SCMP_CMP_GE",
    "SCMP_CMP_MASKED_EQ",
  ];
  const pool = [
    "read",
    "write",
    "mount",
    "clone",
    "socket",
    "ioctl",
    "personality",
    "mknodat",
    "rseq",
    "vm86",
  ];
  const interesting = [
    0n,
    1n,
    2n,
    38n,
    40n,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0x1_0000_0000n,
    0x1_0000_0001n,
    0x1_0000_0026n,
    0xffff_ffff_0000_0000n,
    0x8000_0000_0000_0000n,
    0xffff_ffff_ffff_ffffn,
  ];
  const value = (): bigint => {
    const r = random();
    if (r < 0.6) return pick(interesting);
    if (r < 0.8) return BigInt.asUintN(64, pick(interesting) + BigInt(Math.floor(random() * 3) - 1));
    return (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  };
  const caps = ["CAP_A", "CAP_B"];
  let checks = 0;
  for (let round = 0; round < 150; round++) {
    const rules: SeccompRule[] = [];
    for (let i = 0, n = 1 + Math.floor(random() * 12); i < n; i++) {
      const action = pick(actions);
      const rule: SeccompRule = { names: [pick(pool), ...(random() < 0.3 ? [pick(pool)] : [])], action };
      if (action === "SCMP_ACT_ERRNO" && random() < 0.5) rule.errnoRet = Math.floor(random() * 200);
      const argCount = Math.floor(random() * 4);
      if (argCount) {
        rule.args = [];
        for (let j = 0; j < argCount; j++) {
          const op = pick(ops);
          const v = value();
          const arg: SeccompArg = { index: Math.floor(random() * 3), value: v, op };
          if (op === "SCMP_CMP_MASKED_EQ") arg.valueTwo = random() < 0.8 ? v & value() : value();
          rule.args.push(arg);
        }
      }
      if (random() < 0.15) rule.includes = { caps: [pick(caps)] };
      if (random() < 0.15) rule.excludes = { caps: [pick(caps)] };
      if (random() < 0.05) rule.includes = { ...rule.includes, arches: [pick(["amd64", "arm64"])] };
      if (random() < 0.05) rule.excludes = { ...rule.excludes, arches: [pick(["amd64", "s390x"])] };
      rules.push(rule);
    }
    const profile: Profile = { defaultAction: pick(actions), syscalls: rules };
    if (random() < 0.3) profile.defaultErrnoRet = Math.floor(random() * 100);
    const granted = new Set(caps.filter(() => random() < 0.5));
    const program = compile(profile, [...granted]);
    for (let i = 0; i < 60; i++) {
      const r = random();
      const nr = r < 0.85 ? NR[pick(pool.slice(0, 9))] : r < 0.9 ? 0x40000000 | NR.read : r < 0.95 ? -1 : 470;
      const data: SeccompData = {
        nr,
        arch: random() < 0.97 ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_I386,
        args: [value(), value(), value()],
      };
      assert.equal(
        runFilter(program, data),
        reference(profile, granted, data),
        `round ${round}: ${
          JSON.stringify(profile, (_, v) => typeof v === "bigint" ? `0x${v.toString(16)}` : v)
        } ` +
          `caps ${[...granted]} data ${
            JSON.stringify(data, (_, v) => typeof v === "bigint" ? `0x${v.toString(16)}` : v)
          }`,
      );
      checks++;
    }
  }
  assert.equal(checks, 150 * 60);
});
