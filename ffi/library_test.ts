import { equal, throws } from "node:assert/strict";
import { systemLibrary } from "./library.ts";

Deno.test("systemLibrary: a missing library is an error that names the Debian package to install; a present one loads", () => {
  const missing = systemLibrary("libhusk-missing.so.9", "husk-missing9", "testing", {});
  throws(
    () => missing(),
    /^Error: testing needs libhusk-missing\.so\.9: install Debian's husk-missing9 \(libhusk-missing\.so\.9: cannot open shared object file: No such file or directory\)$/,
  );
  const libc = systemLibrary("libc.so.6", "libc6", "testing", { getpid: { parameters: [], result: "i32" } });
  equal(libc().getpid(), Deno.pid);
});
