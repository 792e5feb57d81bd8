/**
 * sha256 by the system's OpenSSL (libcrypto.so.3) through Deno.dlopen, hashed on the runtime's worker
 * threads: a pull's main thread decompresses, parses and writes four layers at once, and hashing their
 * compressed and uncompressed streams (60 MB for the benchmark's image) was a fifth of its time.
 */
import { systemLibrary } from "./library.ts";

const symbols = {
  SHA256_Init: { parameters: ["buffer"], result: "i32" },
  SHA256_Update: { parameters: ["pointer", "buffer", "usize"], result: "i32", nonblocking: true },
  SHA256_Final: { parameters: ["buffer", "buffer"], result: "i32" },
  SHA256: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

const libcrypto = systemLibrary("libcrypto.so.3", "libssl3", "sha256", symbols);

/** OpenSSL's SHA256_CTX: 8 + 2 + 16 + 2 words of 32 bits. */
const CTX_SIZE = 112;
/**
 * Bytes gathered before a call to a worker thread: handing a thread 16 KiB cost more than hashing it;
 * copying a chunk costs a tenth of hashing it.
 */
const BATCH = 1 << 20;

/** sha256 of `data`, on this thread (for small documents: manifests, configs). */
export function sha256Bytes(data: Uint8Array): Uint8Array {
  const md = new Uint8Array(32);
  libcrypto().SHA256(data, BigInt(data.length), md);
  return md;
}

/** A sha256 computed on worker threads, in the order of the updates; `update` copies its chunk, `take` does not. */
export class Sha256 {
  #ctx = new Uint8Array(new ArrayBuffer(CTX_SIZE));
  #pointer = Deno.UnsafePointer.of(this.#ctx);
  #batch = new Uint8Array(BATCH);
  #filled = 0;
  /** Batches already hashed, to fill again: a fresh megabyte costs page faults and zeroing. */
  #spare: Uint8Array<ArrayBuffer>[] = [];
  /** The batches handed over, one call at a time: a SHA256_CTX takes one update at a time. */
  #last: Promise<unknown> = Promise.resolve();

  constructor() {
    libcrypto().SHA256_Init(this.#ctx);
  }

  update(chunk: Uint8Array): void {
    for (let at = 0; at < chunk.length;) {
      const n = Math.min(chunk.length - at, BATCH - this.#filled);
      this.#batch.set(chunk.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (this.#filled === BATCH) this.#handOver();
    }
  }

  /**
   * Hashes `chunk` where it lies, after everything before it: no copy, for large chunks that do not change
   * until the promise resolves.
   */
  take(chunk: Uint8Array): Promise<void> {
    if (this.#filled > 0) this.#handOver();
    const ctx = this.#pointer;
    const done = this.#last.then(() => libcrypto().SHA256_Update(ctx, chunk, BigInt(chunk.length)));
    this.#last = done;
    return done.then(() => {});
  }

  #handOver(): void {
    const batch = this.#batch, size = BigInt(this.#filled), ctx = this.#pointer;
    this.#last = this.#last.then(async () => {
      await libcrypto().SHA256_Update(ctx, batch, size);
      this.#spare.push(batch);
    });
    this.#batch = this.#spare.pop() ?? new Uint8Array(BATCH);
    this.#filled = 0;
  }

  /** The digest of everything given to `update` and `take` (once: the hash is finished then). */
  async digest(): Promise<Uint8Array> {
    this.#handOver();
    await this.#last;
    const md = new Uint8Array(32);
    libcrypto().SHA256_Final(md, this.#ctx);
    return md;
  }
}
