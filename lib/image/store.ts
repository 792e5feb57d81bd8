/**
 * The content-addressed image store under the state root:
 *
 *     images/blobs/sha256/<hex>   manifests, configs and layer blobs as pulled or loaded
 *     images/layers/<hex>/        one extracted directory per layer, named by its diff_id, shared by images
 *     images/index.json           the catalog (catalog.ts)
 *     images/tmp/<pid>-<uuid>/    an operation's staging area: nothing in it counts until committed
 *     images/userns/<hex>-<map>/  a layer chowned into a user namespace's range (--userns=remap)
 *
 * Operations that add images stage their files first (staging.ts).
 */
import type { StatePaths } from "../state/paths.ts";
import { lockExclusive, writeAtomic } from "../state/store.ts";
import { HuskError } from "../errors.ts";
import {
  type Catalog,
  displayName,
  emptyCatalog,
  findImage,
  noSuchImage,
  referenced,
  tagsOf,
} from "./catalog.ts";
import { familiar, familiarRepository, parseReference } from "./reference.ts";
import type { ImageConfig, RunConfig } from "./oci.ts";
import { exists, listDirIfExists, readJsonIfExists } from "../files.ts";

const imagesDir = (p: StatePaths) => `${p.root}/images`;
export const blobsDir = (p: StatePaths) => `${imagesDir(p)}/blobs/sha256`;
export const layersDir = (p: StatePaths) => `${imagesDir(p)}/layers`;
export const tmpDir = (p: StatePaths) => `${imagesDir(p)}/tmp`;
/** Layers chowned for user namespaces: `<diff_id hex>-<mapping hash>`. */
export const usernsLayersDir = (p: StatePaths) => `${imagesDir(p)}/userns`;
const indexFile = (p: StatePaths) => `${imagesDir(p)}/index.json`;

const hexOf = (digest: string) => digest.replace(/^sha256:/, "");
export const blobPath = (p: StatePaths, digest: string) => `${blobsDir(p)}/${hexOf(digest)}`;
export const layerDir = (p: StatePaths, diffId: string) => `${layersDir(p)}/${hexOf(diffId)}`;

/** Runs `fn` holding the image store's exclusive lock. */
export function withImageLock<T>(paths: StatePaths, fn: () => T): T {
  using _lock = lockExclusive(imagesDir(paths), `${imagesDir(paths)}/images.lock`, 0o700);
  return fn();
}

export function readCatalog(paths: StatePaths): Catalog {
  return readJsonIfExists<Catalog>(indexFile(paths)) ?? emptyCatalog();
}

/** Writes the catalog; call under the lock. */
export function writeCatalog(paths: StatePaths, catalog: Catalog): void {
  writeAtomic(indexFile(paths), JSON.stringify(catalog, null, 1));
}

/**
 * Removes what no image needs any more: blobs, layer directories, and staging directories of operations
 * whose process is gone. Call under the lock, after the catalog was written.
 */
export function collectGarbage(paths: StatePaths): void {
  const { layers, blobs } = referenced(readCatalog(paths));
  const sweep = (dir: string, keep: (name: string) => boolean) => {
    for (const entry of list(dir)) {
      if (!keep(entry)) Deno.removeSync(`${dir}/${entry}`, { recursive: true });
    }
  };
  sweep(blobsDir(paths), (hex) => blobs.has(`sha256:${hex}`));
  sweep(layersDir(paths), (hex) => layers.has(`sha256:${hex}`));
  // A copy in progress (".tmp-") of a layer still needed may belong to a container starting now: it stays.
  sweep(usernsLayersDir(paths), (name) => layers.has(`sha256:${name.split("-")[0]}`));
  removeStaleStaging(paths);
}

/** Removes the staging directories of operations whose process is gone (killed, say, by SIGKILL). */
export function removeStaleStaging(paths: StatePaths): void {
  for (const name of list(tmpDir(paths))) {
    if (exists(`/proc/${name.split("-")[0]}`)) continue;
    try {
      Deno.removeSync(`${tmpDir(paths)}/${name}`, { recursive: true });
    } catch (e) {
      // Another command may be removing it too.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}

function list(dir: string): string[] {
  return listDirIfExists(dir).map((e) => e.name);
}

/** A stored blob as JSON. */
function readJsonBlob<T>(paths: StatePaths, digest: string): T {
  return JSON.parse(Deno.readTextFileSync(blobPath(paths, digest)));
}

/** A local image as a container needs it: ID, layer directories, run config. An error when unknown. */
export function localImage(
  paths: StatePaths,
  name: string,
): { id: string; name: string; layers: string[]; config: RunConfig } {
  const image = findImage(readCatalog(paths), name);
  if (!image) throw new HuskError(`Unable to find image '${displayName(name)}' locally`);
  const config = readJsonBlob<ImageConfig>(paths, image.id);
  return {
    id: image.id,
    name,
    layers: image.layers.map((l) => layerDir(paths, l)),
    config: config.config ?? {},
  };
}

/** `husk image inspect`: Docker's shape of an image's details. */
export function inspectImage(paths: StatePaths, name: string): Record<string, unknown> {
  const catalog = readCatalog(paths);
  const image = findImage(catalog, name);
  if (!image) throw noSuchImage(name);
  const config = readJsonBlob<ImageConfig>(paths, image.id);
  return {
    Id: image.id,
    RepoTags: tagsOf(catalog, image.id).map((t) => familiar(parseReference(t))),
    RepoDigests: image.repoDigests.map((d) =>
      familiarRepository(d.slice(0, d.indexOf("@"))) + d.slice(d.indexOf("@"))
    ),
    Created: config.created ?? image.created,
    Config: config.config ?? {},
    Architecture: config.architecture,
    Os: config.os,
    Size: image.size,
    RootFS: { Type: "layers", Layers: image.layers },
  };
}
