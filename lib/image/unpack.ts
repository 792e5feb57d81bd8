/**
 * Adding an image from its manifest and a source of blobs (a registry, an OCI layout, a docker save
 * archive): every blob is checked against its digest, layers are fetched and extracted in parallel, and each
 * layer's uncompressed digest must equal the config's diff_id. Nothing counts until the commit.
 */
import { HuskError } from "../errors.ts";
import { checkedDigest } from "./digest.ts";
import { eachBatch } from "./batches.ts";
import { type Extracted, extractLayer, LayerExtractor } from "./layer.ts";
import type { Descriptor, ImageConfig, Manifest } from "./oci.ts";
import { DigestMismatchError, type Staging } from "./staging.ts";

export interface BlobSource {
  /** The blob's bytes (checked against `desc.digest` by the caller); `signal` stops a download. */
  open(desc: Descriptor, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
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
  // The first layer to fail stops the others, which are waited for: nothing goes on after the command.
  const stop = new AbortController();
  const tasks = manifest.layers.map(async (layer, i) => {
    const short = layer.digest.slice(7, 19);
    const haveBlob = staging.hasBlob(layer.digest), haveLayer = staging.hasLayer(diffIds[i]);
    if (haveBlob && haveLayer) {
      progress({ digest: short, status: "Already exists" });
      return staging.layerSize(diffIds[i]);
    }
    // The layer is extracted as it downloads; the blob is kept too, for save and for other images.
    const dir = haveLayer ? null : staging.newLayerDir();
    const extracted = haveBlob
      ? await extractLayer((await Deno.open(staging.blobFile(layer.digest))).readable, dir!, stop.signal)
      : await receiveLayer(
        staging,
        await source.open(layer, stop.signal),
        layer,
        dir,
        stop.signal,
        (done) => progress({ digest: short, status: "Downloading", done, total: layer.size }),
      );
    if (extracted === null) {
      progress({ digest: short, status: "Already exists" });
      return staging.layerSize(diffIds[i]);
    }
    const { diffId, size } = extracted;
    if (diffId !== diffIds[i]) {
      throw new DigestMismatchError(
        `layer ${layer.digest} failed verification: its uncompressed content has digest ${diffId}, ` +
          `the image config's diff_id is ${diffIds[i]}`,
      );
    }
    staging.layers.set(diffId, dir!);
    staging.layerSizes.set(diffId, size);
    progress({ digest: short, status: "Pull complete" });
    return size;
  }).map((task) => task.catch((e) => (stop.abort(e), Promise.reject(e))));
  const settled = await Promise.allSettled(tasks);
  if (stop.signal.aborted) throw stop.signal.reason;
  const sizes = settled.map((s) => (s as PromiseFulfilledResult<number>).value);
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
 * Receives a layer's blob and extracts it into `dir` as it arrives (`dir` null: the layer is already
 * stored). When extraction fails, the blob is still received to its end: a download that does not match
 * its digest is the cause to report (a corrupt gzip stream fails first).
 */
async function receiveLayer(
  staging: Staging,
  stream: ReadableStream<Uint8Array>,
  layer: Descriptor,
  dir: string | null,
  signal: AbortSignal,
  progress: (done: number) => void,
): Promise<Extracted | null> {
  const blob = staging.blobWriter(layer.digest, "layer");
  const extractor = dir === null ? null : new LayerExtractor(dir);
  let extracting = extractor !== null, done = 0;
  try {
    await eachBatch(stream, async (batch) => {
      done += batch.length;
      progress(done);
      const extracted = extracting ? extractor!.push(batch).catch(() => void (extracting = false)) : null;
      await Promise.all([blob.write(batch), extracted]);
    }, signal);
    await blob.finish();
  } catch (e) {
    blob.abort();
    await extractor?.abort();
    throw e;
  }
  return await extractor?.finish() ?? null;
}
