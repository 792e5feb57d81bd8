/**
 * What the native decompressors (igzip.ts, zstd.ts) share: one call to a worker thread per input chunk, and
 * output written into large buffers that are handed out in pieces and never written again (a piece may still
 * be queued for a file or a hash when the next call runs).
 */

/** A streaming decompressor whose work runs on the runtime's worker threads. */
export interface Decoder {
  /**
   * Decompresses the next chunk of the stream (it must not change until the promise settles); resolves to
   * the output it produced, in order. Calls must not overlap.
   */
  decode(input: Uint8Array): Promise<Uint8Array[]>;
  /** Throws if the stream stopped short of its end (a truncated download). */
  finish(): void;
  /** Frees the native state (once no call is in flight). */
  close(): void;
}

/** Output buffers of 1 MiB: pieces large enough that the hash and parser above see few of them. */
const OUTPUT_SIZE = 1 << 20;

/** The unwritten rest of the current output buffer; a fresh buffer once it is full. */
export class OutputSpace {
  #buffer = new Uint8Array(new ArrayBuffer(OUTPUT_SIZE));
  #used = 0;

  /** Where the next output goes (at least one byte). */
  free(): Uint8Array {
    if (this.#used === this.#buffer.length) {
      this.#buffer = new Uint8Array(new ArrayBuffer(OUTPUT_SIZE));
      this.#used = 0;
    }
    return this.#buffer.subarray(this.#used);
  }

  /** Marks the first `n` bytes of `free()` as written; returns them. */
  take(n: number): Uint8Array {
    const piece = this.#buffer.subarray(this.#used, this.#used + n);
    this.#used += n;
    return piece;
  }
}
