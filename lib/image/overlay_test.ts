import { equal, throws } from "node:assert/strict";
import { overlayData, overlayDirs } from "./overlay.ts";

Deno.test("overlay: the uppermost layer comes first; upper and work are the container's", () => {
  equal(
    overlayData(["base", "mid", "top"], overlayDirs("/s/containers/c")),
    "lowerdir=top:mid:base,upperdir=/s/containers/c/upper,workdir=/s/containers/c/work",
  );
  throws(() => overlayData(Array(100).fill("a".repeat(64)), overlayDirs("/c")), /more than an overlay mount/);
});
