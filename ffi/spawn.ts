/**
 * Starts a container's first process: clone with namespace flags, then a list of raw system calls run by a
 * small machine-code routine until execve. No JavaScript, Rust or libc code runs in the child, because the
 * runtime is multithreaded and only a fresh, lock-free, heap-free child is safe there (see the README).
 *
 * Everything the child reads (strings, argv and envp arrays, structs, the step list) is laid out here, before
 * the clone, in one ArrayBuffer whose backing store is malloc'ed and so copied into the child.
 */
import { SysError } from "./libc.ts";
import { callSpawn, syscallNumber } from "./native.ts";
import type { SyscallName } from "./syscalls.ts";

/** A symbolic integer (flags, constants) that the dry run prints by name. */
export class Named {
  constructor(readonly value: number | bigint, readonly name: string) {}
}

/** A block of 8-byte words in the child's memory; a word that is not an integer is a pointer to its value. */
export class Struct {
  constructor(readonly words: readonly Arg[], readonly name: string) {}
}

/** A fresh stack for a process cloned inside the list with CLONE_VM (passed as its stack pointer). */
export class Stack {
  readonly name = "stack";
}

/**
 * A system call argument: an integer, NULL, a C string, a NULL-terminated array of C strings (argv, envp),
 * raw bytes, a struct or a stack. Every non-integer is passed as a pointer into the plan's memory.
 */
export type Arg = number | bigint | null | string | readonly string[] | Uint8Array | Named | Struct | Stack;

export interface RawStep {
  call: SyscallName;
  args: readonly Arg[];
  /** A return value of 0 is a failure too (a read that hits end-of-file). */
  positive?: boolean;
  /** This errno counts as success (EEXIST for mkdir, ENOENT for an execve tried along $PATH). */
  okErrno?: number;
  /** Keep this step's result (a new descriptor) for later steps. */
  save?: boolean;
  /** Pass the kept result as the first argument (args[0] is then ignored). */
  useSaved?: boolean;
  /** Write the kept result (8 bytes) to the memory args[1] points to, before the call. */
  storeSaved?: boolean;
  /** A clone: the new process goes on with the next step; the caller keeps its pid and goes on here. */
  parentContinuesAt?: number;
  /** args[0] points to a 32-bit integer (a descriptor received with SCM_RIGHTS): pass that integer instead. */
  loadArg0?: boolean;
}

/** A step of spawn.S's list (run_steps takes the same): number, six arguments, flags, then an int. */
export const STEP_SIZE = 64;
const STACK_SIZE = 4096;
/** Step flags: keep the result, pass the kept one as the first argument (run_steps knows these two too). */
export const FLAG_SAVE = 2, FLAG_USE_SAVED = 4;
const FLAG_POSITIVE = 1, FLAG_FORK = 8, FLAG_STORE_SAVED = 16, FLAG_LOAD = 32;

const encoder = new TextEncoder();

/** The length of `s` in UTF-8, without encoding it (the measuring pass runs for every string of a plan). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
      continue;
    }
    n += 2;
    // A surrogate pair is 4 bytes for its 2 UTF-16 units; a lone surrogate becomes U+FFFD (3 bytes).
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return n;
}

/** Lays values out in one buffer; the first pass only measures. */
class Arena {
  #offset = 0;
  constructor(readonly view: DataView | null, readonly base: bigint) {}

  get size(): number {
    return this.#offset;
  }

  alloc(n: number): number {
    const at = this.#offset;
    this.#offset += (n + 7) & ~7;
    return at;
  }

  /** Where each placed buffer went: views of one buffer (subarrays) share its copy. */
  readonly #placed = new Map<ArrayBufferLike, number>();

  bytes(b: Uint8Array): bigint {
    let at = this.#placed.get(b.buffer);
    if (at === undefined) {
      at = this.alloc(b.buffer.byteLength);
      this.#placed.set(b.buffer, at);
      if (this.view) new Uint8Array(this.view.buffer, at, b.buffer.byteLength).set(new Uint8Array(b.buffer));
    }
    return this.base + BigInt(at + b.byteOffset);
  }

  cstring(s: string): bigint {
    const length = utf8Length(s) + 1;
    const at = this.alloc(length);
    // The buffer is zeroed: the terminating NUL is already there.
    if (this.view) encoder.encodeInto(s, new Uint8Array(this.view.buffer, at, length - 1));
    return this.base + BigInt(at);
  }

  words(values: readonly bigint[]): bigint {
    const at = this.alloc(values.length * 8);
    values.forEach((v, i) => this.view?.setBigUint64(at + i * 8, BigInt.asUintN(64, v), true));
    return this.base + BigInt(at);
  }

