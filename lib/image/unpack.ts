/**
 * Adding an image from its manifest and a source of blobs (a registry, an OCI layout, a docker save
 * archive): every blob is checked against its digest, layers are fetched and extracted in parallel, and each
 * layer's uncompressed digest must equal the config's diff_id. Nothing counts until the commit.
 */
import { HuskError } from "../errors.ts";
import { checkedDigest } from "./digest.ts";
import { type Extracted, extractLayer } from "./layer.ts";
import type { Descriptor, ImageConfig, Manifest } from "./oci.ts";
import { DigestMismatchError, type Staging } from "./staging.ts";

export interface BlobSource {
  /** The blob's bytes (checked against `desc.digest` by the caller). */
  open(desc: Descriptor): Promise<ReadableStream<Uint8Array>>;
}

/** What happens to each layer, for progress bars. */
export type Progress = (event: { digest: string; status: string; done?: number; total?: number }) => void;

/** Fetches, verifies and extracts what `manifest` needs, then commits the image under `refs`. */
export async function unpackImage(
  staging: Staging,
  manifestBytes: Uint8Array,
  source: BlobSource,
  refs: readonly string[],
  progress: Progress = () => {},
  repoDigests: readonly string[] = [],
): Promise<string> {
  const manifest: Manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new HuskError("not an image manifest: it has no config or no layers");
  }
  checkedDigest(manifest.config.digest, "config");
  manifest.layers.forEach((l) => checkedDigest(l.digest, "layer"));
  const manifestBlob = staging.writeBlobBytes(manifestBytes);
  await fetchBlob(staging, source, manifest.config, "config");
  const config: ImageConfig = JSON.parse(Deno.readTextFileSync(staging.blobFile(manifest.config.digest)));
  const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => checkedDigest(d, "diff_id"));
  if (diffIds.length !== manifest.layers.length) {
    throw new HuskError(
      `image config lists ${diffIds.length} layers (diff_ids), its manifest ${manifest.layers.length}`,
    );
  }
  const sizes = await Promise.all(manifest.layers.map(async (layer, i) => {
    const short = layer.digest.slice(7, 19);
    const haveBlob = staging.hasBlob(layer.digest), haveLayer = staging.hasLayer(diffIds[i]);
    if (haveBlob && haveLayer) {
      progress({ digest: short, status: "Already exists" });
      return staging.layerSize(diffIds[i]);
    }
    // The layer is extracted as it downloads; the blob is kept too, for save and for other images.
    let stream: ReadableStream<Uint8Array>;
    let received: Promise<unknown> = Promise.resolve();
    if (haveBlob) {
      stream = (await Deno.open(staging.blobFile(layer.digest))).readable;
    } else {
      let done = 0;
      const counted = (await source.open(layer)).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, out) {
            done += chunk.length;
            progress({ digest: short, status: "Downloading", done, total: layer.size });
            out.enqueue(chunk);
          },
        }),
      );
      const blob = staging.receiveBlob(counted, layer.digest, "layer");
      stream = blob.stream;
      received = blob.done;
    }
    if (haveLayer) {
      await stream.pipeTo(new WritableStream());
      await received;
      progress({ digest: short, status: "Already exists" });
      return staging.layerSize(diffIds[i]);
    }
    const dir = staging.newLayerDir();
    const { diffId, size } = await extractWhileReceiving(stream, received, dir);
    if (diffId !== diffIds[i]) {
      throw new DigestMismatchError(
        `layer ${layer.digest} failed verification: its uncompressed content has digest ${diffId}, ` +
          `the image config's diff_id is ${diffIds[i]}`,
      );
    }
    staging.layers.set(diffId, dir);
    staging.layerSizes.set(diffId, size);
    progress({ digest: short, status: "Pull complete" });
    return size;
  }));
  const id = manifest.config.digest;
  staging.commit({
    id,
    manifest: manifestBlob.digest,
    repoDigests: [...repoDigests],
    blobs: [manifestBlob.digest, id, ...manifest.layers.map((l) => l.digest)],
    layers: diffIds,
    layerSizes: sizes,
    size: sizes.reduce((a, b) => a + b, 0),
    created: config.created ?? new Date().toISOString(),
  }, refs);
  return id;
}

async function fetchBlob(
  staging: Staging,
  source: BlobSource,
  desc: Descriptor,
  what: string,
): Promise<void> {
  if (!staging.hasBlob(desc.digest)) await staging.writeBlob(await source.open(desc), desc.digest, what);
}

/**
 * Extracts a layer as its blob arrives. When extraction fails, the blob is still received to its end: a
 * download that does not match its digest is the cause to report (a corrupt gzip stream fails first).
 */
async function extractWhileReceiving(
  stream: ReadableStream<Uint8Array>,
  received: Promise<unknown>,
  dir: string,
): Promise<Extracted> {
  const reader = stream.getReader();
  const view = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: () => {}, // The rest is drained below.
  });
  try {
    const extracted = await extractLayer(view, dir);
    await received;
    return extracted;
  } catch (e) {
    try {
      while (!(await reader.read()).done) { /* drained into the blob */ }
      await received;
    } catch (download) {
      if (download instanceof DigestMismatchError) throw download;
    }
    throw e;
  }
}
