import { equal, throws } from "node:assert/strict";
import { layeredFs, overlayData, overlayDirs } from "./overlay.ts";

Deno.test("overlay: the uppermost layer comes first; upper and work are the container's", () => {
  equal(
    overlayData(["base", "mid", "top"], overlayDirs("/s/containers/c")),
    "lowerdir=top:mid:base,upperdir=/s/containers/c/upper,workdir=/s/containers/c/work",
  );
  throws(() => overlayData(Array(100).fill("a".repeat(64)), overlayDirs("/c")), /more than an overlay mount/);
});

Deno.test("overlay: before it is mounted, a path is found in the uppermost layer that has it", () => {
  const files: Record<string, "file" | "dir"> = {
    "/l/base/bin/sh": "file",
    "/l/top/etc/motd": "file",
    "/l/top/bin": "dir",
  };
  const base = {
    lstat: (p: string) => files[p] ?? null,
    stat: (p: string) => files[p] ?? null,
    readlink: () => "",
  };
  const fs = layeredFs("/c/rootfs", ["/l/base", "/l/top"], base);
  equal(fs.lstat("/c/rootfs/bin/sh"), "file");
  equal(fs.lstat("/c/rootfs/etc/motd"), "file");
  equal(fs.lstat("/c/rootfs/nope"), null);
  equal(fs.lstat("/l/top/bin"), "dir", "paths outside the root are the host's");
});
