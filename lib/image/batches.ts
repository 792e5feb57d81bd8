/**
 * Blobs and layers are read in batches of 1 MiB, filled straight from the source where it allows (a
 * download's or a file's byte stream, read into the batch itself) and used again once handled. Each batch
 * is hashed, written and decompressed by one call to a worker thread each: per 64 KiB chunk, those calls
 * and the stream's reads cost the main thread more than the work they hand over.
 */

export const BATCH_SIZE = 1 << 20;

/** Batches handled at once: while one is decompressed, the next ones are read, hashed and written. */
const DEPTH = 3;

/** A stream read in batches of `size` bytes (the last one shorter), into buffers used again. */
class BatchReader {
  #free: ArrayBuffer[] = [];
  #byob: ReadableStreamBYOBReader | null = null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** The rest of a chunk that did not fit the previous batch (default readers only). */
  #rest: Uint8Array | null = null;
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>, readonly size: number) {
    try {
      this.#byob = stream.getReader({ mode: "byob" });
    } catch {
      this.#reader = stream.getReader(); // Not a byte stream: its chunks are copied into the batch.
    }
  }

  /** The next batch, or null at the end of the stream. */
  async next(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    let buffer = this.#free.pop() ?? new ArrayBuffer(this.size);
    let filled = 0;
    while (filled < this.size) {
      if (this.#byob) {
        const { value, done } = await this.#byob.read(new Uint8Array(buffer, filled));
        if (value === undefined) return this.#cancelled(); // The bytes went with the moved buffer.
        buffer = value.buffer as ArrayBuffer; // The read moved the buffer into a new object.
        if (done) break;
        filled += value.length;
      } else {
        const chunk = this.#rest ?? (await this.#reader!.read()).value;
        if (chunk === undefined) break;
        const n = Math.min(chunk.length, this.size - filled);
        new Uint8Array(buffer, filled, n).set(chunk.subarray(0, n));
        filled += n;
        this.#rest = n < chunk.length ? chunk.subarray(n) : null;
      }
    }
    if (filled < this.size) this.#done = true;
    if (filled > 0) return new Uint8Array(buffer, 0, filled);
    this.#free.push(buffer);
    return null;
  }

  /** The stream was cancelled under a read: nothing more comes. */
  #cancelled(): null {
    this.#done = true;
    return null;
  }

  /** Takes back a batch's buffer (nothing may read the batch any more). */
  release(batch: Uint8Array): void {
    this.#free.push(batch.buffer as ArrayBuffer);
  }

  /** Stops the stream early (closes a file, ends a download). */
  async cancel(): Promise<void> {
    await (this.#byob ?? this.#reader)!.cancel().catch(() => {});
  }
}

/**
 * Reads `stream` to its end, handing each batch to `handle` in order; a batch may be used again once its
 * promise resolves, so `handle` must be done with it by then. A failure, or `signal`'s abort (its reason is
 * thrown), stops the stream and is thrown.
 */
export async function eachBatch(
  stream: ReadableStream<Uint8Array>,
  handle: (batch: Uint8Array) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const reader = new BatchReader(stream, BATCH_SIZE);
  const inFlight: Promise<void>[] = [];
  let failure: { error: unknown } | null = null;
  try {
    for (let batch = await reader.next(); batch !== null && !failure; batch = await reader.next()) {
      signal?.throwIfAborted();
      const held = batch;
      inFlight.push(
        handle(held).then(() => reader.release(held), (error) => void (failure ??= { error })),
      );
      if (inFlight.length >= DEPTH) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } catch (e) {
    failure ??= { error: e };
  }
  if (failure) {
    await Promise.all(inFlight);
    await reader.cancel();
    throw failure.error;
  }
}
