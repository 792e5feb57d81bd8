import { equal, throws } from "node:assert/strict";
import { pickManifest } from "./platform.ts";
import type { Index } from "./oci.ts";

const d = (architecture: string, variant?: string) => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${architecture}${variant ?? ""}`,
  size: 1,
  platform: { os: "linux", architecture, variant },
});
const index: Index = { schemaVersion: 2, manifests: [d("arm", "v7"), d("amd64"), d("arm64", "v8")] };

Deno.test("platform: this host's manifest is chosen from an index", () => {
  equal(pickManifest(index, { os: "linux", architecture: "amd64" }, "x").digest, "sha256:amd64");
  equal(pickManifest(index, { os: "linux", architecture: "arm64" }, "x").digest, "sha256:arm64v8");
  throws(
    () =>
      pickManifest(
        { schemaVersion: 2, manifests: [d("arm64")] },
        { os: "linux", architecture: "amd64" },
        "x:1",
      ),
    /no matching manifest for linux\/amd64 in the manifest list entries of x:1 \(it has linux\/arm64\)/,
  );
});
