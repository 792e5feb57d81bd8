/** sha256 digests as the OCI specs write them ("sha256:<hex>"). */
import { Sha256, sha256Bytes } from "../../ffi/sha256.ts";
import { HuskError } from "../errors.ts";

const hex = (md: Uint8Array) => `sha256:${Array.from(md, (b) => b.toString(16).padStart(2, "0")).join("")}`;

/** sha256 of a byte stream, counted as it passes (hashed on worker threads). */
export class Hasher {
  #hash = new Sha256();
  size = 0;
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
  }
  /** Hashes a large chunk in place (see Sha256.take): it must not change until the promise resolves. */
  take(chunk: Uint8Array): Promise<void> {
    this.size += chunk.length;
    return this.#hash.take(chunk);
  }
  async digest(): Promise<string> {
    return hex(await this.#hash.digest());
  }
}

export const sha256 = (data: Uint8Array | string) =>
  hex(sha256Bytes(typeof data === "string" ? new TextEncoder().encode(data) : data));

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
