import { deepEqual, equal, throws } from "node:assert/strict";
import {
  exists,
  ifExists,
  listDirIfExists,
  readJsonIfExists,
  readTextIfExists,
  removeIfExists,
} from "./files.ts";

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

Deno.test("readJsonIfExists, listDirIfExists: null and none for what is missing", () => {
  const dir = Deno.makeTempDirSync();
  try {
    equal(readJsonIfExists(`${dir}/x.json`), null);
    deepEqual(listDirIfExists(`${dir}/nowhere`), []);
    Deno.writeTextFileSync(`${dir}/x.json`, '{"a":[1]}');
    deepEqual(readJsonIfExists(`${dir}/x.json`), { a: [1] });
    deepEqual(listDirIfExists(dir).map((e) => e.name), ["x.json"]);
    Deno.writeTextFileSync(`${dir}/bad.json`, "{");
    throws(() => readJsonIfExists(`${dir}/bad.json`), SyntaxError);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
