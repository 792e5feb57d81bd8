import { equal, throws } from "node:assert/strict";
import { checkedDigest, sha256 } from "./digest.ts";

Deno.test("digest: sha256 as the OCI specs write it; anything else is refused before it names a file", () => {
  equal(sha256("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  equal(checkedDigest(sha256(""), "layer"), sha256(""));
  throws(
    () => checkedDigest("sha256:../../etc/passwd", "layer"),
    /invalid layer digest "sha256:..\/..\/etc\/passwd"/,
  );
  throws(() => checkedDigest("sha512:" + "0".repeat(128), "config"), /sha256 digests only/);
  throws(() => checkedDigest(undefined, "diff_id"), /invalid diff_id digest undefined/);
});
