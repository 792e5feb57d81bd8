import { deepEqual, equal, throws } from "node:assert/strict";
import { entryPath, parents, planEntry, whiteoutName } from "./entry.ts";

Deno.test("layer entries: paths are relative to the layer", () => {
  equal(entryPath("./etc/passwd"), "etc/passwd");
  equal(entryPath("/etc//passwd"), "etc/passwd");
  equal(entryPath("./"), null);
  deepEqual(planEntry("./", "directory"), { kind: "root" });
  deepEqual(parents("a/b/c"), ["a", "a/b"]);
});

Deno.test("layer entries: whiteouts and opaque directories", () => {
  deepEqual(planEntry("etc/.wh.motd", "file"), { kind: "whiteout", path: "etc/motd" });
  deepEqual(planEntry(".wh.tmp", "file"), { kind: "whiteout", path: "tmp" });
  deepEqual(planEntry("var/cache/.wh..wh..opq", "file"), { kind: "opaque", dir: "var/cache" });
  equal(whiteoutName("etc/motd"), "etc/.wh.motd");
  throws(() => planEntry("etc/.wh.", "file"), /a whiteout of nothing/);
});

Deno.test("layer entries: escapes are refused", () => {
  throws(() => planEntry("../etc/passwd", "file"), /refusing layer entry "..\/etc\/passwd": it escapes/);
  throws(() => planEntry("a/../../b", "file"), /escapes/);
  throws(() => planEntry("x", "link", "/etc/shadow"), /refusing hard link "x" -> "\/etc\/shadow"/);
  throws(() => planEntry("x", "link", "../outside"), /escapes/);
  deepEqual(planEntry("bin/sh", "link", "./bin/busybox"), {
    kind: "create",
    path: "bin/sh",
    target: "bin/busybox",
  });
  // A symbolic link's target is the container's business: it is never followed while extracting.
  deepEqual(planEntry("bin/sh", "symlink", "/bin/busybox"), { kind: "create", path: "bin/sh" });
});
