/**
 * libc through Deno.dlopen, only for what a raw system call cannot do: mapping the page of husk's machine
 * code (native.ts) and the C library's message for an errno value. Every other call of the runtime's own
 * process is a raw system call (native.ts): binding a libc symbol costs about 0.15 ms of start-up (a compiled
 * trampoline each), which every command paid for two dozen of them. The container's own child runs no libc
 * code at all.
 */

const symbols = {
  strerror: { parameters: ["i32"], result: "pointer" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let lib: Deno.DynamicLibrary<typeof symbols> | undefined;

/** The libc symbols, loaded on first use. */
export function libc(): Deno.DynamicLibrary<typeof symbols>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", symbols);
  return lib.symbols;
}

/** The C library's message for an errno value. */
export function strerror(code: number): string {
  const p = libc().strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/** A failed system call: carries what was done and the errno. */
export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number) {
    super(`${call}: ${strerror(errno)}`);
    this.name = "SysError";
  }
}

/** A NUL-terminated copy of a string, for path arguments. */
export function cstring(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s + "\0");
}
