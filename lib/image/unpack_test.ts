import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { HuskError } from "../errors.ts";
import { statePaths } from "../state/paths.ts";
import { sha256 } from "./digest.ts";
import { Staging } from "./staging.ts";
import { type BlobSource, unpackImage } from "./unpack.ts";

const text = (s: string) => new TextEncoder().encode(s);
const once = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });

Deno.test("unpackImage: the first layer to fail stops the others' downloads, and its error is thrown", async () => {
  const root = await Deno.makeTempDir({ prefix: "husk-unpack-" });
  try {
    const layers = ["a", "b"].map((l) => ({ mediaType: "x", size: 1, digest: sha256(l) }));
    const config = text(
      JSON.stringify({ rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } }),
    );
    const manifest = text(JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: "x", size: config.length, digest: sha256(config) },
      layers,
    }));
    let cancelled = false, sent = 0;
    const source: BlobSource = {
      open: (desc) => {
        if (desc.digest === sha256(config)) return Promise.resolve(once(config));
        if (desc.digest === layers[0].digest) {
          // Fails once the second layer is under way.
          return new Promise((_, reject) => setTimeout(() => reject(new HuskError("connection reset")), 20));
        }
        // A download that never ends (and is no tar: its extraction fails, its blob goes on).
        return Promise.resolve(
          new ReadableStream<Uint8Array>({
            pull: async (c) => {
              await new Promise((resolve) => setTimeout(resolve, 1));
              c.enqueue(new Uint8Array(65536).fill(0x61));
              sent++;
            },
            cancel: () => void (cancelled = true),
          }),
        );
      },
    };
    const staging = Staging.create(statePaths(root));
    try {
      await rejects(unpackImage(staging, manifest, source, []), /connection reset/);
      ok(cancelled, "the other layer's download was cancelled");
      const at = sent;
      await new Promise((resolve) => setTimeout(resolve, 30));
      equal(sent, at, "nothing is read after unpackImage returned");
    } finally {
      staging.dispose();
    }
    deepEqual([...Deno.readDirSync(`${root}/images/tmp`)], [], "nothing staged is left");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
