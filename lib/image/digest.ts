/** sha256 digests as the OCI specs write them ("sha256:<hex>"). */
import { createHash } from "node:crypto";

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
