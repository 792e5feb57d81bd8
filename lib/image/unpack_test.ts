import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { HuskError } from "../errors.ts";
import { statePaths } from "../state/paths.ts";
import { sha256 } from "./digest.ts";
import { Staging } from "./staging.ts";
import { type BlobSource, unpackImage } from "./unpack.ts";

const text = (s: string) => new TextEncoder().encode(s);
const delay = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const once = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });

/** A manifest of uncompressed layers (their digests are their diff_ids) and its config. */
function image(contents: Uint8Array[]) {
  const layers = contents.map((c) => ({ mediaType: "x", size: c.length, digest: sha256(c) }));
  const config = text(JSON.stringify({ rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } }));
  const manifest = text(JSON.stringify({
    schemaVersion: 2,
    config: { mediaType: "x", size: config.length, digest: sha256(config) },
    layers,
  }));
  return { layers, config, manifest };
}

/** Runs `run` with a staging area in a throwaway root; checks that nothing staged is left after it. */
async function withStaging(run: (staging: Staging) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "husk-unpack-" });
  try {
    const staging = Staging.create(statePaths(root));
    try {
      await run(staging);
    } finally {
      staging.dispose();
    }
    deepEqual([...Deno.readDirSync(`${root}/images/tmp`)], [], "nothing staged is left");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("unpackImage: the layers download while the config does (one round trip less)", async () => {
  const emptyTar = new Uint8Array(1024);
  const { config, manifest } = image([emptyTar]);
  let layerOpened: () => void;
  const opened = new Promise<void>((resolve) => layerOpened = resolve);
  const source: BlobSource = {
    open: (desc) => {
      if (desc.digest !== sha256(config)) {
        layerOpened();
        return Promise.resolve(once(emptyTar));
      }
      // The config's body ends only once a layer's download has started, or after 2 s.
      const late = Promise.race([opened.then(() => "layer first"), delay(2000, "config first")]);
      return Promise.resolve(
        new ReadableStream<Uint8Array>({
          pull: async (c) => {
            order.push(await late);
            c.enqueue(config);
            c.close();
          },
        }),
      );
    },
  };
  const order: string[] = [];
  await withStaging(async (staging) => {
    equal(await unpackImage(staging, manifest, source, []), sha256(config));
    deepEqual(order, ["layer first"]);
  });
});

Deno.test("unpackImage: a config that fails verification stops the layers' downloads and is the error", async () => {
  const { config, manifest } = image([text("a"), text("b")]);
  let cancelled = 0;
  const source: BlobSource = {
    open: (desc) =>
      Promise.resolve(
        desc.digest === sha256(config)
          ? once(text("{}")) // Not the config the manifest names.
          : new ReadableStream<Uint8Array>({
            pull: async (c) => {
              await delay(1, null);
              c.enqueue(new Uint8Array(65536));
            },
            cancel: () => void cancelled++,
          }),
      ),
  };
  await withStaging(async (staging) => {
    await rejects(unpackImage(staging, manifest, source, []), /config sha256:[0-9a-f]+ failed verification/);
    equal(cancelled, 2, "both layers' downloads were cancelled");
  });
});

Deno.test("unpackImage: the first layer to fail stops the others' downloads, and its error is thrown", async () => {
  const { layers, config, manifest } = image([text("a"), text("b")]);
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
            await delay(1, null);
            c.enqueue(new Uint8Array(65536).fill(0x61));
            sent++;
          },
          cancel: () => void (cancelled = true),
        }),
      );
    },
  };
  await withStaging(async (staging) => {
    await rejects(unpackImage(staging, manifest, source, []), /connection reset/);
    ok(cancelled, "the other layer's download was cancelled");
    const at = sent;
    await delay(30, null);
    equal(sent, at, "nothing is read after unpackImage returned");
  });
});
