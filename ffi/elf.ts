/**
 * Minimal static ELF64 executables around raw machine code, and the installation of husk-monitor (the
 * detached containers' monitor, ffi/x86_64/monitor.S) built that way: no linker, no C compiler, no libc.
 *
 * Layout: the ELF header (64 bytes), two program headers (56 bytes each), then the code. One PT_LOAD segment,
 * read+execute, maps the whole file (headers included) at `base`; the entry point is the first byte of the
 * code. A PT_GNU_STACK header asks for a non-executable stack. The code must be position independent or
 * expect `base + CODE_OFFSET`; it has no writable data segment, so its mutable state lives on the stack.
 */
import { MONITOR_X86_64 } from "./x86_64/monitor.ts";

/** Where the segment is mapped by default (the traditional non-PIE address on x86_64). */
export const ELF_BASE = 0x400000n;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const PHDR_COUNT = 2;
/** The file offset of the code (and its distance from the base address). */
export const CODE_OFFSET = EHDR_SIZE + PHDR_COUNT * PHDR_SIZE;

const ET_EXEC = 2;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1, PF_W = 2, PF_R = 4;
const PAGE = 0x1000n;

/** A static x86_64 ELF executable whose entry point is `code[0]`. Pure. */
export function staticElf(code: Uint8Array, base: bigint = ELF_BASE): Uint8Array {
  if (base % PAGE !== 0n || base < 0x10000n || base >= 1n << 47n) {
    throw new RangeError(`ELF base 0x${base.toString(16)} must be page aligned, above 64 KiB, in user space`);
  }
  const size = CODE_OFFSET + code.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV, padding.
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, EM_X86_64, true);
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(24, base + BigInt(CODE_OFFSET), true); // e_entry
  v.setBigUint64(32, BigInt(EHDR_SIZE), true); // e_phoff
  v.setBigUint64(40, 0n, true); // e_shoff: no section headers
  v.setUint32(48, 0, true); // e_flags
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  v.setUint16(56, PHDR_COUNT, true);
  v.setUint16(58, 0, true); // e_shentsize
  v.setUint16(60, 0, true); // e_shnum
  v.setUint16(62, 0, true); // e_shstrndx: SHN_UNDEF
  const phdr = (at: number, type: number, flags: number, vaddr: bigint, bytes: bigint, align: bigint) => {
    v.setUint32(at, type, true);
    v.setUint32(at + 4, flags, true);
    v.setBigUint64(at + 8, 0n, true); // p_offset
    v.setBigUint64(at + 16, vaddr, true);
    v.setBigUint64(at + 24, vaddr, true); // p_paddr
    v.setBigUint64(at + 32, bytes, true); // p_filesz
    v.setBigUint64(at + 40, bytes, true); // p_memsz
    v.setBigUint64(at + 48, align, true);
  };
  phdr(EHDR_SIZE, PT_LOAD, PF_R | PF_X, base, BigInt(size), PAGE);
  phdr(EHDR_SIZE + PHDR_SIZE, PT_GNU_STACK, PF_R | PF_W, 0n, 0n, 16n);
  out.set(code, CODE_OFFSET);
  return out;
}

/** The file name of the monitor executable. */
export const MONITOR_NAME = "husk-monitor";

/** The monitor executable for this machine (x86_64 only for now). */
export function monitorExecutable(): Uint8Array {
  if (Deno.build.arch !== "x86_64") {
    throw new Error(`husk has no container monitor for ${Deno.build.arch} yet (x86_64 only)`);
  }
  return staticElf(Uint8Array.from(MONITOR_X86_64.split(" "), (h) => parseInt(h, 16)));
}

/**
 * Makes `<dir>/husk-monitor` the current monitor executable and returns its path. Nothing is written when
 * it already is (same bytes, a regular file of ours, mode 0755). Otherwise the new file is written aside and
 * renamed over the old one: running monitors keep executing the old inode (writing into it would fail with
 * ETXTBSY), and a concurrent caller never sees half a file. `dir` is created if missing; it must not be on a
 * noexec mount.
 */
export function installMonitor(dir: string): string {
  const bytes = monitorExecutable();
  const path = `${dir}/${MONITOR_NAME}`;
  if (isInstalled(path, bytes)) return path;
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    Deno.writeFileSync(tmp, bytes, { createNew: true, mode: 0o755 });
    Deno.chmodSync(tmp, 0o755); // the mode given at creation is reduced by the umask
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never created, or already renamed */ }
    throw e;
  }
  return path;
}

function isInstalled(path: string, bytes: Uint8Array): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  if (!info.isFile || info.size !== bytes.length || (info.mode! & 0o7777) !== 0o755) return false;
  if (info.uid !== Deno.uid()) return false;
  const current = Deno.readFileSync(path);
  return current.length === bytes.length && current.every((b, i) => b === bytes[i]);
}
