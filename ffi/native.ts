/**
 * husk's machine code, mapped into one executable page per process: the container start routine and a raw
 * system call entry (x86_64 for now; another architecture needs its own spawn.S and syscall table).
 */
import { libc, SysError } from "./libc.ts";
import type { SyscallName } from "./syscalls.ts";
import {
  RAW_SYSCALL_OFFSET,
  RUN_STEPS_OFFSET,
  SPAWN_OFFSET,
  SPAWN_ROUTINE_X86_64,
} from "./x86_64/routine.ts";
import { SYSCALLS_X86_64 } from "./x86_64/syscalls.ts";

const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, PAGE = 4096;

const SPAWN = { parameters: ["pointer"], result: "i64" } as const;
const RAW = { parameters: ["i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" } as const;
const RAW_ASYNC = { ...RAW, nonblocking: true } as const;
const RUN_STEPS = { parameters: ["pointer", "u64"], result: "u64", nonblocking: true } as const;

interface Routines {
  spawn: Deno.UnsafeFnPointer<typeof SPAWN>;
  raw: Deno.UnsafeFnPointer<typeof RAW>;
  rawAsync: Deno.UnsafeFnPointer<typeof RAW_ASYNC>;
  runSteps: Deno.UnsafeFnPointer<typeof RUN_STEPS>;
}

let routines: Routines | undefined;

function load(): Routines {
  if (routines) return routines;
  if (Deno.build.arch !== "x86_64") {
    throw new Error(`husk has no container start routine for ${Deno.build.arch} yet (x86_64 only)`);
  }
  const code = Uint8Array.from(SPAWN_ROUTINE_X86_64.split(" "), (h) => parseInt(h, 16));
  const c = libc();
  const page = c.mmap(null, BigInt(PAGE), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n);
  if (page === null || Deno.UnsafePointer.value(page) === 0xffffffffffffffffn) {
    throw new Error("mmap of a page for husk's machine code failed");
  }
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(page, PAGE)).set(code);
  if (c.mprotect(page, BigInt(PAGE), PROT_READ | PROT_EXEC) !== 0) {
    throw new Error("mprotect of husk's machine code page failed");
  }
  const at = <T extends Deno.UnsafeCallbackDefinition | Deno.ForeignFunction>(offset: number) =>
    Deno.UnsafePointer.offset(page, offset) as Deno.PointerObject<T>;
  routines = {
    spawn: new Deno.UnsafeFnPointer(at<typeof SPAWN>(SPAWN_OFFSET), SPAWN),
    raw: new Deno.UnsafeFnPointer(at<typeof RAW>(RAW_SYSCALL_OFFSET), RAW),
    rawAsync: new Deno.UnsafeFnPointer(at<typeof RAW_ASYNC>(RAW_SYSCALL_OFFSET), RAW_ASYNC),
    runSteps: new Deno.UnsafeFnPointer(at<typeof RUN_STEPS>(RUN_STEPS_OFFSET), RUN_STEPS),
  };
  return routines;
}

/** The system call number of `name` on this architecture. */
export function syscallNumber(name: SyscallName): number {
  return SYSCALLS_X86_64[name];
}

/** Calls the start routine with a laid-out plan; returns the pid or -errno. */
export function callSpawn(plan: bigint): bigint {
  return load().spawn.call(Deno.UnsafePointer.create(plan)) as bigint;
}

type Word = number | bigint | Deno.PointerValue;
const word = (w: Word): bigint =>
  typeof w === "bigint" ? w : typeof w === "number" ? BigInt(w) : Deno.UnsafePointer.value(w) as bigint;

/** One system call on this thread: its raw result, -errno on failure. */
export function syscall(name: SyscallName, ...args: Word[]): number {
  const a = [...args.map(word), 0n, 0n, 0n, 0n, 0n].slice(0, 5);
  return Number(load().raw.call(BigInt(syscallNumber(name)), a[0], a[1], a[2], a[3], a[4]));
}

/** One system call on this thread; a failure throws a SysError saying `what` failed. */
export function sys(what: string, name: SyscallName, ...args: Word[]): number {
  const r = syscall(name, ...args);
  if (r < 0) throw new SysError(what, -r);
  return r;
}

/** A pointer to a buffer's bytes, for a system call's argument (the buffer must outlive the call). */
export function ptr(buffer: ArrayBufferView): Deno.PointerValue {
  return Deno.UnsafePointer.of(buffer as ArrayBufferView<ArrayBuffer>);
}

/** A buffer's address as a 64-bit word, for the native structs that point at buffers (iovecs, streams). */
export function address(buffer: ArrayBufferView): bigint {
  return BigInt(Deno.UnsafePointer.value(ptr(buffer)));
}

/** One system call on a worker thread: resolves to its raw result, -errno on failure. */
export async function syscallAsync(name: SyscallName, ...args: Word[]): Promise<number> {
  const a = [...args.map(word), 0n, 0n, 0n, 0n, 0n].slice(0, 5);
  return Number(await load().rawAsync.call(BigInt(syscallNumber(name)), a[0], a[1], a[2], a[3], a[4]));
}

/**
 * Runs `count` steps of spawn.S's layout (64 bytes each: number, six arguments, flags) on a worker thread,
 * in one call; each step's raw result lands in its last argument. Resolves to the index of the step that
 * failed, or `count`.
 */
export async function runSteps(steps: BigUint64Array<ArrayBuffer>, count: number): Promise<number> {
  return Number(await load().runSteps.call(Deno.UnsafePointer.of(steps), BigInt(count)));
}
