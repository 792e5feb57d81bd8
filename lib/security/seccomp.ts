/**
 * A seccomp-BPF compiler for Docker's seccomp profile format (moby's profiles/seccomp/default.json), pure code.
 *
 * compileProfile turns a profile into a classic BPF program (struct sock_filter[] as bytes) for x86_64:
 *
 *   1. seccomp_data.arch must be AUDIT_ARCH_X86_64, else SECCOMP_RET_KILL_PROCESS (i386 and every other
 *      architecture are refused: the rules only know x86_64 numbers).
 *   2. x32 system calls (nr with bit 0x40000000) are refused: with the default action when it denies, else with
 *      ERRNO(EPERM), so an allow-by-default profile cannot be bypassed through the x32 numbers. nr == -1 is let
 *      through, as libseccomp does (a tracer skipping a call).
 *   3. The syscall number is found by a binary search over number ranges with the same outcome; a syscall whose
 *      rules test arguments gets its own block: the rules in profile order, the first whose argument tests all
 *      hold returns its action; when none does, the profile's default action.
 *
 * Rules apply per Docker's semantics (includes/excludes by capability, architecture and kernel version); names
 * unknown on x86_64 are skipped. Arguments are compared as unsigned 64-bit values, both 32-bit halves.
 *
 * runFilter is a small interpreter for the opcodes the compiler emits, for tests.
 */

import { InvalidInputError } from "../errors.ts";
import { CLONE, S_IFBLK, S_IFMT } from "../spawn/linux.ts";
import { X86_64_SYSCALLS } from "./syscalls_x86_64.ts";

// ---------------------------------------------------------------------------------------------------------------
// The profile format

export const SECCOMP_ACTIONS = [
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_LOG",
  "SCMP_ACT_TRAP",
] as const;
export type SeccompAction = typeof SECCOMP_ACTIONS[number];

export const SECCOMP_OPERATORS = [
  "SCMP_CMP_EQ",
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_GT",
  "SCMP_CMP_GE",
  "SCMP_CMP_MASKED_EQ",
] as const;
export type SeccompOperator = typeof SECCOMP_OPERATORS[number];

/** Filter flags of the runtime spec; compileProfile ignores them, the installer may apply them. */
export const SECCOMP_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
] as const;
export type SeccompFlag = typeof SECCOMP_FLAGS[number];

/**
 * One argument test: the 64-bit argument `args[index]` compared with value (MASKED_EQ: (arg & value) == valueTwo).
 * Values above 2^53 come out of parseProfile as bigint, exactly.
 */
export interface SeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: SeccompOperator;
}

/** A rule's condition on the container and host: capabilities (names like "CAP_SYS_ADMIN"), arches, kernel. */
export interface SeccompCondition {
  caps?: string[];
  arches?: string[];
  /** "<kernel>.<major>", e.g. "4.8". */
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  /** ANDed. */
  args?: SeccompArg[];
  comment?: string;
  /** The rule applies only when all listed caps are present, the arch is listed, the kernel is new enough. */
  includes?: SeccompCondition;
  /** The rule is dropped when any listed cap is present, the arch is listed, or the kernel is new enough. */
  excludes?: SeccompCondition;
}

export interface SeccompArchMapEntry {
  architecture: string;
  subArchitectures: string[] | null;
}

export interface Profile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** Accepted for compatibility; the compiled filter serves x86_64 only. */
  architectures?: string[];
  /** Accepted for compatibility; the compiled filter serves x86_64 only. */
  archMap?: SeccompArchMapEntry[];
  /** Rules for one syscall are evaluated in this order; the first match wins. */
  syscalls: SeccompRule[];
  flags?: SeccompFlag[];
}

