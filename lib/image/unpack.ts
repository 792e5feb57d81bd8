/**
 * Adding an image from its manifest and a source of blobs (a registry, an OCI layout, a docker save
 * archive): every blob is checked against its digest, layers are fetched and extracted in parallel, and each
 * layer's uncompressed digest must equal the config's diff_id. Nothing counts until the commit.
 */
import { HuskError } from "../errors.ts";
import { extractLayer } from "./layer.ts";
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
): Promise<string> {
  const manifest: Manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new HuskError("not an image manifest: it has no config or no layers");
  }
  const manifestBlob = staging.writeBlobBytes(manifestBytes);
  await fetchBlob(staging, source, manifest.config, "config");
  const config: ImageConfig = JSON.parse(Deno.readTextFileSync(staging.blobFile(manifest.config.digest)));
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new HuskError(
      `image config lists ${diffIds.length} layers (diff_ids), its manifest ${manifest.layers.length}`,
    );
  }
  const sizes = await Promise.all(manifest.layers.map(async (layer, i) => {
    const short = layer.digest.slice(7, 19);
    if (staging.hasBlob(layer.digest) && staging.hasLayer(diffIds[i])) {
      progress({ digest: short, status: "Already exists" });
      return layer.size;
    }
    await fetchBlob(
      staging,
      source,
      layer,
      "layer",
      (done) => progress({ digest: short, status: "Downloading", done, total: layer.size }),
    );
    if (staging.hasLayer(diffIds[i])) return layer.size;
    progress({ digest: short, status: "Extracting" });
    const dir = staging.newLayerDir();
    const { diffId, size } = await extractLayer(staging.blobFile(layer.digest), dir);
    if (diffId !== diffIds[i]) {
      throw new DigestMismatchError(
        `layer ${layer.digest} failed verification: its uncompressed content has digest ${diffId}, ` +
          `the image config's diff_id is ${diffIds[i]}`,
      );
    }
    staging.layers.set(diffId, dir);
    progress({ digest: short, status: "Pull complete" });
    return size;
  }));
  const id = manifest.config.digest;
  staging.commit({
    id,
    manifest: manifestBlob.digest,
    blobs: [manifestBlob.digest, id, ...manifest.layers.map((l) => l.digest)],
    layers: diffIds,
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
  onBytes?: (done: number) => void,
): Promise<void> {
  if (staging.hasBlob(desc.digest)) return;
  let stream = await source.open(desc);
  if (onBytes) {
    let done = 0;
    stream = stream.pipeThrough(
      new TransformStream({
        transform(chunk, out) {
          done += chunk.length;
          onBytes(done);
          out.enqueue(chunk);
        },
      }),
    );
  }
  await staging.writeBlob(stream, desc.digest, what);
}
