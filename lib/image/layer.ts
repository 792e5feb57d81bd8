/**
 * Extracting a layer (a tar stream, plain, gzip or zstd) into its own directory, batch by batch as it
 * arrives: decompressed on worker threads, parsed by tar-stream, applied by LayerWriter. Hashes the
 * uncompressed stream on the way: the result must equal the config's diff_id.
 */
// @ts-types="@types/tar-stream"
import type tar from "tar-stream";
import type { Decoder } from "../../ffi/decoder.ts";
import { GzipDecoder } from "../../ffi/igzip.ts";
import { ZstdDecoder } from "../../ffi/zstd.ts";
import { HuskError } from "../errors.ts";
import { LayerError } from "./entry.ts";
import { eachBatch } from "./batches.ts";
import { Hasher } from "./digest.ts";
import { LayerWriter } from "./layer_writer.ts";

/** A layer's compression, from its first bytes (by content, not by media type). */
export function compressionOf(magic: Uint8Array): "gzip" | "zstd" | null {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return "gzip";
  if (magic[0] === 0x28 && magic[1] === 0xb5 && magic[2] === 0x2f && magic[3] === 0xfd) return "zstd";
  return null;
}

function decoderFor(magic: Uint8Array): Decoder | null {
  const compression = compressionOf(magic);
  return compression === "gzip" ? new GzipDecoder() : compression === "zstd" ? new ZstdDecoder() : null;
}

export interface Extracted {
  /** sha256 of the uncompressed tar: the layer's diff_id. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
}

let parser: Promise<typeof tar> | undefined;

/**
 * tar-stream, loaded on first use: loading it takes 20 to 25 ms of the main thread, which a pull spends
 * while its first request is out (see preloadTarParser).
 */
function tarParser(): Promise<typeof tar> {
  return parser ??= import("tar-stream").then((m) => m.default as typeof tar);
}

/**
 * Starts loading the tar parser, for a command that will extract layers once its requests come back; a
 * failure to load is thrown where the parser is used.
 */
export function preloadTarParser(): void {
  tarParser().catch(() => {});
}

/** Resolves once the parser wants more input, or is gone (destroyed by a failure). */
function drained(extract: tar.Extract): Promise<void> {
  return new Promise((resolve) => {
    if (extract.destroyed) return resolve();
    const done = () => {
      extract.off("drain", done);
      extract.off("close", done);
      resolve();
    };
    extract.on("drain", done);
    extract.on("close", done);
  });
}

const asLayerError = (e: unknown) =>
  e instanceof HuskError || !(e instanceof Error)
    ? e
    : new LayerError(`cannot extract layer: ${e.message}`, undefined, { cause: e });

/**
 * Extracts a layer's blob, batch by batch as it arrives (plain, gzip or zstd, told apart by its first
 * bytes), into an empty directory. Each batch is decompressed on a worker thread while the previous one is
 * parsed; the uncompressed stream is hashed where it lies.
 */
export class LayerExtractor {
  #hasher = new Hasher();
  #extract: tar.Extract;
  #writer: LayerWriter;
  #decoder: Decoder | null | undefined;
  /** The batches' decompression, one after another. */
  #decoding: Promise<void> = Promise.resolve();
  /** Their output handed to the parser, in order. */
  #feeding: Promise<void> = Promise.resolve();
  /** The parser's entries applied to the directory. */
  #applying: Promise<void>;

  private constructor(dir: string, parser: typeof tar) {
    this.#extract = parser.extract();
    this.#writer = new LayerWriter(dir);
    this.#applying = this.#apply();
    this.#applying.catch(() => {}); // Thrown by finish.
  }

  /** An extractor into the empty directory `dir` (once the tar parser is loaded). */
  static async create(dir: string): Promise<LayerExtractor> {
    return new LayerExtractor(dir, await tarParser());
  }

  /**
   * Takes the next batch; resolves once the batch is no longer needed (decompressed) and the one before it
   * is parsed, which keeps at most two batches' output waiting for the parser.
   */
  push(batch: Uint8Array): Promise<void> {
    const decoded = this.#decoding.then(() => this.#decode(batch));
    const fedBefore = this.#feeding;
    this.#decoding = decoded.then(() => {});
    this.#feeding = Promise.all([fedBefore, decoded]).then(([, pieces]) => this.#feed(pieces));
    this.#decoding.catch(() => {});
    this.#feeding.catch(() => {});
    return Promise.all([decoded, fedBefore]).then(() => {});
  }

  /** After the last batch: checks the stream's end and finishes the directory; returns the diff_id. */
  async finish(): Promise<Extracted> {
    try {
      await this.#decoding;
      this.#decoder?.finish();
      await this.#feeding;
      this.#extract.end();
      await this.#applying;
      this.#decoder?.close();
      return { diffId: await this.#hasher.digest(), size: this.#hasher.size };
    } catch (e) {
      await this.abort();
      throw asLayerError(e);
    }
  }

  /** Stops after a failure (here or in the source): waits for the work in flight, frees the decoder. */
  async abort(): Promise<void> {
    // With an error: tar-stream's iterator waits forever for an entry asked for after a plain destroy.
    this.#extract.destroy(new Error("extraction stopped"));
    await Promise.all([this.#decoding, this.#feeding, this.#applying].map((p) => p.catch(() => {})));
    this.#decoder?.close();
  }

  #decode(batch: Uint8Array): Promise<Uint8Array[]> | Uint8Array[] {
    this.#decoder ??= decoderFor(batch);
    // A plain layer's batch is copied: the parser and the file writes keep pieces of it.
    return this.#decoder === null ? [batch.slice()] : this.#decoder.decode(batch);
  }

  /** Hands decompressed pieces (never written again) to the hash and the parser. */
  async #feed(pieces: Uint8Array[]): Promise<void> {
    for (const piece of pieces) {
      // Every byte is hashed, the padding after the tar's end-of-archive blocks included.
      void this.#hasher.take(piece);
      if (!this.#extract.write(piece)) await drained(this.#extract);
      // The parser was destroyed: its failure is the one to report.
      if (this.#extract.destroyed) {
        await this.#applying.then(() => Promise.reject(new Error("extraction stopped")));
      }
    }
  }

  async #apply(): Promise<void> {
    try {
      for await (const entry of this.#extract) {
        await this.#writer.apply(entry.header, entry as AsyncIterable<Uint8Array>);
      }
      await this.#writer.finish();
    } catch (e) {
      await this.#writer.settle().catch(() => {});
      throw e;
    }
  }
}

/** Extracts a layer's blob, as it arrives, into the empty directory `dir`; `signal` stops it. */
export async function extractLayer(
  source: ReadableStream<Uint8Array>,
  dir: string,
  signal?: AbortSignal,
): Promise<Extracted> {
  const extractor = await LayerExtractor.create(dir);
  try {
    await eachBatch(source, (batch) => extractor.push(batch), signal);
  } catch (e) {
    await extractor.abort();
    throw asLayerError(e);
  }
  return await extractor.finish();
}