export interface CompileOptions {
  /** The container's capability names ("CAP_SYS_ADMIN"; Docker uses the bounding set). */
  capabilities: ReadonlySet<string>;
  /**
   * The host kernel's release (Deno.osRelease(), e.g. "6.8.0-45-generic") for minKernel conditions. When
   * absent the kernel is taken to be new enough for any minKernel.
   */
  kernelVersion?: string;
  /** Names the profile in error messages. */
  source?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Kernel constants

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const X32_SYSCALL_BIT = 0x40000000;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** The kernel's BPF_MAXINSNS. */
export const BPF_MAXINSNS = 4096;

const EPERM = 1;
const ENOSYS = 38;
/** The kernel caps the errno of SECCOMP_RET_ERRNO at MAX_ERRNO. */
const MAX_ERRNO = 4095;

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const BPF_LD_W_ABS = 0x20;
const BPF_ALU_AND_K = 0x54;
const BPF_JMP_JA = 0x05;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGT_K = 0x25;
const BPF_JMP_JGE_K = 0x35;
const BPF_JMP_JSET_K = 0x45;
const BPF_RET_K = 0x06;

/** struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]. */
const SECCOMP_DATA_NR = 0;
const SECCOMP_DATA_ARCH = 4;
const SECCOMP_DATA_ARGS = 16;
const SECCOMP_DATA_SIZE = 64;

const U32 = 0xffffffffn;
const U64_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------------------------
// Parsing and validation

/**
 * Parses and validates a profile in Docker's JSON format. Every failure is an InvalidInputError naming `source`
 * and the problem on one line. The deprecated `name` of a rule becomes `names`.
 */
export function parseProfile(text: string, source: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(text, exactIntegers);
  } catch (error) {
    throw profileError(source, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return validateProfile(value, source);
}

/** JSON.parse reviver: integers beyond 2^53 become exact bigints (argument values are 64-bit). */
function exactIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (
    typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined &&
    /^-?\d+$/.test(context.source)
  ) {
    return BigInt(context.source);
  }
  return value;
}

function profileError(source: string, problem: string): InvalidInputError {
  return new InvalidInputError(`invalid seccomp profile ${source}: ${problem}`.replace(/\s*\n\s*/g, " "));
}

const PROFILE_KEYS = new Set([
  "defaultAction",
  "defaultErrnoRet",
  "architectures",
  "archMap",
  "syscalls",
  "flags",
  "listenerPath",
  "listenerMetadata",
]);
const RULE_KEYS = new Set(["names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"]);
const ARG_KEYS = new Set(["index", "value", "valueTwo", "op"]);
const CONDITION_KEYS = new Set(["caps", "arches", "minKernel"]);
const ARCH_MAP_KEYS = new Set(["architecture", "subArchitectures"]);

/**
 * Validates a profile given as a parsed JSON value (see parseProfile) and returns a normalized copy. Keys are
 * those of Docker's format; an unknown key is an error rather than silently ignored, since a misspelt condition
 * would change what the filter allows.
 */
export function validateProfile(value: unknown, source: string): Profile {
  const fail = (path: string, problem: string): never => {
    throw profileError(source, path === "" ? problem : `${path}: ${problem}`);
  };
  const object = (v: unknown, path: string, keys: Set<string>): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "expected an object");
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!keys.has(key)) fail(path, `unknown key "${key}"`);
    }
    return record;
  };
  /** Go's decoder takes null for absent; so do we. */
  const present = (v: unknown): boolean => v !== undefined && v !== null;
  const strings = (v: unknown, path: string): string[] => {
    if (!Array.isArray(v)) return fail(path, "expected an array of strings");
    return v.map((s, i) => typeof s === "string" ? s : fail(`${path}[${i}]`, "expected a string"));
  };
  const errno = (v: unknown, path: string): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_ERRNO) {
      return fail(path, `expected an errno number 0..${MAX_ERRNO}`);
    }
    return v;
  };
  const action = (v: unknown, path: string): SeccompAction => {
    if ((SECCOMP_ACTIONS as readonly unknown[]).includes(v)) return v as SeccompAction;
    if (v === "SCMP_ACT_TRACE" || v === "SCMP_ACT_NOTIFY") {
      return fail(path, `action "${v}" is not supported`);
    }
    return fail(path, `unknown action ${JSON.stringify(v)}`);
  };
  const datum = (v: unknown, path: string): number | bigint => {
    if (typeof v === "bigint" && v >= 0n && v <= U64_MAX) return v;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
    return fail(path, "expected an integer 0..2^64-1");
  };
  const condition = (v: unknown, path: string): SeccompCondition => {
    const c = object(v, path, CONDITION_KEYS);
    const out: SeccompCondition = {};
    if (present(c.caps)) out.caps = strings(c.caps, `${path}.caps`);
    if (present(c.arches)) out.arches = strings(c.arches, `${path}.arches`);
    if (present(c.minKernel) && c.minKernel !== "") {
      if (typeof c.minKernel !== "string" || parseKernelVersion(c.minKernel, true) === undefined) {
        fail(
          `${path}.minKernel`,
          `expected "<kernel>.<major>" such as "4.8", got ${JSON.stringify(c.minKernel)}`,
        );
      }
      out.minKernel = c.minKernel as string;
    }
    return out;
  };
  const arg = (v: unknown, path: string): SeccompArg => {
    const a = object(v, path, ARG_KEYS);
    if (typeof a.index !== "number" || !Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
      fail(`${path}.index`, "expected an argument index 0..5");
    }
    if (!(SECCOMP_OPERATORS as readonly unknown[]).includes(a.op)) {
      fail(`${path}.op`, `unknown operator ${JSON.stringify(a.op)}`);
    }
    return {
      index: a.index as number,
      value: present(a.value) ? datum(a.value, `${path}.value`) : 0,
      valueTwo: present(a.valueTwo) ? datum(a.valueTwo, `${path}.valueTwo`) : 0,
      op: a.op as SeccompOperator,
    };
  };
  const rule = (v: unknown, path: string): SeccompRule => {
    const r = object(v, path, RULE_KEYS);
    const out: SeccompRule = { names: [], action: action(r.action, `${path}.action`) };
    if (present(r.name) && r.name !== "") {
      if (present(r.names) && (r.names as unknown[]).length !== 0) {
        fail(path, `both "name" and "names" are given`);
      }
      if (typeof r.name !== "string") fail(`${path}.name`, "expected a string");
      out.names = [r.name as string];
    } else if (present(r.names)) {
      out.names = strings(r.names, `${path}.names`);
    }
    if (present(r.errnoRet)) {
      if (out.action !== "SCMP_ACT_ERRNO") fail(`${path}.errnoRet`, "only valid with SCMP_ACT_ERRNO");
      out.errnoRet = errno(r.errnoRet, `${path}.errnoRet`);
    }
    if (present(r.args)) {
      if (!Array.isArray(r.args)) fail(`${path}.args`, "expected an array");
      out.args = (r.args as unknown[]).map((a, i) => arg(a, `${path}.args[${i}]`));
    }
    if (present(r.comment)) {
      if (typeof r.comment !== "string") fail(`${path}.comment`, "expected a string");
      out.comment = r.comment as string;
    }
    if (present(r.includes)) out.includes = condition(r.includes, `${path}.includes`);
    if (present(r.excludes)) out.excludes = condition(r.excludes, `${path}.excludes`);
    return out;
  };

  const p = object(value, "", PROFILE_KEYS);
  if (!present(p.defaultAction) || p.defaultAction === "") fail("defaultAction", "missing");
  const profile: Profile = { defaultAction: action(p.defaultAction, "defaultAction"), syscalls: [] };
  if (present(p.defaultErrnoRet)) profile.defaultErrnoRet = errno(p.defaultErrnoRet, "defaultErrnoRet");
  if (present(p.architectures)) profile.architectures = strings(p.architectures, "architectures");
  if (present(p.archMap)) {
    if (!Array.isArray(p.archMap)) fail("archMap", "expected an array");
    profile.archMap = (p.archMap as unknown[]).map((entry, i) => {
      const path = `archMap[${i}]`;
      const e = object(entry, path, ARCH_MAP_KEYS);
      if (typeof e.architecture !== "string") fail(`${path}.architecture`, "expected a string");
      return {
        architecture: e.architecture as string,
        subArchitectures: present(e.subArchitectures)
          ? strings(e.subArchitectures, `${path}.subArchitectures`)
          : null,
      };
    });
  }
  if (profile.architectures?.length && profile.archMap?.length) {
    fail("", `both "architectures" and "archMap" are given`);
  }
  if (present(p.flags)) {
    profile.flags = strings(p.flags, "flags").map((flag, i) =>
      (SECCOMP_FLAGS as readonly string[]).includes(flag)
        ? flag as SeccompFlag
        : fail(`flags[${i}]`, `unknown flag ${JSON.stringify(flag)}`)
    );
  }
  if (present(p.listenerPath) && p.listenerPath !== "") {
    fail("listenerPath", "seccomp notify is not supported");
  }
  if (present(p.syscalls)) {
    if (!Array.isArray(p.syscalls)) fail("syscalls", "expected an array");
    profile.syscalls = (p.syscalls as unknown[]).map((r, i) => rule(r, `syscalls[${i}]`));
  }
  return profile;
}

