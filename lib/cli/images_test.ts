import { deepEqual } from "node:assert/strict";
import { addImage, emptyCatalog, type ImageRecord } from "../image/catalog.ts";
import { imageRows } from "./images.ts";

const image = (n: string, created: string): ImageRecord => ({
  id: `sha256:${n.repeat(64)}`,
  manifest: `sha256:${"f".repeat(64)}`,
  repoDigests: [],
  blobs: [],
  layers: [],
  layerSizes: [],
  size: 5_000_000,
  created,
});

Deno.test("imageRows: one row per name, unnamed images as <none>, newest first", () => {
  let catalog = addImage(emptyCatalog(), image("a", "2026-01-01T00:00:00Z"), [
    "docker.io/library/alpine:3",
    "127.0.0.1:5000/team/app:v1",
  ]);
  catalog = addImage(catalog, image("b", "2026-01-02T00:00:00Z"), []);
  const now = new Date("2026-01-02T02:00:00Z");
  deepEqual(imageRows(catalog, now, false), [
    ["<none>", "<none>", "bbbbbbbbbbbb", "2 hours ago", "5MB"],
    ["127.0.0.1:5000/team/app", "v1", "aaaaaaaaaaaa", "26 hours ago", "5MB"],
    ["alpine", "3", "aaaaaaaaaaaa", "26 hours ago", "5MB"],
  ]);
  deepEqual(imageRows(catalog, now, true), [["bbbbbbbbbbbb"], ["aaaaaaaaaaaa"]]);
});