  /** A stack for a cloned process: its top, less 64 bytes of scratch the routine uses, 16-byte aligned. */
  stack(): bigint {
    const at = this.alloc(STACK_SIZE);
    return (this.base + BigInt(at + STACK_SIZE - 64)) & ~15n;
  }

  /** The 64-bit value passed for an argument. */
  value(arg: Arg): bigint {
    if (arg === null) return 0n;
    if (typeof arg === "number" || typeof arg === "bigint") return BigInt(arg);
    if (arg instanceof Named) return BigInt(arg.value);
    if (typeof arg === "string") return this.cstring(arg);
    if (arg instanceof Uint8Array) return this.bytes(arg);
    if (arg instanceof Struct) return this.words(arg.words.map((w) => this.value(w)));
    if (arg instanceof Stack) return this.stack();
    return this.words([...arg.map((s) => this.cstring(s)), 0n]);
  }
}

const CLONE_VM = 0x100n;

/**
 * The encoded plan: struct plan { flags, steps, count, err_fd, stack } followed by the child's stack and
 * everything the steps point to.
 */
function layout(
  arena: Arena,
  cloneFlags: bigint,
  steps: readonly RawStep[],
  errFd: number,
  shareMemory: boolean,
): bigint {
  const plan = arena.alloc(40);
  const stack = arena.stack();
  const table = arena.alloc(steps.length * STEP_SIZE);
  const view = arena.view;
  steps.forEach((step, i) => {
    const at = table + i * STEP_SIZE;
    const args = step.args.map((a) => arena.value(a));
    if (args.length > 6) throw new RangeError(`${step.call}: more than 6 arguments`);
    if (!view) return;
    view.setBigUint64(at, BigInt(syscallNumber(step.call)), true);
    args.forEach((a, j) => view.setBigUint64(at + 8 + j * 8, BigInt.asUintN(64, a), true));
    const fork = step.parentContinuesAt !== undefined;
    if (fork && step.okErrno) throw new RangeError(`${step.call}: a fork step has no accepted errno`);
    const flags = (step.positive ? FLAG_POSITIVE : 0) | (step.save ? FLAG_SAVE : 0) |
      (step.useSaved ? FLAG_USE_SAVED : 0) | (fork ? FLAG_FORK : 0) |
      (step.storeSaved ? FLAG_STORE_SAVED : 0) | (step.loadArg0 ? FLAG_LOAD : 0);
    view.setUint32(at + 56, flags, true);
    view.setInt32(at + 60, fork ? step.parentContinuesAt! : step.okErrno ?? 0, true);
  });
  if (view) {
    view.setBigUint64(plan, shareMemory ? cloneFlags | CLONE_VM : cloneFlags, true);
    view.setBigUint64(plan + 8, arena.base + BigInt(table), true);
    view.setBigUint64(plan + 16, BigInt(steps.length), true);
    view.setBigUint64(plan + 24, BigInt(errFd), true);
    view.setBigUint64(plan + 32, shareMemory ? stack : 0n, true);
  }
  return arena.base + BigInt(plan);
}

/** A started child: `memory` holds its stack and its plan, and must outlive its execve (or its exit). */
export interface Spawned {
  pid: number;
  memory: ArrayBuffer;
}

/**
 * Clones a child with `cloneFlags` (namespace flags | SIGCHLD) that runs `steps`, and returns its pid.
 * A failing step makes the child write {u32 step index, u32 errno} to `errFd` and exit 127.
 * The child shares this process's memory until execve (CLONE_VM, as posix_spawn does): nothing is copied,
 * whatever the size of the heap. Keep `memory` referenced until `errFd`'s pipe reports execve or the child
 * is gone. Without `shareMemory` it gets a copy (fork): a child that joins a user namespace (setns) must not
 * share its memory with other threads. Must be called from the main thread: PR_SET_PDEATHSIG follows the thread that cloned.
 */
export function spawn(
  cloneFlags: bigint,
  steps: readonly RawStep[],
  errFd: number,
  shareMemory = true,
): Spawned {
  const measure = new Arena(null, 0n);
  layout(measure, cloneFlags, steps, errFd, shareMemory);
  // Over 64 bytes, so V8 keeps the backing store off its heap (the heap is not inherited by the child).
  const buffer = new ArrayBuffer(Math.max(measure.size, 128));
  const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer));
  const plan = layout(new Arena(new DataView(buffer), BigInt(base)), cloneFlags, steps, errFd, shareMemory);
  const pid = callSpawn(plan);
  if (pid < 0n) throw new SysError("clone", Number(-pid));
  return { pid: Number(pid), memory: buffer };
}