/** "6.8.0-45-generic" -> [6, 8]; strict: exactly "<kernel>.<major>" (Docker's minKernel format). */
function parseKernelVersion(text: string, strict = false): [number, number] | undefined {
  const match = strict ? /^(\d+)\.(\d+)$/.exec(text) : /^(\d+)\.(\d+)/.exec(text);
  if (!match) return undefined;
  const version: [number, number] = [Number(match[1]), Number(match[2])];
  if (strict && (version[0] > 255 || version[1] > 255 || version[0] + version[1] === 0)) return undefined;
  return version;
}

// ---------------------------------------------------------------------------------------------------------------
// Rule selection

/** The `arches` names meaning this architecture ("amd64" is Docker's, from Go's GOARCH). */
const NATIVE_ARCHES = new Set(["amd64", "x86_64"]);

function normalizeCap(cap: string): string {
  const upper = cap.toUpperCase();
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

interface Condition {
  index: number;
  op: SeccompOperator;
  value: bigint;
  valueTwo: bigint;
}

/** One applicable rule for one syscall. */
interface Entry {
  conditions: Condition[];
  ret: number;
}

function actionRet(action: SeccompAction, errno: number): number {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET_ALLOW;
    case "SCMP_ACT_ERRNO":
      return (SECCOMP_RET_ERRNO | (errno & 0xffff)) >>> 0;
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET_KILL_PROCESS;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET_LOG;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET_TRAP;
  }
}

