import { equal, throws } from "node:assert/strict";
import { exists, ifExists, readTextIfExists, removeIfExists } from "./files.ts";

Deno.test("files: a missing file is null (or false), an existing one is read, removed once", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/f`;
    equal(exists(path), false);
    equal(readTextIfExists(path), null);
    removeIfExists(path);
    Deno.writeTextFileSync(path, "text");
    equal(exists(path), true);
    equal(readTextIfExists(path), "text");
    removeIfExists(path);
    equal(exists(path), false);
    Deno.symlinkSync(`${dir}/nowhere`, path);
    equal(exists(path), true, "a dangling symlink exists");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ifExists: an error other than NotFound is thrown", () => {
  throws(() => ifExists(() => Deno.readTextFileSync("/")), Deno.errors.IsADirectory);
});
