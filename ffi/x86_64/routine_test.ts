import { deepEqual as assertEquals } from "node:assert/strict";
import { RAW_SYSCALL_OFFSET, RUN_STEPS_OFFSET, SPAWN_OFFSET, SPAWN_ROUTINE_X86_64 } from "./routine.ts";

Deno.test("the embedded routine is the assembly of spawn.S", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = new URL("./spawn.S", import.meta.url).pathname;
    const run = async (cmd: string, ...args: string[]) => {
      const out = await new Deno.Command(cmd, { args, stderr: "inherit" }).output();
      assertEquals(out.code, 0, `${cmd} failed`);
    };
    await run("as", "--64", "-o", `${dir}/spawn.o`, src);
    await run("objcopy", "-O", "binary", "-j", ".text", `${dir}/spawn.o`, `${dir}/spawn.bin`);
    const bytes = await Deno.readFile(`${dir}/spawn.bin`);
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
    assertEquals(SPAWN_ROUTINE_X86_64, hex);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the entry point offsets are the symbols of spawn.S", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = new URL("./spawn.S", import.meta.url).pathname;
    await new Deno.Command("as", { args: ["--64", "-o", `${dir}/spawn.o`, src] }).output();
    const nm = new TextDecoder().decode(
      (await new Deno.Command("nm", { args: [`${dir}/spawn.o`] }).output()).stdout,
    );
    const offset = (name: string) => parseInt(nm.match(new RegExp(`^([0-9a-f]+) T ${name}$`, "m"))![1], 16);
    assertEquals(offset("raw_syscall"), RAW_SYSCALL_OFFSET);
    assertEquals(offset("husk_spawn"), SPAWN_OFFSET);
    assertEquals(offset("run_steps"), RUN_STEPS_OFFSET);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