/** Whether a condition always holds (true), never holds (false), or depends on the argument (undefined). */
function staticTruth(c: Condition): boolean | undefined {
  switch (c.op) {
    case "SCMP_CMP_MASKED_EQ":
      if ((c.valueTwo & ~c.value & U64_MAX) !== 0n) return false;
      return c.value === 0n ? true : undefined;
    case "SCMP_CMP_GE":
      return c.value === 0n ? true : undefined;
    case "SCMP_CMP_LT":
      return c.value === 0n ? false : undefined;
    case "SCMP_CMP_LE":
      return c.value === U64_MAX ? true : undefined;
    case "SCMP_CMP_GT":
      return c.value === U64_MAX ? false : undefined;
    default:
      return undefined;
  }
}

/** The applicable rules of the profile per syscall number, in profile order, unreachable ones dropped. */
function selectRules(profile: Profile, opts: CompileOptions, defaultRet: number, source: string) {
  const fail = (problem: string): never => {
    throw profileError(source, problem);
  };
  const caps = new Set([...opts.capabilities].map(normalizeCap));
  let kernel: [number, number] | undefined;
  if (opts.kernelVersion !== undefined) {
    kernel = parseKernelVersion(opts.kernelVersion) ??
      fail(`cannot read the kernel version ${JSON.stringify(opts.kernelVersion)}`);
  }
  const kernelAtLeast = (min: string, path: string): boolean => {
    const want = parseKernelVersion(min, true) ?? fail(`${path}.minKernel: expected "<kernel>.<major>"`);
    if (kernel === undefined) return true;
    return kernel[0] > want[0] || (kernel[0] === want[0] && kernel[1] >= want[1]);
  };
  const applies = (rule: SeccompRule, path: string): boolean => {
    const { includes, excludes } = rule;
    if (excludes) {
      if (excludes.arches?.some((a) => NATIVE_ARCHES.has(a))) return false;
      if (excludes.caps?.some((c) => caps.has(normalizeCap(c)))) return false;
      if (excludes.minKernel && kernelAtLeast(excludes.minKernel, `${path}.excludes`)) return false;
    }
    if (includes) {
      if (includes.arches?.length && !includes.arches.some((a) => NATIVE_ARCHES.has(a))) return false;
      if (includes.caps && !includes.caps.every((c) => caps.has(normalizeCap(c)))) return false;
      if (includes.minKernel && !kernelAtLeast(includes.minKernel, `${path}.includes`)) return false;
    }
    return true;
  };
  const knownAction = (action: string, path: string) => {
    if (!(SECCOMP_ACTIONS as readonly string[]).includes(action)) fail(`${path}: unknown action "${action}"`);
  };
  knownAction(profile.defaultAction, "defaultAction");

  const rules = new Map<number, Entry[]>();
  const complete = new Set<number>(); // syscalls with an unconditional rule: later rules are unreachable
  profile.syscalls.forEach((rule, i) => {
    const path = `syscalls[${i}]`;
    knownAction(rule.action, `${path}.action`);
    if (!applies(rule, path)) return;
    const conditions: Condition[] = [];
    for (const [j, arg] of (rule.args ?? []).entries()) {
      if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
        fail(`${path}.args[${j}].index: expected an argument index 0..5`);
      }
      if (!(SECCOMP_OPERATORS as readonly string[]).includes(arg.op)) {
        fail(`${path}.args[${j}].op: unknown operator "${arg.op}"`);
      }
      const condition: Condition = {
        index: arg.index,
        op: arg.op,
        value: BigInt.asUintN(64, BigInt(arg.value ?? 0)),
        valueTwo: BigInt.asUintN(64, BigInt(arg.valueTwo ?? 0)),
      };
      const truth = staticTruth(condition);
      if (truth === false) return; // the rule can never match
      if (truth === undefined) conditions.push(condition);
    }
    const ret = actionRet(rule.action, rule.errnoRet ?? profile.defaultErrnoRet ?? EPERM);
    for (const name of rule.names) {
      const nr = X86_64_SYSCALLS[name];
      if (nr === undefined || complete.has(nr)) continue;
      let entries = rules.get(nr);
      if (!entries) rules.set(nr, entries = []);
      entries.push({ conditions, ret });
      if (conditions.length === 0) complete.add(nr);
    }
  });
  // Rules at the end of a syscall's list that return the default change nothing.
  for (const entries of rules.values()) {
    while (entries.length && entries[entries.length - 1].ret === defaultRet) entries.pop();
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------------------------
// Code generation

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/**
 * Emits a program backwards, from its last instruction to its first, so every jump's target (always later in
 * the program) is known when the jump is emitted. A label is an instruction's index counted from the end.
 * A conditional jump whose target is more than 255 instructions away goes through a JA trampoline.
 */
class Emitter {
  readonly reversed: Insn[] = [];
  private readonly rets = new Map<number, number>();

  /** The label the next emitted instruction gets. */
  private get here(): number {
    return this.reversed.length;
  }

  private push(code: number, k: number, jt = 0, jf = 0): number {
    this.reversed.push({ code, jt, jf, k: k >>> 0 });
    return this.reversed.length - 1;
  }

  /** Makes the instruction about to be emitted, which falls through, reach `next` (with a JA if need be). */
  private fallInto(next: number): void {
    if (next !== this.here - 1) this.push(BPF_JMP_JA, this.here - next - 1);
  }

  /** A RET; reuses a recent identical one when it is close enough to jump to. */
  ret(k: number): number {
    const near = this.rets.get(k);
    if (near !== undefined && this.here - near - 1 <= 128) return near;
    const label = this.push(BPF_RET_K, k);
    this.rets.set(k, label);
    return label;
  }

  /** A = seccomp_data[offset], then on to `next`. */
  load(offset: number, next: number): number {
    this.fallInto(next);
    return this.push(BPF_LD_W_ABS, offset);
  }

  /** A &= k, then on to `next`. */
  and(k: number, next: number): number {
    this.fallInto(next);
    return this.push(BPF_ALU_AND_K, k);
  }

  /** A conditional jump (A op k) to ifTrue else ifFalse. */
  jump(code: number, k: number, ifTrue: number, ifFalse: number): number {
    if (ifTrue === ifFalse) return ifTrue;
    for (;;) {
      if (this.here - ifTrue - 1 > 255) ifTrue = this.push(BPF_JMP_JA, this.here - ifTrue - 1);
      else if (this.here - ifFalse - 1 > 255) ifFalse = this.push(BPF_JMP_JA, this.here - ifFalse - 1);
      else break;
    }
    return this.push(code, k, this.here - ifTrue - 1, this.here - ifFalse - 1);
  }

  /** Code testing one 64-bit argument condition; returns its entry label. */
  condition(c: Condition, pass: number, fail: number): number {
    if (pass === fail) return pass;
    const lo = SECCOMP_DATA_ARGS + 8 * c.index;
    const hi = lo + 4;
    const words = (v: bigint): [number, number] => [Number((v >> 32n) & U32), Number(v & U32)];
    const [vHi, vLo] = words(c.value);
    // arg > value (orEqual: >=), unsigned: the high words decide unless they are equal.
    const greater = (orEqual: boolean, ifTrue: number, ifFalse: number): number => {
      const loTest = this.jump(orEqual ? BPF_JMP_JGE_K : BPF_JMP_JGT_K, vLo, ifTrue, ifFalse);
      const loLoad = this.load(lo, loTest);
      const hiEqual = this.jump(BPF_JMP_JEQ_K, vHi, loLoad, ifFalse);
      const hiGreater = this.jump(BPF_JMP_JGT_K, vHi, ifTrue, hiEqual);
      return this.load(hi, hiGreater);
    };
    const equal = (ifTrue: number, ifFalse: number): number => {
      const loTest = this.jump(BPF_JMP_JEQ_K, vLo, ifTrue, ifFalse);
      const loLoad = this.load(lo, loTest);
      const hiTest = this.jump(BPF_JMP_JEQ_K, vHi, loLoad, ifFalse);
      return this.load(hi, hiTest);
    };
    switch (c.op) {
      case "SCMP_CMP_EQ":
        return equal(pass, fail);
      case "SCMP_CMP_NE":
        return equal(fail, pass);
      case "SCMP_CMP_GT":
        return greater(false, pass, fail);
      case "SCMP_CMP_GE":
        return greater(true, pass, fail);
      case "SCMP_CMP_LE":
        return greater(false, fail, pass);
      case "SCMP_CMP_LT":
        return greater(true, fail, pass);
      case "SCMP_CMP_MASKED_EQ": {
        const [mHi, mLo] = words(c.value);
        const [wHi, wLo] = words(c.valueTwo);
        // (word & mask) == want, per 32-bit half. A zero mask leaves want zero (staticTruth dropped the
        // rules where it is not), so that half always holds.
        const half = (offset: number, mask: number, want: number, next: number): number => {
          if (mask === 0) return next;
          const test = this.jump(BPF_JMP_JEQ_K, want, next, fail);
          return this.load(offset, mask === 0xffffffff ? test : this.and(mask, test));
        };
        return half(hi, mHi, wHi, half(lo, mLo, wLo, pass));
      }
    }
  }

  /** The finished program, first instruction first. */
  program(): Insn[] {
    return [...this.reversed].reverse();
  }
}

type Outcome = { ret: number; entries?: undefined } | { ret?: undefined; entries: Entry[] };

/** Ranges of syscall numbers with one outcome, covering 0..2^32-1, sorted. */
function outcomeRanges(
  rules: Map<number, Entry[]>,
  defaultRet: number,
): { from: number; outcome: Outcome }[] {
  const ranges: { from: number; outcome: Outcome }[] = [];
  const add = (from: number, outcome: Outcome): void => {
    let last = ranges[ranges.length - 1];
    if (last?.from === from) {
      ranges.pop();
      last = ranges[ranges.length - 1];
    }
    if (last && outcome.ret !== undefined && last.outcome.ret === outcome.ret) return;
    ranges.push({ from, outcome });
  };
  add(0, { ret: defaultRet });
  for (const nr of [...rules.keys()].sort((a, b) => a - b)) {
    const entries = rules.get(nr)!;
    if (entries.length === 0) add(nr, { ret: defaultRet });
    else if (entries[0].conditions.length === 0) add(nr, { ret: entries[0].ret });
    else add(nr, { entries });
    add(nr + 1, { ret: defaultRet });
  }
  return ranges;
}

/**
 * Compiles a profile into a classic BPF program for x86_64 (struct sock_filter[]: u16 code, u8 jt, u8 jf,
 * u32 k, little endian). Throws InvalidInputError when the program would exceed BPF_MAXINSNS.
 */
export function compileProfile(profile: Profile, opts: CompileOptions): Uint8Array {
  const source = opts.source ?? "(built-in)";
  const defaultRet = actionRet(profile.defaultAction, profile.defaultErrnoRet ?? EPERM);
  const rules = selectRules(profile, opts, defaultRet, source);
  const ranges = outcomeRanges(rules, defaultRet);

  const e = new Emitter();
  const leaf = (outcome: Outcome): number => {
    if (outcome.ret !== undefined) return e.ret(outcome.ret);
    let next = e.ret(defaultRet);
    for (const entry of [...outcome.entries].reverse()) {
      let label = e.ret(entry.ret);
      for (const condition of [...entry.conditions].reverse()) label = e.condition(condition, label, next);
      next = label;
    }
    return next;
  };
  // Binary search over ranges[from..to] with the syscall number in A.
  const search = (from: number, to: number): number => {
    if (from === to) return leaf(ranges[from].outcome);
    const mid = (from + to + 1) >> 1;
    const upper = search(mid, to);
    const lower = search(from, mid - 1);
    return e.jump(BPF_JMP_JGE_K, ranges[mid].from, upper, lower);
  };
  const dispatch = search(0, ranges.length - 1);

  const denying = defaultRet !== SECCOMP_RET_ALLOW && defaultRet !== SECCOMP_RET_LOG;
  const x32 = e.ret(denying ? defaultRet : (SECCOMP_RET_ERRNO | EPERM));
  const minusOne = e.jump(BPF_JMP_JEQ_K, 0xffffffff, dispatch, x32);
  const loadNr = e.load(SECCOMP_DATA_NR, e.jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, minusOne, dispatch));
  const kill = e.ret(SECCOMP_RET_KILL_PROCESS);
  const archTest = e.jump(BPF_JMP_JEQ_K, AUDIT_ARCH_X86_64, loadNr, kill);
  e.load(SECCOMP_DATA_ARCH, archTest);

  const program = e.program();
  if (program.length > BPF_MAXINSNS) {
    throw new InvalidInputError(
      `seccomp profile ${source}: the filter needs ${program.length} BPF instructions, ` +
        `more than the kernel's limit of ${BPF_MAXINSNS}`,
    );
  }
  return encode(program);
}

