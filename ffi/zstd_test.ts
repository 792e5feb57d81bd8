import { equal, rejects, throws } from "node:assert/strict";
import { zstdCompressSync } from "node:zlib";
import { ZstdDecoder } from "./zstd.ts";
import { decodeAll, sample } from "../lib/testing/decoders.ts";

Deno.test("zstd: a stream fed whole or in small pieces comes out as it went in", async () => {
  const data = sample(), zst = zstdCompressSync(data);
  for (const step of [zst.length, 65536, 1000]) {
    equal(Buffer.compare(await decodeAll(new ZstdDecoder(), zst, step), data), 0, `pieces of ${step}`);
  }
});

Deno.test("zstd: frames one after another read as one stream", async () => {
  const a = new TextEncoder().encode("first frame\n"), b = new TextEncoder().encode("second frame\n");
  const both = new Uint8Array([...zstdCompressSync(a), ...zstdCompressSync(b)]);
  equal(new TextDecoder().decode(await decodeAll(new ZstdDecoder(), both, 5)), "first frame\nsecond frame\n");
});

Deno.test("zstd: a truncated stream and a corrupt one are errors", async () => {
  const zst = zstdCompressSync(sample());
  const truncated = new ZstdDecoder();
  await truncated.decode(zst.subarray(0, zst.length - 100));
  throws(() => truncated.finish(), /zstd: unexpected end of the stream \(truncated\)/);
  truncated.close();
  const corrupt = zst.slice();
  corrupt.fill(0x55, 0, 4); // No frame's magic number.
  await rejects(decodeAll(new ZstdDecoder(), corrupt, 65536), /zstd: Unknown frame descriptor/);
});
