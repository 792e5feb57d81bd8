/**
 * gzip decompression by Intel's ISA-L (libisal.so.2, Debian's libisal2) through Deno.dlopen: its igzip
 * inflates about twice as fast as zlib on this kind of data. Each chunk is inflated on one of the runtime's
 * worker threads, so a pull's main thread only parses and dispatches while its layers inflate in parallel.
 */
import { systemLibrary } from "./library.ts";
import { type Decoder, OutputSpace } from "./decoder.ts";
import { address } from "./native.ts";

const symbols = {
  isal_inflate_init: { parameters: ["buffer"], result: "void" },
  isal_inflate_reset: { parameters: ["buffer"], result: "void" },
  isal_read_gzip_header: { parameters: ["buffer", "buffer"], result: "i32" },
  isal_inflate: { parameters: ["buffer"], result: "i32", nonblocking: true },
} as const satisfies Deno.ForeignLibraryInterface;

const isal = systemLibrary("libisal.so.2", "libisal2", "gzip", symbols);

/**
 * struct inflate_state from igzip_lib.h on LP64 (unchanged from ISA-L 2.25 to 2.32): its size and the
 * offsets of the fields read or set here.
 */
const STATE = {
  size: 87368,
  nextOut: 0,
  availOut: 8,
  nextIn: 16,
  availIn: 32,
  blockState: 21160,
  crcFlag: 21172,
};
/**
 * struct isal_gzip_header's size. Left zeroed, the optional fields (extra, name, comment) are skipped, not
 * kept; it carries the header's flags from one call to the next.
 */
const GZIP_HEADER_SIZE = 72;
/** crc_flag: the header is read apart; check the trailer's CRC and size after the deflate data. */
const ISAL_GZIP_NO_HDR_VER = 6;
/** isal_read_gzip_header: the input ended inside the header. */
const ISAL_END_INPUT = 1;
/** block_state once a member is decoded, checked and flushed. */
const ISAL_BLOCK_FINISH = 5;

const ERRORS: Record<number, string> = {
  [-1]: "invalid deflate block",
  [-2]: "invalid deflate symbol",
  [-3]: "invalid lookback distance",
  [-4]: "not in gzip format (invalid header)",
  [-5]: "unsupported compression method",
  [-6]: "incorrect data check (CRC or size)",
};

/**
 * A gzip stream's decompressor; several members one after another read as one stream (as gzip does).
 * Each member's header is read by isal_read_gzip_header, which picks up where the last chunk stopped:
 * isal_inflate reading the header itself loses its flags when a chunk ends inside it (ISA-L issue 224).
 */
export class GzipDecoder implements Decoder {
  #state = new Uint8Array(new ArrayBuffer(STATE.size));
  #fields = new DataView(this.#state.buffer);
  #header = new Uint8Array(new ArrayBuffer(GZIP_HEADER_SIZE));
  /** Whether the current member's header is still being read. */
  #inHeader = true;
  #out = new OutputSpace();

  constructor() {
    isal().isal_inflate_init(this.#state);
  }

  async decode(input: Uint8Array): Promise<Uint8Array[]> {
    const pieces: Uint8Array[] = [];
    const f = this.#fields;
    f.setBigUint64(STATE.nextIn, address(input), true);
    f.setUint32(STATE.availIn, input.length, true);
    while (true) {
      // Another member follows.
      if (this.#ended() && f.getUint32(STATE.availIn, true) > 0) {
        isal().isal_inflate_reset(this.#state);
        this.#header.fill(0);
        this.#inHeader = true;
      }
      if (this.#inHeader) {
        const r = isal().isal_read_gzip_header(this.#state, this.#header);
        if (r === ISAL_END_INPUT) return pieces;
        if (r < 0) throw this.#error(r);
        this.#inHeader = false;
        f.setUint32(STATE.crcFlag, ISAL_GZIP_NO_HDR_VER, true);
      }
      const space = this.#out.free();
      f.setBigUint64(STATE.nextOut, address(space), true);
      f.setUint32(STATE.availOut, space.length, true);
      const r = await isal().isal_inflate(this.#state);
      if (r < 0) throw this.#error(r);
      const left = f.getUint32(STATE.availOut, true);
      if (left < space.length) pieces.push(this.#out.take(space.length - left));
      // Done with this chunk once all of it is read and igzip had room to spare (nothing held back).
      if (f.getUint32(STATE.availIn, true) === 0 && (left > 0 || this.#ended())) return pieces;
    }
  }

  finish(): void {
    if (!this.#ended()) throw new Error("gzip: unexpected end of the stream (truncated)");
  }

  /** The state lives in a JavaScript buffer: nothing native to free. */
  close(): void {}

  /** Whether the last member was decoded, checked and flushed whole. */
  #ended(): boolean {
    return !this.#inHeader && this.#fields.getInt32(STATE.blockState, true) === ISAL_BLOCK_FINISH;
  }

  #error(code: number): Error {
    return new Error(`gzip: ${ERRORS[code] ?? `igzip error ${code}`}`);
  }
}