function encode(program: Insn[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k, true);
  });
  return bytes;
}

function decode(program: Uint8Array): Insn[] {
  if (program.length === 0 || program.length % 8 !== 0 || program.length / 8 > BPF_MAXINSNS) {
    throw new Error(`not a BPF program: ${program.length} bytes`);
  }
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const insns: Insn[] = [];
  for (let i = 0; i < program.length; i += 8) {
    insns.push({
      code: view.getUint16(i, true),
      jt: view.getUint8(i + 2),
      jf: view.getUint8(i + 3),
      k: view.getUint32(i + 4, true),
    });
  }
  return insns;
}

// ---------------------------------------------------------------------------------------------------------------
// Interpreter

export interface SeccompData {
  nr: number;
  arch: number;
  /** Up to six; missing ones are 0. Taken modulo 2^64. */
  args: bigint[];
}

/**
 * Runs a classic BPF program (only the opcodes compileProfile emits: LD W ABS, JA, JEQ/JGT/JGE/JSET K,
 * ALU AND K, RET K) on a seccomp_data and returns the RET value. Throws on anything the kernel would refuse.
 */
export function runFilter(program: Uint8Array, data: SeccompData): number {
  const insns = decode(program);
  const bytes = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  bytes.setUint32(SECCOMP_DATA_NR, data.nr >>> 0, true);
  bytes.setUint32(SECCOMP_DATA_ARCH, data.arch >>> 0, true);
  data.args.slice(0, 6).forEach((arg, i) => {
    bytes.setBigUint64(SECCOMP_DATA_ARGS + 8 * i, BigInt.asUintN(64, arg), true);
  });
  let a = 0;
  let pc = 0;
  const target = (offset: number): number => {
    const next = pc + 1 + offset;
    if (next >= insns.length) throw new Error(`BPF jump out of the program at ${pc}`);
    return next;
  };
  while (pc < insns.length) {
    const { code, jt, jf, k } = insns[pc];
    switch (code) {
      case BPF_LD_W_ABS:
        if (k % 4 !== 0 || k + 4 > SECCOMP_DATA_SIZE) throw new Error(`BPF load of offset ${k} at ${pc}`);
        a = bytes.getUint32(k, true);
        pc++;
        break;
      case BPF_ALU_AND_K:
        a = (a & k) >>> 0;
        pc++;
        break;
      case BPF_JMP_JA:
        pc = target(k);
        break;
      case BPF_JMP_JEQ_K:
        pc = target(a === k ? jt : jf);
        break;
      case BPF_JMP_JGT_K:
        pc = target(a > k ? jt : jf);
        break;
      case BPF_JMP_JGE_K:
        pc = target(a >= k ? jt : jf);
        break;
      case BPF_JMP_JSET_K:
        pc = target((a & k) !== 0 ? jt : jf);
        break;
      case BPF_RET_K:
        return k >>> 0;
      default:
        throw new Error(`BPF opcode 0x${code.toString(16)} at ${pc} is not supported`);
    }
  }
  throw new Error("BPF program ends without RET");
}

