/** Choosing this host's manifest from an image index (or a Docker manifest list). Pure. */
import { HuskError } from "../errors.ts";
import type { Descriptor, Index, Platform } from "./oci.ts";

/** The manifest for `platform`; an error listing what the index offers when none fits. */
export function pickManifest(index: Index, platform: Platform, name: string): Descriptor {
  const fits = index.manifests.filter((m) =>
    m.platform?.os === platform.os && m.platform.architecture === platform.architecture
  );
  // An exact variant first, then one without a variant (arm64 images often omit "v8").
  const chosen = fits.find((m) => m.platform?.variant === platform.variant) ?? fits[0];
  if (chosen) return chosen;
  const offered = index.manifests.filter((m) => m.platform).map((m) => describe(m.platform!)).join(", ");
  throw new HuskError(
    `no matching manifest for ${describe(platform)} in the manifest list entries of ${name}` +
      (offered ? ` (it has ${offered})` : ""),
  );
}

const describe = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join("/");
