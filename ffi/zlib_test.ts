import { equal, rejects, throws } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { decodeAll, sample } from "../lib/testing/decoders.ts";
import { GzipDecoder } from "./zlib.ts";

Deno.test("gzip: a stream fed whole or in small pieces comes out as it went in", async () => {
  const data = sample(), gz = gzipSync(data);
  for (const step of [gz.length, 65536, 1000]) {
    equal(Buffer.compare(await decodeAll(new GzipDecoder(), gz, step), data), 0, `pieces of ${step}`);
  }
});

Deno.test("gzip: members one after another read as one stream (as gzip -d does)", async () => {
  const a = new TextEncoder().encode("first member\n"), b = new TextEncoder().encode("second member\n");
  const both = new Uint8Array([...gzipSync(a), ...gzipSync(b)]);
  equal(
    new TextDecoder().decode(await decodeAll(new GzipDecoder(), both, 7)),
    "first member\nsecond member\n",
  );
});

Deno.test("gzip: a truncated stream, a corrupt one and trailing garbage are errors", async () => {
  const gz = gzipSync(sample());
  const truncated = new GzipDecoder();
  await truncated.decode(gz.subarray(0, gz.length - 100));
  throws(() => truncated.finish(), /gzip: unexpected end of the stream \(truncated\)/);
  truncated.close();
  const corrupt = gz.slice();
  corrupt[corrupt.length - 6] ^= 0xff; // In the trailer's CRC.
  await rejects(decodeAll(new GzipDecoder(), corrupt, 65536), /gzip: incorrect data check/);
  const garbage = new Uint8Array([...gzipSync(new Uint8Array(10)), 1, 2, 3, 4]);
  await rejects(decodeAll(new GzipDecoder(), garbage, 65536), /gzip: incorrect header check/);
});
