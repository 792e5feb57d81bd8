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
