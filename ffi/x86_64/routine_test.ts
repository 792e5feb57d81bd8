import { deepEqual as assertEquals } from "node:assert/strict";
import { SPAWN_ROUTINE_X86_64 } from "./routine.ts";

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