/** A readable listing of a program, one instruction a line, for debugging. */
export function disassemble(program: Uint8Array): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return decode(program).map(({ code, jt, jf, k }, pc) => {
    const at = (offset: number) => pc + 1 + offset;
    const op = {
      [BPF_LD_W_ABS]: () => `ld [${k}]`,
      [BPF_ALU_AND_K]: () => `and #${hex(k)}`,
      [BPF_JMP_JA]: () => `ja ${at(k)}`,
      [BPF_JMP_JEQ_K]: () => `jeq #${hex(k)}, ${at(jt)}, ${at(jf)}`,
      [BPF_JMP_JGT_K]: () => `jgt #${hex(k)}, ${at(jt)}, ${at(jf)}`,
      [BPF_JMP_JGE_K]: () => `jge #${hex(k)}, ${at(jt)}, ${at(jf)}`,
      [BPF_JMP_JSET_K]: () => `jset #${hex(k)}, ${at(jt)}, ${at(jf)}`,
      [BPF_RET_K]: () => `ret #${hex(k)}`,
    }[code];
    return `${String(pc).padStart(4)}: ${op ? op() : `opcode ${hex(code)}`}`;
  }).join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// husk's default profile

/** Every CLONE_NEW* flag. */
const CLONE_NAMESPACES = Object.values(CLONE).reduce((all, flag) => all | flag, 0);
const AF_ALG = 38;
const AF_VSOCK = 40;

