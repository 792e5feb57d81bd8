/**
 * `husk load` and `husk save`: image archives as `docker save` writes them. An archive holds an OCI layout
 * (oci-layout, index.json, blobs/sha256/...) and/or the older manifest.json (Config, RepoTags, Layers as
 * paths); `save` writes both, as Docker 25 does; `load` reads either.
 */
import { Readable } from "node:stream";
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { HuskError } from "../errors.ts";
import type { StatePaths } from "../state/paths.ts";
import { tagsOf } from "./catalog.ts";
import { checkedDigest, Hasher } from "./digest.ts";
import { entryPath } from "./entry.ts";
import { layerMediaType } from "./import.ts";
import { hostPlatform, type Index, INDEX_TYPES, type Manifest, MediaType } from "./oci.ts";
import { pickManifest } from "./platform.ts";
import { canonical, familiar, parseReference } from "./reference.ts";
import { Staging } from "./staging.ts";
import { exists } from "../files.ts";
import { blobPath, readCatalog } from "./store.ts";
import { findImage, noSuchImage } from "./catalog.ts";
import { unpackImage } from "./unpack.ts";

const NAME_ANNOTATION = "io.containerd.image.name";
const REF_ANNOTATION = "org.opencontainers.image.ref.name";

/** Unpacks the archive's regular files into `dir` (nothing else belongs in one). */
async function unpackArchive(stream: ReadableStream<Uint8Array>, dir: string): Promise<void> {
  const extract = tar.extract();
  Readable.fromWeb(stream as never).on("error", (e) => extract.destroy(e)).pipe(extract);
  for await (const entry of extract) {
    const path = entryPath(entry.header.name);
    if (path !== null && entry.header.type === "file") {
      Deno.mkdirSync(`${dir}/${path.slice(0, path.lastIndexOf("/") + 1)}`, { recursive: true });
      using file = Deno.openSync(`${dir}/${path}`, { write: true, createNew: true });
      for await (const chunk of entry) {
        for (let n = 0; n < chunk.length;) n += file.writeSync((chunk as Uint8Array).subarray(n));
      }
    } else {
      entry.resume();
    }
  }
}

async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const hasher = new Hasher();
  using file = Deno.openSync(path);
  const buf = new Uint8Array(1 << 20);
  for (let n; (n = file.readSync(buf)) !== null;) hasher.update(buf.subarray(0, n));
  return { digest: await hasher.digest(), size: hasher.size };
}

/** Loads every image of an archive; returns Docker's report lines. */
export async function loadArchive(paths: StatePaths, stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const outer = Staging.create(paths);
  try {
    const dir = `${outer.dir}/archive`;
    await unpackArchive(stream, dir);
    const images = exists(`${dir}/manifest.json`) ? await legacyImages(dir) : ociImages(dir);
    if (images.length === 0) {
      throw new HuskError("the archive holds no image (no manifest.json or index.json)");
    }
    const lines: string[] = [];
    for (const image of images) {
      const staging = Staging.create(paths);
      try {
        const id = await unpackImage(staging, image.manifest, {
          open: (desc) => Deno.open(image.file(desc.digest)).then((f) => f.readable),
        }, image.refs);
        lines.push(
          ...(image.refs.length > 0
            ? image.refs.map((r) => `Loaded image: ${familiar(parseReference(r))}`)
            : [`Loaded image ID: ${id}`]),
        );
      } finally {
        staging.dispose();
      }
    }
    return lines;
  } catch (e) {
    if (e instanceof HuskError || !(e instanceof Error)) throw e;
    throw new HuskError(`invalid image archive: ${e.message}`, undefined, { cause: e });
  } finally {
    outer.dispose();
  }
}

interface ArchivedImage {
  manifest: Uint8Array;
  refs: string[];
  file(digest: string): string;
}

