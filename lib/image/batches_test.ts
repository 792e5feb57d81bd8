import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BATCH_SIZE, eachBatch } from "./batches.ts";

const data = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 12)) & 0xff);

/** A plain stream of `bytes` in chunks of the given sizes, in turn. */
function chunked(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0, turn = 0;
  return new ReadableStream({
    pull(controller) {
      if (at === bytes.length) return controller.close();
      const n = sizes[turn++ % sizes.length];
      controller.enqueue(bytes.slice(at, at + n));
      at = Math.min(at + n, bytes.length);
    },
  });
}

/** Runs eachBatch, keeping a copy of each batch (a batch's buffer is used again once handled). */
async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const seen: Uint8Array[] = [];
  await eachBatch(stream, async (batch) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    seen.push(batch.slice());
  });
  return seen;
}

const joined = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

Deno.test("eachBatch: a plain stream's odd chunks arrive whole, in order, in full batches but the last", async () => {
  const bytes = data(3 * BATCH_SIZE + 4321);
  const batches = await collect(chunked(bytes, [65536, 1, 300_001, 12345]));
  deepEqual(batches.map((b) => b.length), [BATCH_SIZE, BATCH_SIZE, BATCH_SIZE, 4321]);
  deepEqual(joined(batches), bytes);
});

Deno.test("eachBatch: a file's byte stream is read straight into the batches", async () => {
  const bytes = data(2 * BATCH_SIZE + 99), path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, bytes);
    const batches = await collect((await Deno.open(path)).readable);
    deepEqual(batches.map((b) => b.length), [BATCH_SIZE, BATCH_SIZE, 99]);
    deepEqual(joined(batches), bytes);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("eachBatch: an empty stream hands over nothing", async () => {
  deepEqual(await collect(chunked(new Uint8Array(), [1])), []);
});

Deno.test("eachBatch: a failing handler stops the stream (cancelled) and its error is thrown", async () => {
  let cancelled = false, handled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(new Uint8Array(65536)),
    cancel: () => void (cancelled = true),
  });
  await rejects(
    eachBatch(endless, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (++handled === 2) throw new Error("disk full");
    }),
    /disk full/,
  );
  ok(cancelled, "the source was cancelled");
  ok(handled <= 4, `no batch is handed over once one failed (${handled})`);
});

Deno.test("eachBatch: a source that fails is the error thrown", async () => {
  let sent = false;
  const broken = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new Error("connection reset"));
      sent = true;
      controller.enqueue(new Uint8Array(10));
    },
  });
  await rejects(eachBatch(broken, async () => {}), /connection reset/);
  equal(sent, true);
});

Deno.test("eachBatch: an aborted signal stops the stream (cancelled) with the abort's reason", async () => {
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(new Uint8Array(65536)),
    cancel: () => void (cancelled = true),
  });
  const stop = new AbortController();
  let handled = 0;
  await rejects(
    eachBatch(endless, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (++handled === 2) stop.abort(new Error("another layer failed"));
    }, stop.signal),
    /another layer failed/,
  );
  ok(cancelled, "the source was cancelled");
});
