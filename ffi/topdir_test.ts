import { equal } from "node:assert/strict";
import { markTopDirectory } from "./topdir.ts";

/** The flags `lsattr` (e2fsprogs) shows for a directory itself. */
async function lsattr(path: string): Promise<string> {
  const out = await new Deno.Command("lsattr", { args: ["-d", path], stdout: "piped", stderr: "null" })
    .output();
  return new TextDecoder().decode(out.stdout).split(" ")[0];
}

Deno.test("topdir: a directory gets the Orlov top-directory flag (T) where its filesystem keeps it", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const marked = markTopDirectory(dir);
    equal((await lsattr(dir)).includes("T"), marked);
    // Marking again changes nothing.
    equal(markTopDirectory(dir), marked);
    // Not inherited: a directory made inside is an ordinary one.
    Deno.mkdirSync(`${dir}/sub`);
    equal((await lsattr(`${dir}/sub`)).includes("T"), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("topdir: a missing directory or a file is not marked", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/file`, "");
    equal(markTopDirectory(`${dir}/missing`), false);
    equal(markTopDirectory(`${dir}/file`), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
