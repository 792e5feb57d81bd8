import { deepEqual, equal, throws } from "node:assert/strict";
import {
  addImage,
  emptyCatalog,
  findImage,
  type ImageRecord,
  pruneCandidates,
  removeImage,
  tag,
} from "./catalog.ts";

const image = (n: string): ImageRecord => ({
  id: `sha256:${n.repeat(64)}`,
  manifest: `sha256:${"f".repeat(63)}${n}`,
  repoDigests: [`docker.io/library/alpine@sha256:${"e".repeat(63)}${n}`],
  blobs: [],
  layers: [],
  layerSizes: [],
  size: 10,
  created: "2026-01-01T00:00:00Z",
});
const a = image("a"), b = image("b");
const catalog = addImage(addImage(emptyCatalog(), a, ["docker.io/library/alpine:latest"]), b, []);

Deno.test("catalog: images by name, ID, prefix and digest", () => {
  equal(findImage(catalog, "alpine")?.id, a.id);
  equal(findImage(catalog, "docker.io/library/alpine:latest")?.id, a.id);
  equal(findImage(catalog, "aaaa")?.id, a.id);
  equal(findImage(catalog, `sha256:${"b".repeat(64)}`)?.id, b.id);
  equal(findImage(catalog, `alpine@${a.manifest}`)?.id, a.id);
  equal(
    findImage(catalog, `alpine@sha256:${"e".repeat(63)}a`)?.id,
    a.id,
    "by the index digest it was pulled by",
  );
  equal(findImage(catalog, `other@sha256:${"e".repeat(63)}a`), null);
  equal(findImage(catalog, "alpine:3"), null);
});

Deno.test("catalog: tag, untag, delete", () => {
  const two = tag(catalog, "alpine", "mine:1");
  deepEqual(removeImage(two, "mine:1", () => [], false).lines, ["Untagged: mine:1"]);
  throws(() => removeImage(two, "aaaa", () => [], false), /referenced in multiple repositories/);
  deepEqual(removeImage(catalog, "alpine", () => [], false).lines, [
    "Untagged: alpine:latest",
    `Deleted: ${a.id}`,
  ]);
  throws(() => removeImage(catalog, "nope", () => [], false), /No such image: nope:latest/);
});

Deno.test("catalog: an image in use is refused, in Docker's words", () => {
  throws(
    () => removeImage(catalog, "alpine", () => ["c".repeat(64)], false),
    /conflict: unable to remove repository reference "alpine" \(must force\) - container cccccccccccc is using its referenced image aaaaaaaaaaaa/,
  );
  deepEqual(pruneCandidates(catalog, new Set(), false), [b.id]);
  deepEqual(pruneCandidates(catalog, new Set([b.id]), true), [a.id]);
});
