/**
 * A test probe: a tiny static program (built with ffi/elf.ts, no compiler) that makes one system call with up
 * to three integer arguments and exits with its errno (0 when the call succeeded), so that a test can see
 * from outside exactly what the kernel answered inside a container.
 */
import { staticElf } from "../ffi/elf.ts";

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return [...b];
};

/** The machine code: the call, then exit(result < 0 ? -result : 0). */
export function probeCode(nr: number, a0 = 0, a1 = 0, a2 = 0): Uint8Array {
  return new Uint8Array([
    0xbf,
    ...u32(a0), // mov edi, a0
    0xbe,
    ...u32(a1), // mov esi, a1
    0xba,
    ...u32(a2), // mov edx, a2
    0xb8,
    ...u32(nr), // mov eax, nr
    0x0f,
    0x05, // syscall
    0x31,
    0xff, // xor edi, edi
    0x48,
    0x85,
    0xc0, // test rax, rax
    0x79,
    0x04, // jns +4
    0xf7,
    0xd8, // neg eax
    0x89,
    0xc7, // mov edi, eax
    0xb8,
    ...u32(60), // mov eax, 60 (exit)
    0x0f,
    0x05, // syscall
  ]);
}

/** Writes probes named after their calls into a fresh directory; returns it. */
export async function writeProbes(
  probes: Record<string, [number, number?, number?, number?]>,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "husk-probe-" });
  for (const [name, [nr, ...args]] of Object.entries(probes)) {
    await Deno.writeFile(`${dir}/${name}`, staticElf(probeCode(nr, ...args)), { mode: 0o755 });
    await Deno.chmod(`${dir}/${name}`, 0o755);
  }
  return dir;
}

/** One call of a probe sequence: its number and up to three arguments (integers or C strings). */
export type ProbeCall = [nr: number, ...args: (number | string)[]];

/**
 * The machine code of a sequence of calls: when call i fails, the program exits with 100 + i; when all
 * succeed, with 0. Strings are placed after the code and addressed relative to the instruction pointer.
 */
export function sequenceCode(calls: readonly ProbeCall[]): Uint8Array {
  const code: number[] = [];
  const strings: { at: number; text: string }[] = [];
  const regs = [[0xbf, 0x3d], [0xbe, 0x35], [0xba, 0x15]]; // rdi, rsi, rdx: mov imm64 / lea rip-relative
  calls.forEach(([nr, ...args], i) => {
    args.forEach((arg, r) => {
      if (typeof arg === "string") {
        code.push(0x48, 0x8d, regs[r][1], 0, 0, 0, 0);
        strings.push({ at: code.length - 4, text: arg });
      } else {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigInt64(0, BigInt(arg), true);
        code.push(0x48, regs[r][0], ...b);
      }
    });
    code.push(0xb8, ...u32(nr), 0x0f, 0x05); // mov eax, nr; syscall
    code.push(0x48, 0x85, 0xc0, 0x79, 0x0c); // test rax, rax; jns over the exit
    code.push(0xbf, ...u32(100 + i), 0xb8, ...u32(60), 0x0f, 0x05); // exit(100 + i)
  });
  code.push(0x31, 0xff, 0xb8, ...u32(60), 0x0f, 0x05); // exit(0)
  const data: number[] = [];
  for (const s of strings) {
    const displacement = code.length + data.length - (s.at + 4);
    u32(displacement).forEach((byte, k) => code[s.at + k] = byte);
    data.push(...new TextEncoder().encode(s.text), 0);
  }
  return new Uint8Array([...code, ...data]);
}

/** Writes one sequence probe as `dir/name`. */
export async function writeSequenceProbe(
  dir: string,
  name: string,
  calls: readonly ProbeCall[],
): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, staticElf(sequenceCode(calls)), { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  return path;
}
