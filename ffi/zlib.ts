/**
 * gzip decompression by the system's zlib (libz.so.1, Debian's zlib1g) through Deno.dlopen: each chunk is
 * inflated on one of the runtime's worker threads, so a pull's main thread only parses and dispatches while
 * its layers inflate in parallel (node:zlib inflates on the calling thread).
 */
import { systemLibrary } from "./library.ts";
import { type Decoder, OutputSpace } from "./decoder.ts";
import { address } from "./native.ts";

const symbols = {
  zlibVersion: { parameters: [], result: "pointer" },
  inflateInit2_: { parameters: ["pointer", "i32", "pointer", "i32"], result: "i32" },
  inflate: { parameters: ["pointer", "i32"], result: "i32", nonblocking: true },
  inflateReset: { parameters: ["pointer"], result: "i32" },
  inflateEnd: { parameters: ["pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

const libz = systemLibrary("libz.so.1", "zlib1g", "gzip", symbols);

/** struct z_stream on LP64: its size and the offsets of the fields read or set here. */
const Z_STREAM = { size: 112, nextIn: 0, availIn: 8, nextOut: 24, availOut: 32, msg: 48 };
const Z_OK = 0, Z_STREAM_END = 1, Z_BUF_ERROR = -5, Z_NO_FLUSH = 0;
/** 15 bits of window, +16: a gzip wrapper (header and CRC checked). */
const GZIP_WINDOW_BITS = 15 + 16;

/** A gzip stream's decompressor; several members one after another read as one stream (as gzip does). */
export class GzipDecoder implements Decoder {
  #stream = new Uint8Array(new ArrayBuffer(Z_STREAM.size));
  #fields = new DataView(this.#stream.buffer);
  #pointer = Deno.UnsafePointer.of(this.#stream);
  #out = new OutputSpace();
  /** Whether the last member ended (and no byte of another one came since). */
  #ended = false;
  #open = true;

  constructor() {
    const z = libz();
    const r = z.inflateInit2_(this.#pointer, GZIP_WINDOW_BITS, z.zlibVersion(), Z_STREAM.size);
    if (r !== Z_OK) throw new Error(`gzip: cannot set up zlib (error ${r})`);
  }

  async decode(input: Uint8Array): Promise<Uint8Array[]> {
    const pieces: Uint8Array[] = [];
    const f = this.#fields;
    f.setBigUint64(Z_STREAM.nextIn, address(input), true);
    f.setUint32(Z_STREAM.availIn, input.length, true);
    while (true) {
      if (this.#ended && f.getUint32(Z_STREAM.availIn, true) > 0) {
        // Another member follows.
        libz().inflateReset(this.#pointer);
        this.#ended = false;
      }
      const space = this.#out.free();
      f.setBigUint64(Z_STREAM.nextOut, address(space), true);
      f.setUint32(Z_STREAM.availOut, space.length, true);
      const r = await libz().inflate(this.#pointer, Z_NO_FLUSH);
      const left = f.getUint32(Z_STREAM.availOut, true);
      if (left < space.length) pieces.push(this.#out.take(space.length - left));
      const unread = f.getUint32(Z_STREAM.availIn, true);
      if (r === Z_STREAM_END) this.#ended = true;
      // Z_BUF_ERROR: no progress was possible, which is only right once the input is used up.
      else if (r !== Z_OK && !(r === Z_BUF_ERROR && unread === 0)) {
        throw new Error(`gzip: ${this.#message(r)}`);
      }
      // Done with this chunk once all of it is read and zlib had room to spare (nothing held back).
      if (unread === 0 && (left > 0 || this.#ended)) return pieces;
    }
  }

  finish(): void {
    if (!this.#ended) throw new Error("gzip: unexpected end of the stream (truncated)");
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    libz().inflateEnd(this.#pointer);
  }

  #message(code: number): string {
    const msg = this.#fields.getBigUint64(Z_STREAM.msg, true);
    return msg === 0n
      ? `zlib error ${code}`
      : Deno.UnsafePointerView.getCString(Deno.UnsafePointer.create(msg)!);
  }
}
