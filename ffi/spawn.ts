/**
 * Starts a container's first process: clone with namespace flags, then a list of raw system calls run by a
 * small machine-code routine until execve. No JavaScript, Rust or libc code runs in the child, because the
 * runtime is multithreaded and only a fresh, lock-free, heap-free child is safe there (see the README).
 *
 * Everything the child reads (strings, argv and envp arrays, structs, the step list) is laid out here, before
 * the clone, in one ArrayBuffer whose backing store is malloc'ed and so copied into the child.
 */
import { check, libc, SysError } from "./libc.ts";
import type { SyscallName } from "./syscalls.ts";
import { SPAWN_ROUTINE_X86_64 } from "./x86_64/routine.ts";
import { SYSCALLS_X86_64 } from "./x86_64/syscalls.ts";

/** A symbolic integer (flags, constants) that the dry run prints by name. */
export class Named {
  constructor(readonly value: number | bigint, readonly name: string) {}
}

/** A block of 8-byte words in the child's memory; a word that is not an integer is a pointer to its value. */
export class Struct {
  constructor(readonly words: readonly Arg[], readonly name: string) {}
}

/**
 * A system call argument: an integer, NULL, a C string, a NULL-terminated array of C strings (argv, envp),
 * raw bytes, or a struct. Every non-integer is passed as a pointer into the child's copy of the arena.
 */
export type Arg = number | bigint | null | string | readonly string[] | Uint8Array | Named | Struct;

export interface RawStep {
  call: SyscallName;
  args: readonly Arg[];
  /** A return value of 0 is a failure too (a read that hits end-of-file). */
  positive?: boolean;
  /** This errno counts as success (EEXIST for mkdir, ENOENT for an execve tried along $PATH). */
  okErrno?: number;
}

const STEP_SIZE = 64;
const FLAG_POSITIVE = 1;

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

  bytes(b: Uint8Array): bigint {
    const at = this.alloc(b.length);
    if (this.view) new Uint8Array(this.view.buffer, at, b.length).set(b);
    return this.base + BigInt(at);
  }

  cstring(s: string): bigint {
    return this.bytes(new TextEncoder().encode(s + "\0"));
  }

  words(values: readonly bigint[]): bigint {
    const at = this.alloc(values.length * 8);
    values.forEach((v, i) => this.view?.setBigUint64(at + i * 8, BigInt.asUintN(64, v), true));
    return this.base + BigInt(at);
  }

  /** The 64-bit value passed for an argument. */
  value(arg: Arg): bigint {
    if (arg === null) return 0n;
    if (typeof arg === "number" || typeof arg === "bigint") return BigInt(arg);
    if (arg instanceof Named) return BigInt(arg.value);
    if (typeof arg === "string") return this.cstring(arg);
    if (arg instanceof Uint8Array) return this.bytes(arg);
    if (arg instanceof Struct) return this.words(arg.words.map((w) => this.value(w)));
    return this.words([...arg.map((s) => this.cstring(s)), 0n]);
  }
}

/** The encoded plan: struct plan { flags, steps, count, err_fd } followed by everything it points to. */
function layout(arena: Arena, cloneFlags: bigint, steps: readonly RawStep[], errFd: number): bigint {
  const plan = arena.alloc(32);
  const table = arena.alloc(steps.length * STEP_SIZE);
  const view = arena.view;
  steps.forEach((step, i) => {
    const at = table + i * STEP_SIZE;
    const args = step.args.map((a) => arena.value(a));
    if (args.length > 6) throw new RangeError(`${step.call}: more than 6 arguments`);
    if (!view) return;
    view.setBigUint64(at, BigInt(SYSCALLS_X86_64[step.call]), true);
    args.forEach((a, j) => view.setBigUint64(at + 8 + j * 8, BigInt.asUintN(64, a), true));
    view.setUint32(at + 56, step.positive ? FLAG_POSITIVE : 0, true);
    view.setInt32(at + 60, step.okErrno ?? 0, true);
  });
  if (view) {
    view.setBigUint64(plan, cloneFlags, true);
    view.setBigUint64(plan + 8, arena.base + BigInt(table), true);
    view.setBigUint64(plan + 16, BigInt(steps.length), true);
    view.setBigUint64(plan + 24, BigInt(errFd), true);
  }
  return arena.base + BigInt(plan);
}

type Routine = (plan: Deno.PointerValue) => bigint;
let routine: Routine | undefined;

const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, PAGE = 4096;

/** Maps the machine-code routine into an executable page, once per process. */
function loadRoutine(): Routine {
  if (routine) return routine;
  if (Deno.build.arch !== "x86_64") {
    throw new Error(`husk has no container start routine for ${Deno.build.arch} yet (x86_64 only)`);
  }
  const code = Uint8Array.from(SPAWN_ROUTINE_X86_64.split(" "), (h) => parseInt(h, 16));
  const c = libc();
  const page = c.mmap(null, BigInt(PAGE), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n);
  if (page === null || Deno.UnsafePointer.value(page) === 0xffffffffffffffffn) {
    throw new SysError("mmap", 0);
  }
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(page, PAGE)).set(code);
  check("mprotect", c.mprotect(page, BigInt(PAGE), PROT_READ | PROT_EXEC));
  const fn = new Deno.UnsafeFnPointer(
    page as Deno.PointerObject<{ parameters: ["pointer"]; result: "i64" }>,
    { parameters: ["pointer"], result: "i64" },
  );
  routine = (plan) => fn.call(plan) as bigint;
  return routine;
}

/**
 * Clones a child with `cloneFlags` (namespace flags | SIGCHLD) that runs `steps`, and returns its pid.
 * A failing step makes the child write {u32 step index, u32 errno} to `errFd` and exit 127.
 * Must be called from the main thread: PR_SET_PDEATHSIG follows the thread that cloned.
 */
export function spawn(cloneFlags: bigint, steps: readonly RawStep[], errFd: number): number {
  const run = loadRoutine();
  const measure = new Arena(null, 0n);
  layout(measure, cloneFlags, steps, errFd);
  // Over 64 bytes, so V8 keeps the backing store off its heap (the heap is not inherited by the child).
  const buffer = new ArrayBuffer(Math.max(measure.size, 128));
  const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer));
  const plan = layout(new Arena(new DataView(buffer), BigInt(base)), cloneFlags, steps, errFd);
  const pid = run(Deno.UnsafePointer.create(plan));
  if (pid < 0n) throw new SysError("clone", Number(-pid));
  return Number(pid);
}
