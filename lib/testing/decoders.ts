/** Driving the native decompressors (ffi/zlib.ts, ffi/zstd.ts) in their unit tests. */
import type { Decoder } from "../../ffi/decoder.ts";

/** Decodes `data` fed in pieces of `step` bytes; returns the output joined. */
export async function decodeAll(decoder: Decoder, data: Uint8Array, step: number): Promise<Uint8Array> {
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

/** 3 MiB: random halves and repeated text, so the output spans several of the decoder's buffers. */
export function sample(): Uint8Array {
  const data = new Uint8Array(3 * 1024 * 1024 + 123);
  for (let at = 0; at < data.length; at += 131072) {
    crypto.getRandomValues(data.subarray(at, Math.min(at + 65536, data.length)));
    data.subarray(at + 65536, at + 131072).fill(0x61);
  }
  return data;
}
