/** sha256 digests as the OCI specs write them ("sha256:<hex>"). */
import { createHash } from "node:crypto";
import { HuskError } from "../errors.ts";

/** sha256 of a byte stream, counted as it passes. */
export class Hasher {
  #hash = createHash("sha256");
  size = 0;
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
  }
  digest(): string {
    return `sha256:${this.#hash.digest("hex")}`;
  }
}

export const sha256 = (data: Uint8Array | string) => {
  const h = new Hasher();
  h.update(typeof data === "string" ? new TextEncoder().encode(data) : data);
  return h.digest();
};

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * `digest` if it is a sha256 digest; an error otherwise. Digests from manifests and configs become file
 * names in the store: anything else ("sha256:../..") could name a path outside it.
 */
export function checkedDigest(digest: unknown, what: string): string {
  if (typeof digest !== "string" || !DIGEST.test(digest)) {
    throw new HuskError(`invalid ${what} digest ${JSON.stringify(digest)}: husk takes sha256 digests only`);
  }
  return digest;
}
