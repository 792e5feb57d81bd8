import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import { CODE_OFFSET, ELF_BASE, installMonitor, MONITOR_NAME, monitorExecutable, staticElf } from "./elf.ts";
import { MONITOR_X86_64 } from "./x86_64/monitor.ts";

/** write(1, "hi\n", 3); exit_group(42), with the string addressed relative to rip. */
const HELLO = Uint8Array.from(
  ("b8 01 00 00 00 bf 01 00 00 00 48 8d 35 13 00 00 00 ba 03 00 00 00 0f 05 " +
    "b8 e7 00 00 00 bf 2a 00 00 00 0f 05 68 69 0a").split(" "),
  (h) => parseInt(h, 16),
);

Deno.test("staticElf: the ELF header of a static x86_64 executable", () => {
  const elf = staticElf(HELLO);
  const v = new DataView(elf.buffer);
  deepEqual(Array.from(elf.subarray(0, 16)), [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  equal(v.getUint16(16, true), 2); // ET_EXEC
  equal(v.getUint16(18, true), 62); // EM_X86_64
  equal(v.getUint32(20, true), 1);
  equal(v.getBigUint64(24, true), ELF_BASE + BigInt(CODE_OFFSET)); // entry: the first byte of the code
  equal(v.getBigUint64(32, true), 64n); // program headers right after the ELF header
  equal(v.getBigUint64(40, true), 0n); // no section headers
  equal(v.getUint16(52, true), 64);
  equal(v.getUint16(54, true), 56);
  equal(v.getUint16(56, true), 2);
  equal(v.getUint16(60, true), 0);
  equal(CODE_OFFSET, 64 + 2 * 56);
  deepEqual(elf.subarray(CODE_OFFSET), HELLO);
  equal(elf.length, CODE_OFFSET + HELLO.length);
});

Deno.test("staticElf: one R+X PT_LOAD segment mapping the whole file; a non-executable stack", () => {
  const elf = staticElf(HELLO, 0x10000000n);
  const v = new DataView(elf.buffer);
  const ph = (i: number) => {
    const at = 64 + 56 * i;
    return {
      type: v.getUint32(at, true),
      flags: v.getUint32(at + 4, true),
      offset: v.getBigUint64(at + 8, true),
      vaddr: v.getBigUint64(at + 16, true),
      paddr: v.getBigUint64(at + 24, true),
      filesz: v.getBigUint64(at + 32, true),
      memsz: v.getBigUint64(at + 40, true),
      align: v.getBigUint64(at + 48, true),
    };
  };
  const size = BigInt(elf.length);
  deepEqual(ph(0), {
    type: 1,
    flags: 5,
    offset: 0n,
    vaddr: 0x10000000n,
    paddr: 0x10000000n,
    filesz: size,
    memsz: size,
    align: 0x1000n,
  });
  deepEqual(ph(1), {
    type: 0x6474e551,
    flags: 6,
    offset: 0n,
    vaddr: 0n,
    paddr: 0n,
    filesz: 0n,
    memsz: 0n,
    align: 16n,
  });
  equal(v.getBigUint64(24, true), 0x10000000n + BigInt(CODE_OFFSET));
});

Deno.test("staticElf: refuses a base the kernel could not map", () => {
  for (const base of [0x400001n, 0n, 0x1000n, 1n << 47n]) throws(() => staticElf(HELLO, base), RangeError);
});

Deno.test("staticElf: binutils' readelf agrees", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/hello`, staticElf(HELLO));
    const out = await new Deno.Command("readelf", { args: ["-h", "-l", "-W", `${dir}/hello`] }).output();
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const text = new TextDecoder().decode(out.stdout);
    ok(/Class:\s+ELF64/.test(text), text);
    ok(/Type:\s+EXEC/.test(text), text);
    ok(/Machine:\s+Advanced Micro Devices X86-64/.test(text), text);
    ok(/Entry point address:\s+0x4000b0/.test(text), text);
    ok(/LOAD\s+0x0+ 0x0+400000 0x0+400000 0x0+d7 0x0+d7 R E 0x1000/.test(text), text);
    ok(/GNU_STACK\s.*RW /.test(text), text);
    equal(new TextDecoder().decode(out.stderr), ""); // no warnings
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("staticElf: the kernel runs it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/hello`, staticElf(HELLO), { mode: 0o755 });
    await Deno.chmod(`${dir}/hello`, 0o755);
    const out = await new Deno.Command(`${dir}/hello`).output();
    equal(out.code, 42);
    equal(new TextDecoder().decode(out.stdout), "hi\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitorExecutable: the monitor's code behind the ELF headers", () => {
  const elf = monitorExecutable();
  equal(elf.length, CODE_OFFSET + MONITOR_X86_64.split(" ").length);
  deepEqual(elf, staticElf(elf.subarray(CODE_OFFSET)));
});

Deno.test("installMonitor: writes husk-monitor 0755 once, replaces a different one", async () => {
  const root = await Deno.makeTempDir();
  const dir = `${root}/not/yet`;
  const path = `${dir}/${MONITOR_NAME}`;
  try {
    const umask = Deno.umask(0o077); // the mode must not depend on the caller's umask
    try {
      equal(installMonitor(dir), path);
    } finally {
      Deno.umask(umask);
    }
    const first = Deno.statSync(path);
    equal(first.mode! & 0o7777, 0o755);
    deepEqual(Deno.readFileSync(path), monitorExecutable());

    equal(installMonitor(dir), path); // already there: untouched
    equal(Deno.statSync(path).ino, first.ino);

    Deno.writeFileSync(path, new Uint8Array([1, 2, 3]));
    installMonitor(dir);
    deepEqual(Deno.readFileSync(path), monitorExecutable());
    notEqual(Deno.statSync(path).ino, first.ino); // renamed over, never written in place

    Deno.chmodSync(path, 0o777);
    installMonitor(dir);
    equal(Deno.statSync(path).mode! & 0o7777, 0o755);

    deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [MONITOR_NAME]); // no temporary file left
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
