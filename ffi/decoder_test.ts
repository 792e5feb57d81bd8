import { equal, rejects, throws } from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import type { Decoder } from "./decoder.ts";
import { GzipDecoder } from "./igzip.ts";
import { ZstdDecoder } from "./zstd.ts";

/** Decodes `data` fed in pieces of `step` bytes; returns the output joined. */
async function decodeAll(decoder: Decoder, data: Uint8Array, step: number): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  try {
    for (let at = 0; at < data.length; at += step) {
      out.push(...await decoder.decode(data.subarray(at, at + step)));
    }
    decoder.finish();
  } finally {
    decoder.close();
  }
  const joined = new Uint8Array(out.reduce((n, p) => n + p.length, 0));
  out.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
  return joined;
}

/** 3 MiB: random halves and repeated bytes, so the output spans several of the decoder's buffers. */
function sample(): Uint8Array {
  const data = new Uint8Array(3 * 1024 * 1024 + 123);
  for (let at = 0; at < data.length; at += 131072) {
    crypto.getRandomValues(data.subarray(at, Math.min(at + 65536, data.length)));
    data.subarray(at + 65536, at + 131072).fill(0x61);
  }
  return data;
}

const text = (s: string) => new TextEncoder().encode(s);

const formats = [
  {
    name: "gzip",
    compress: (data: Uint8Array) => new Uint8Array(gzipSync(data)),
    decoder: (): Decoder => new GzipDecoder(),
    // A flipped byte in the trailer's CRC.
    corrupt: (
      data: Uint8Array,
    ) => (data[data.length - 6] ^= 0xff, /gzip: incorrect data check \(CRC or size\)/),
  },
  {
    name: "zstd",
    compress: (data: Uint8Array) => new Uint8Array(zstdCompressSync(data)),
    decoder: (): Decoder => new ZstdDecoder(),
    // No frame's magic number.
    corrupt: (data: Uint8Array) => (data.fill(0x55, 0, 4), /zstd: Unknown frame descriptor/),
  },
];

for (const { name, compress, decoder, corrupt } of formats) {
  Deno.test(`${name}: a stream fed whole or in small pieces comes out as it went in`, async () => {
    const data = sample(), packed = compress(data);
    for (const step of [packed.length, 65536, 1000]) {
      equal(Buffer.compare(await decodeAll(decoder(), packed, step), data), 0, `pieces of ${step}`);
    }
  });

  Deno.test(`${name}: streams one after another read as one (as ${name} -d does)`, async () => {
    const both = new Uint8Array([...compress(text("first\n")), ...compress(text("second\n"))]);
    equal(new TextDecoder().decode(await decodeAll(decoder(), both, 5)), "first\nsecond\n");
  });

  Deno.test(`${name}: a truncated stream and a corrupt one are errors`, async () => {
    const packed = compress(sample());
    const truncated = decoder();
    await truncated.decode(packed.subarray(0, packed.length - 100));
    throws(() => truncated.finish(), new RegExp(`${name}: unexpected end of the stream \\(truncated\\)`));
    truncated.close();
    const damaged = packed.slice();
    const error = corrupt(damaged);
    await rejects(decodeAll(decoder(), damaged, 65536), error);
  });
}

Deno.test("gzip: bytes after the last member that are not another member are an error", async () => {
  const garbage = new Uint8Array([...gzipSync(new Uint8Array(10)), ...text("not another gzip member")]);
  await rejects(decodeAll(new GzipDecoder(), garbage, 65536), /gzip: not in gzip format \(invalid header\)/);
});

Deno.test("gzip: a header with an extra field and a file name, fed a byte at a time, is read whole", async () => {
  const plain = gzipSync(text("named\n"));
  const extra = [4, 0, 0x41, 0x42, 0, 0]; // XLEN 4: one subfield "AB" of length 0.
  const header = [...plain.subarray(0, 10), ...extra, ...text("layer.tar\0")];
  header[3] = 0x04 | 0x08; // FEXTRA, FNAME (as gzip FILE writes)
  const member = new Uint8Array([...header, ...plain.subarray(10)]);
  const both = new Uint8Array([...member, ...member]);
  // Reading the header inside isal_inflate failed about one time in ten this way: repeated to show it.
  for (let run = 0; run < 50; run++) {
    equal(new TextDecoder().decode(await decodeAll(new GzipDecoder(), both, 1)), "named\nnamed\n");
  }
});
