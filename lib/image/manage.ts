/**
 * Changing the store's names and contents: tag, remove, prune. Each runs under the containers' lock and
 * then the store's (the order container creation uses), so that no container can start using an image
 * while it is being removed; what no image needs any more is deleted on the way.
 */
import type { StatePaths } from "../state/paths.ts";
import { listRecords, withLock } from "../state/store.ts";
import {
  type Catalog,
  deleteImages,
  layerSize,
  pruneCandidates,
  referenced,
  removeImage,
  tag,
} from "./catalog.ts";
import { collectGarbage, readCatalog, withImageLock, writeCatalog } from "./store.ts";

/** The containers using each image, by image ID. */
function imageUsers(paths: StatePaths): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const { config } of listRecords(paths)) {
    if (config.image) users.set(config.image.id, [...users.get(config.image.id) ?? [], config.id]);
  }
  return users;
}

function update<T>(
  paths: StatePaths,
  fn: (catalog: Catalog, users: Map<string, string[]>) => [Catalog, T],
): T {
  return withLock(paths, () =>
    withImageLock(paths, () => {
      const [catalog, result] = fn(readCatalog(paths), imageUsers(paths));
      writeCatalog(paths, catalog);
      collectGarbage(paths);
      return result;
    }));
}

/** `husk tag SOURCE TARGET`. */
export function tagImage(paths: StatePaths, source: string, target: string): void {
  update(paths, (catalog) => [tag(catalog, source, target), undefined]);
}

/** `husk rmi NAME`: Docker's report lines ("Untagged: ...", "Deleted: ..."). */
export function removeImageNamed(paths: StatePaths, name: string, force: boolean): string[] {
  return update(paths, (catalog, users) => {
    const removal = removeImage(catalog, name, (id) => users.get(id) ?? [], force);
    return [removal.catalog, removal.lines];
  });
}

/** `husk image prune [-a]`: the report lines and the bytes reclaimed. */
export function pruneImages(paths: StatePaths, all: boolean): { lines: string[]; reclaimed: number } {
  return update(paths, (catalog, users) => {
    const ids = pruneCandidates(catalog, new Set(users.keys()), all);
    const removal = deleteImages(catalog, ids);
    // What the disk gets back: the layers no image needs any more (a layer shared with a kept image stays).
    const kept = referenced(removal.catalog).layers;
    const reclaimed = [...referenced(catalog).layers].filter((l) => !kept.has(l))
      .reduce((sum, l) => sum + (layerSize(catalog, l) ?? 0), 0);
    return [removal.catalog, { lines: removal.lines, reclaimed }];
  });
}
