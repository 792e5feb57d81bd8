/**
 * zstd decompression by the system's libzstd (libzstd.so.1, Debian's libzstd1) through Deno.dlopen, each
 * chunk on one of the runtime's worker threads (as igzip.ts does for gzip).
 */
import { systemLibrary } from "./library.ts";
import { type Decoder, OutputSpace } from "./decoder.ts";
import { address } from "./native.ts";

const symbols = {
  ZSTD_createDStream: { parameters: [], result: "pointer" },
  ZSTD_freeDStream: { parameters: ["pointer"], result: "usize" },
  ZSTD_decompressStream: {
    parameters: ["pointer", "pointer", "pointer"],
    result: "usize",
    nonblocking: true,
  },
  ZSTD_isError: { parameters: ["usize"], result: "u32" },
  ZSTD_getErrorName: { parameters: ["usize"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

const libzstd = systemLibrary("libzstd.so.1", "libzstd1", "zstd", symbols);

/** A zstd stream's decompressor (frames one after another read as one stream). */
export class ZstdDecoder implements Decoder {
  #stream: Deno.PointerValue;
  /** ZSTD_inBuffer and ZSTD_outBuffer: an address, a size and a position each. */
  #in = new BigUint64Array(new ArrayBuffer(24));
  #outBuffer = new BigUint64Array(new ArrayBuffer(24));
  #out = new OutputSpace();
  /** Whether the last frame was decoded and flushed whole. */
  #ended = false;

  constructor() {
    this.#stream = libzstd().ZSTD_createDStream();
    if (this.#stream === null) throw new Error("zstd: cannot set up a decompression stream");
  }

  async decode(input: Uint8Array): Promise<Uint8Array[]> {
    const z = libzstd(), pieces: Uint8Array[] = [];
    this.#in.set([address(input), BigInt(input.length), 0n]);
    while (true) {
      const space = this.#out.free();
      this.#outBuffer.set([address(space), BigInt(space.length), 0n]);
      const r = await z.ZSTD_decompressStream(
        this.#stream,
        Deno.UnsafePointer.of(this.#outBuffer),
        Deno.UnsafePointer.of(this.#in),
      );
      if (z.ZSTD_isError(r)) {
        throw new Error(`zstd: ${Deno.UnsafePointerView.getCString(z.ZSTD_getErrorName(r)!)}`);
      }
      const written = Number(this.#outBuffer[2]);
      if (written > 0) pieces.push(this.#out.take(written));
      this.#ended = BigInt(r) === 0n;
      // Done once all of the chunk is read and the output had room to spare (nothing held back).
      if (this.#in[2] === this.#in[1] && written < space.length) return pieces;
    }
  }

  finish(): void {
    if (!this.#ended) throw new Error("zstd: unexpected end of the stream (truncated)");
  }

  close(): void {
    if (this.#stream === null) return;
    libzstd().ZSTD_freeDStream(this.#stream);
    this.#stream = null;
  }
}
