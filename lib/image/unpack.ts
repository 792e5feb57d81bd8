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
  // The config and the layers download at once, as containerd fetches them: only a layer's extraction waits
  // for the config, whose diff_id tells whether the layer is stored already. The first download to fail
  // stops the others, which are waited for: nothing goes on after the command.
  const stop = new AbortController();
  const failed = (e: unknown) => (stop.abort(e), Promise.reject(e));
  const configured = readConfig(staging, source, manifest, stop.signal).catch(failed);
  const tasks = manifest.layers.map(async (layer, i) => {
    const short = layer.digest.slice(7, 19);
    const target = configured.then(({ diffIds }) =>
      staging.hasLayer(diffIds[i]) ? null : staging.newLayerDir()
    );
    target.catch(() => {}); // The config's failure is thrown by `configured`.
    // The layer is extracted as it downloads; the blob is kept too, for save and for other images.
    let extracted: Extracted | null;
    if (staging.hasBlob(layer.digest)) {
      const file = staging.blobFile(layer.digest);
      extracted = await target.then(async (dir) =>
        dir === null ? null : await extractLayer((await Deno.open(file)).readable, dir, stop.signal)
      );
    } else {
      extracted = await receiveLayer(
        staging,
        await source.open(layer, stop.signal),
        layer,
        target,
        stop.signal,
        (done) => progress({ digest: short, status: "Downloading", done, total: layer.size }),
      );
    }
    const [{ diffIds }, dir] = await Promise.all([configured, target]);
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
  }).map((task) => task.catch(failed));
  await Promise.allSettled([configured, ...tasks]);
  if (stop.signal.aborted) throw stop.signal.reason;
  const [{ config, diffIds }, sizes] = await Promise.all([configured, Promise.all(tasks)]);
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

/** Fetches (unless stored) and reads the image config; checks that it lists a diff_id per layer. */
async function readConfig(
  staging: Staging,
  source: BlobSource,
  manifest: Manifest,
  signal: AbortSignal,
): Promise<{ config: ImageConfig; diffIds: string[] }> {
  const desc = manifest.config;
  if (!staging.hasBlob(desc.digest)) {
    await staging.writeBlob(await source.open(desc, signal), desc.digest, "config");
  }
  const config: ImageConfig = JSON.parse(Deno.readTextFileSync(staging.blobFile(desc.digest)));
  const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => checkedDigest(d, "diff_id"));
  if (diffIds.length !== manifest.layers.length) {
    throw new HuskError(
      `image config lists ${diffIds.length} layers (diff_ids), its manifest ${manifest.layers.length}`,
    );
  }
  return { config, diffIds };
}

/**
 * Receives a layer's blob and extracts it as it arrives into the directory `target` names once the config
 * is read (null: the layer is stored already). Until then the first batches wait, written to the blob.
 * When extraction fails, the blob is still received to its end: a download that does not match its digest
 * is the cause to report (a corrupt gzip stream fails first).
 */
async function receiveLayer(
  staging: Staging,
  stream: ReadableStream<Uint8Array>,
  layer: Descriptor,
  target: Promise<string | null>,
  signal: AbortSignal,
  progress: (done: number) => void,
): Promise<Extracted | null> {
  const blob = staging.blobWriter(layer.digest, "layer");
  // A config that fails stops the download through `signal`, with its own error; a tar parser that cannot
  // load is thrown at the end, once the blob is received.
  const extractor = target.then((dir) => dir === null ? null : LayerExtractor.create(dir), () => null);
  const extractorIfAny = extractor.catch(() => null);
  let extracting = true, done = 0;
  try {
    await eachBatch(stream, async (batch) => {
      done += batch.length;
      progress(done);
      const written = blob.write(batch);
      // Every batch waits for the same promise, so the batches reach the extractor in their order.
      const to = await extractorIfAny;
      const extracted = to !== null && extracting
        ? to.push(batch).catch(() => void (extracting = false))
        : null;
      await Promise.all([written, extracted]);
    }, signal);
    await blob.finish();
  } catch (e) {
    blob.abort();
    await (await extractorIfAny)?.abort();
    throw e;
  }
  return await (await extractor)?.finish() ?? null;
}
