/** `husk pull`: a reference resolved to this host's manifest, then its blobs unpacked into the store. */
import type { StatePaths } from "../state/paths.ts";
import { savedCredentials } from "./auth.ts";
import { hostPlatform, type Index, INDEX_TYPES } from "./oci.ts";
import { preloadTarParser } from "./layer.ts";
import { pickManifest } from "./platform.ts";
import { canonical, familiar, parseReference, repository } from "./reference.ts";
import { checkedDigest } from "./digest.ts";
import { RegistryClient } from "./registry.ts";
import { Staging } from "./staging.ts";
import { type Progress, unpackImage } from "./unpack.ts";

export interface PullOptions {
  /** Plain HTTP, for a registry on this machine. */
  insecure?: boolean;
  progress?: Progress;
}

/** Pulls `name`; returns the image ID and the manifest's digest. */
export async function pullImage(
  paths: StatePaths,
  name: string,
  options: PullOptions = {},
): Promise<{ id: string; digest: string }> {
  const ref = parseReference(name);
  const client = new RegistryClient(ref.domain, {
    insecure: options.insecure,
    credentials: savedCredentials(paths, ref.domain),
  });
  const asked = client.manifest(ref, ref.digest ?? ref.tag!);
  // The tar parser loads while the registry answers, not after. Loading it holds the event loop for 20 to
  // 25 ms, so it waits one turn of the loop, in which the request goes out.
  setTimeout(preloadTarParser, 0);
  let fetched = await asked;
  const digest = fetched.digest;
  if (INDEX_TYPES.includes(fetched.mediaType)) {
    const index: Index = JSON.parse(new TextDecoder().decode(fetched.bytes));
    const chosen = pickManifest(index, hostPlatform(), familiar(ref));
    fetched = await client.manifest(ref, checkedDigest(chosen.digest, "manifest"));
  }
  const staging = Staging.create(paths);
  try {
    const source = {
      open: (desc: { digest: string }, signal?: AbortSignal) => client.blob(ref, desc.digest, signal),
    };
    const refs = ref.tag !== undefined ? [canonical(ref)] : [];
    const id = await unpackImage(staging, fetched.bytes, source, refs, options.progress, [
      `${repository(ref)}@${digest}`,
    ]);
    return { id, digest };
  } finally {
    staging.dispose();
  }
}
