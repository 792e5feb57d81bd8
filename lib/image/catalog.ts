/**
 * The store's catalog (images/index.json): which images exist, which layers and blobs each needs, which
 * names point at them. Pure: lookups and the plans for tag, remove and prune; store.ts applies them.
 */
import { InvalidInputError, StateError } from "../errors.ts";
import { canonical, familiar, parseReference, repository } from "./reference.ts";

export interface ImageRecord {
  /** The config's digest, "sha256:...": Docker's image ID. */
  id: string;
  /** The manifest's digest. */
  manifest: string;
  /** "repository@digest" for each digest it was pulled by (an index's, for a multi-platform image). */
  repoDigests: string[];
  /** Every blob the image needs (manifest, config, layers), for garbage collection and save. */
  blobs: string[];
  /** The layers' uncompressed digests (the config's diff_ids), lowest first. */
  layers: string[];
  /** Bytes of each uncompressed layer, and of all of them. */
  layerSizes: number[];
  size: number;
  created: string;
}

export interface Catalog {
  images: Record<string, ImageRecord>;
  /** Canonical references ("docker.io/library/alpine:latest") to image IDs. */
  tags: Record<string, string>;
}

export const emptyCatalog = (): Catalog => ({ images: {}, tags: {} });

/** Docker's short ID: 12 hex digits without the algorithm. */
export const shortId = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);

/** The image that `text` names (a reference, an ID or a unique ID prefix), or null. */
export function findImage(catalog: Catalog, text: string): ImageRecord | null {
  let ref;
  try {
    ref = parseReference(text);
  } catch {
    ref = null;
  }
  if (ref) {
    if (ref.digest) {
      const pulledBy = `${repository(ref)}@${ref.digest}`;
      const byDigest = Object.values(catalog.images).find((i) =>
        i.manifest === ref.digest || i.repoDigests.includes(pulledBy)
      );
      if (byDigest) return byDigest;
    } else {
      const id = catalog.tags[canonical(ref)];
      if (id) return catalog.images[id];
    }
  }
  const hex = text.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{1,64}$/.test(hex)) return null;
  const matches = Object.keys(catalog.images).filter((id) => id.startsWith(`sha256:${hex}`));
  if (matches.length > 1) {
    throw new InvalidInputError(`image ID prefix "${text}" is ambiguous: use more digits`);
  }
  return matches.length === 1 ? catalog.images[matches[0]] : null;
}

/** Docker's message for a name that is neither a local image nor in a registry. */
export function noSuchImage(text: string): StateError {
  return new StateError(`Error response from daemon: No such image: ${displayName(text)}`);
}

/** "alpine" -> "alpine:latest", as Docker's messages show a name; IDs unchanged. */
export function displayName(text: string): string {
  try {
    return familiar(parseReference(text));
  } catch {
    return text;
  }
}

/** The references that point at `id`, sorted. */
export function tagsOf(catalog: Catalog, id: string): string[] {
  return Object.entries(catalog.tags).filter(([, i]) => i === id).map(([t]) => t).sort();
}

/** `husk tag SOURCE TARGET`: the catalog with TARGET pointing at SOURCE's image. */
export function tag(catalog: Catalog, source: string, target: string): Catalog {
  const image = findImage(catalog, source);
  if (!image) throw noSuchImage(source);
  const ref = parseReference(target);
  if (ref.digest) {
    throw new InvalidInputError(`refusing to create a tag with a digest reference: "${target}"`);
  }
  return { ...catalog, tags: { ...catalog.tags, [canonical(ref)]: image.id } };
}

/**
 * Adds an image and its tags (a tag already pointing elsewhere moves, leaving that image dangling); an image
 * already there keeps the digests it was pulled by.
 */
export function addImage(catalog: Catalog, image: ImageRecord, refs: readonly string[]): Catalog {
  const tags = { ...catalog.tags };
  for (const ref of refs) tags[ref] = image.id;
  const repoDigests = [...new Set([...catalog.images[image.id]?.repoDigests ?? [], ...image.repoDigests])];
  return { images: { ...catalog.images, [image.id]: { ...image, repoDigests } }, tags };
}

export interface Removal {
  catalog: Catalog;
  /** Docker's report lines: "Untagged: alpine:latest", "Deleted: sha256:...". */
  lines: string[];
}

/**
 * `husk rmi NAME`: untags a reference; deletes the image once no reference is left. `usedBy` names the
 * containers using each image: an image in use is refused, as Docker does.
 */
export function removeImage(
  catalog: Catalog,
  text: string,
  usedBy: (id: string) => string[],
  force: boolean,
): Removal {
  const image = findImage(catalog, text);
  if (!image) throw noSuchImage(text);
  const tags = tagsOf(catalog, image.id);
  let ref: string | null = null;
  try {
    const parsed = parseReference(text);
    if (!parsed.digest && catalog.tags[canonical(parsed)] === image.id) ref = canonical(parsed);
  } catch {
    // An ID.
  }
  const users = usedBy(image.id);
  if (ref !== null && (tags.length > 1 || (force && users.length > 0))) {
    // Only the name goes: the image keeps its other names (or, forced, stays for its containers).
    const { [ref]: _, ...rest } = catalog.tags;
    return { catalog: { ...catalog, tags: rest }, lines: [`Untagged: ${familiar(parseReference(ref))}`] };
  }
  if (users.length > 0) {
    const what = ref !== null
      ? `unable to remove repository reference "${text}" (must force)`
      : `unable to delete ${shortId(image.id)} (must be forced)`;
    throw new StateError(
      `Error response from daemon: conflict: ${what} - container ${
        users[0].slice(0, 12)
      } is using its referenced image ${shortId(image.id)}`,
    );
  }
  if (ref === null && tags.length > 1 && !force) {
    throw new StateError(
      `Error response from daemon: conflict: unable to delete ${
        shortId(image.id)
      } (must be forced) - image is referenced in multiple repositories`,
    );
  }
  return deleteImages(catalog, [image.id]);
}

/** Removes images and every tag pointing at them. */
export function deleteImages(catalog: Catalog, ids: readonly string[]): Removal {
  const gone = new Set(ids);
  const lines: string[] = [];
  const tags: Record<string, string> = {};
  for (const [ref, id] of Object.entries(catalog.tags)) {
    if (gone.has(id)) lines.push(`Untagged: ${familiar(parseReference(ref))}`);
    else tags[ref] = id;
  }
  const images = Object.fromEntries(Object.entries(catalog.images).filter(([id]) => !gone.has(id)));
  lines.push(...ids.map((id) => `Deleted: ${id}`));
  return { catalog: { images, tags }, lines };
}

/** `husk image prune [-a]`: images without a name (all unused ones with -a), never one in use. */
export function pruneCandidates(catalog: Catalog, inUse: ReadonlySet<string>, all: boolean): string[] {
  const tagged = new Set(Object.values(catalog.tags));
  return Object.keys(catalog.images).filter((id) => !inUse.has(id) && (all || !tagged.has(id)));
}

/** The uncompressed size of a layer some image has. */
export function layerSize(catalog: Catalog, diffId: string): number | undefined {
  for (const image of Object.values(catalog.images)) {
    const i = image.layers.indexOf(diffId);
    if (i !== -1) return image.layerSizes[i];
  }
  return undefined;
}

/** The layers and blobs some image still needs. */
export function referenced(catalog: Catalog): { layers: Set<string>; blobs: Set<string> } {
  const images = Object.values(catalog.images);
  return { layers: new Set(images.flatMap((i) => i.layers)), blobs: new Set(images.flatMap((i) => i.blobs)) };
}