function deny(names: string[], unlessCaps?: string[], args?: SeccompArg[]): SeccompRule {
  const rule: SeccompRule = { names, action: "SCMP_ACT_ERRNO", errnoRet: EPERM };
  if (args) rule.args = args;
  if (unlessCaps) rule.excludes = { caps: unlessCaps };
  return rule;
}

/**
 * husk's default profile: everything is allowed except, with EPERM, what Docker's default profile leaves out
 * unless the container has the capability that Docker grants it with (the `excludes` caps below).
 * Argument tests only look at the low 32 bits of int-sized arguments (the kernel ignores the high ones).
 */
export const DEFAULT_PROFILE: Profile = {
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [
    // Never: kernel keyrings, kexec, swap, obsolete calls, userfaultfd, vm86 (not on x86_64; skipped).
    deny([
      "add_key",
      "create_module",
      "get_kernel_syms",
      "kexec_file_load",
      "kexec_load",
      "keyctl",
      "nfsservctl",
      "query_module",
      "request_key",
      "swapoff",
      "swapon",
      "sysfs",
      "uselib",
      "userfaultfd",
      "ustat",
      "vm86",
      "vm86old",
      "_sysctl",
    ]),
    deny([
      "fanotify_init",
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "lookup_dcookie",
      "mount",
      "mount_setattr",
      "move_mount",
      "open_tree",
      "open_tree_attr",
      "pivot_root",
      "quotactl",
      "quotactl_fd",
      "setns",
      "umount2",
      "unshare",
    ], ["CAP_SYS_ADMIN"]),
    deny(["bpf"], ["CAP_SYS_ADMIN", "CAP_BPF"]),
    deny(["perf_event_open"], ["CAP_SYS_ADMIN", "CAP_PERFMON"]),
    deny(["syslog"], ["CAP_SYS_ADMIN", "CAP_SYSLOG"]),
    deny(["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"], [
      "CAP_SYS_PTRACE",
    ]),
    deny(["delete_module", "finit_module", "init_module"], ["CAP_SYS_MODULE"]),
    deny(["reboot"], ["CAP_SYS_BOOT"]),
    deny(["clock_adjtime", "clock_settime", "settimeofday"], ["CAP_SYS_TIME"]),
    deny(["acct"], ["CAP_SYS_PACCT"]),
    deny(["ioperm", "iopl"], ["CAP_SYS_RAWIO"]),
    deny(["name_to_handle_at", "open_by_handle_at"], ["CAP_DAC_READ_SEARCH"]),
    deny(["vhangup"], ["CAP_SYS_TTY_CONFIG"]),
    // Block devices: mknod(path, mode, dev), mknodat(dirfd, path, mode, dev).
    deny(["mknod"], undefined, [{ index: 1, value: S_IFMT, valueTwo: S_IFBLK, op: "SCMP_CMP_MASKED_EQ" }]),
    deny(["mknodat"], undefined, [{ index: 2, value: S_IFMT, valueTwo: S_IFBLK, op: "SCMP_CMP_MASKED_EQ" }]),
    // Sockets of families that are not namespaced (Docker's profile refuses the same two).
    deny(["socket"], undefined, [{
      index: 0,
      value: 0xffffffff,
      valueTwo: AF_ALG,
      op: "SCMP_CMP_MASKED_EQ",
    }]),
    deny(["socket"], undefined, [{
      index: 0,
      value: 0xffffffff,
      valueTwo: AF_VSOCK,
      op: "SCMP_CMP_MASKED_EQ",
    }]),
    // personality: only PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE (alone and with PER_LINUX32) and the query.
    ...[0, 0x0008, 0x20000, 0x20008, 0xffffffff].map((persona): SeccompRule => ({
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 0xffffffff, valueTwo: persona, op: "SCMP_CMP_MASKED_EQ" }],
    })),
    deny(["personality"]),
    // New namespaces need CAP_SYS_ADMIN; clone3 (flags in a struct the filter cannot read) falls back to clone.
    {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: CLONE_NAMESPACES, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    },
    deny(["clone"], ["CAP_SYS_ADMIN"]),
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS, excludes: { caps: ["CAP_SYS_ADMIN"] } },
  ],
};
