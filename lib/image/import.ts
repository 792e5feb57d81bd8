/**
 * Images from a single filesystem tarball (`husk import`, the rootfs task): one layer, a config with the
 * given run settings, an OCI manifest.
 */
import type { StatePaths } from "../state/paths.ts";
import { canonical, parseReference } from "./reference.ts";
import { compressionOf, extractLayer } from "./layer.ts";
import { hostPlatform, type ImageConfig, MediaType, type RunConfig } from "./oci.ts";
import { Staging } from "./staging.ts";

/** The layer media type for a blob's first bytes. */
export function layerMediaType(magic: Uint8Array): string {
  const compression = compressionOf(magic);
  return compression === "gzip"
    ? MediaType.ociLayerGzip
    : compression === "zstd"
    ? MediaType.ociLayerZstd
    : MediaType.ociLayer;
}

/** Imports a tarball (plain, gzip or zstd) as an image; returns its ID. */
export async function importTarball(
  paths: StatePaths,
  tarball: ReadableStream<Uint8Array>,
  name: string | null,
  run: RunConfig = {},
  now = new Date(),
): Promise<string> {
  const refs = name === null ? [] : [canonical(parseReference(name))];
  const staging = Staging.create(paths);
  try {
    const blob = await staging.writeBlob(tarball);
    const file = staging.blobFile(blob.digest);
    const magic = new Uint8Array(4);
    using f = Deno.openSync(file);
    f.readSync(magic);
    const dir = staging.newLayerDir();
    const { diffId, size } = await extractLayer((await Deno.open(file)).readable, dir);
    if (!staging.hasLayer(diffId)) staging.layers.set(diffId, dir);
    const config: ImageConfig = {
      ...hostPlatform(),
      created: now.toISOString(),
      config: run,
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created: now.toISOString(), created_by: "husk import" }],
    };
    const configBlob = staging.writeBlobBytes(JSON.stringify(config));
    const manifest = staging.writeBlobBytes(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...configBlob },
      layers: [{ mediaType: layerMediaType(magic), ...blob }],
    }));
    const id = configBlob.digest;
    staging.commit({
      id,
      manifest: manifest.digest,
      repoDigests: [],
      blobs: [manifest.digest, id, blob.digest],
      layers: [diffId],
      layerSizes: [size],
      size,
      created: config.created!,
    }, refs);
    return id;
  } finally {
    staging.dispose();
  }
}