/** The OCI layout form: index.json's manifests (an index resolved to this host's platform). */
function ociImages(dir: string): ArchivedImage[] {
  if (!exists(`${dir}/index.json`)) return [];
  const blob = (digest: string) => `${dir}/blobs/sha256/${checkedDigest(digest, "blob").slice(7)}`;
  const index: Index = JSON.parse(Deno.readTextFileSync(`${dir}/index.json`));
  return index.manifests.map((desc) => {
    let chosen = desc;
    while (INDEX_TYPES.includes(chosen.mediaType)) {
      chosen = pickManifest(
        JSON.parse(Deno.readTextFileSync(blob(chosen.digest))),
        hostPlatform(),
        "the archive",
      );
    }
    const name = desc.annotations?.[NAME_ANNOTATION] ?? desc.annotations?.[REF_ANNOTATION];
    let refs: string[] = [];
    try {
      // A bare tag ("latest") names no repository: such an image is loaded without a name.
      if (name && /[/:]/.test(name)) refs = [canonical(parseReference(name))];
    } catch {
      refs = [];
    }
    return { manifest: Deno.readFileSync(blob(chosen.digest)), refs, file: blob };
  });
}

/** The older form: manifest.json lists each image's config and layer files, which husk hashes. */
function legacyImages(dir: string): Promise<ArchivedImage[]> {
  const entries: { Config: string; RepoTags?: string[] | null; Layers: string[] }[] = JSON.parse(
    Deno.readTextFileSync(`${dir}/manifest.json`),
  );
  return Promise.all(entries.map(async (entry) => {
    const files = new Map<string, string>();
    const describe = async (rel: string, mediaType?: string) => {
      const path = `${dir}/${entryPath(rel)}`;
      const { digest, size } = await hashFile(path);
      files.set(digest, path);
      const magic = new Uint8Array(4);
      using f = Deno.openSync(path);
      f.readSync(magic);
      return { mediaType: mediaType ?? layerMediaType(magic), digest, size };
    };
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: await describe(entry.Config, MediaType.ociConfig),
      layers: await Promise.all(entry.Layers.map((l) => describe(l))),
    };
    return {
      manifest: new TextEncoder().encode(JSON.stringify(manifest)),
      refs: (entry.RepoTags ?? []).map((t) => canonical(parseReference(t))),
      file: (digest) => files.get(digest)!,
    };
  }));
}

/** `husk save`: the named images as one archive in both forms. */
export function saveArchive(paths: StatePaths, names: readonly string[]): ReadableStream<Uint8Array> {
  const catalog = readCatalog(paths);
  const images = names.map((name) => {
    const image = findImage(catalog, name);
    if (!image) throw noSuchImage(name);
    let refs = tagsOf(catalog, image.id);
    try {
      const asked = canonical(parseReference(name));
      if (refs.includes(asked)) refs = [asked];
    } catch {
      // Named by ID: all its names.
    }
    return { image, refs };
  });
  const pack = tar.pack();
  const add = (name: string, data: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data as never, (e) => e ? reject(e) : resolve())
    );
  (async () => {
    const blobs = new Set(images.flatMap(({ image }) => image.blobs));
    for (const digest of blobs) {
      await add(`blobs/sha256/${digest.slice(7)}`, Deno.readFileSync(blobPath(paths, digest)));
    }
    const manifests = images.flatMap(({ image, refs }) => {
      const desc = {
        mediaType: MediaType.ociManifest,
        digest: image.manifest,
        size: Deno.statSync(blobPath(paths, image.manifest)).size,
      };
      return refs.length === 0 ? [desc] : refs.map((ref) => ({
        ...desc,
        annotations: { [NAME_ANNOTATION]: ref, [REF_ANNOTATION]: ref.slice(ref.lastIndexOf(":") + 1) },
      }));
    });
    const legacy = images.map(({ image, refs }) => {
      const manifest: Manifest = JSON.parse(Deno.readTextFileSync(blobPath(paths, image.manifest)));
      return {
        Config: `blobs/sha256/${image.id.slice(7)}`,
        RepoTags: refs.map((r) => familiar(parseReference(r))),
        Layers: manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      };
    });
    const text = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    await add("oci-layout", text({ imageLayoutVersion: "1.0.0" }));
    await add("index.json", text({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
    await add("manifest.json", text(legacy));
    pack.finalize();
  })().catch((e) => pack.destroy(e));
  return Readable.toWeb(pack) as ReadableStream<Uint8Array>;
}
