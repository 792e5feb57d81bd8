/**
 * An operation that adds an image (pull, load, import) writes everything into its own staging directory,
 * then commits under the store's lock: renames move blobs and layers into place and the catalog is
 * rewritten atomically. An interrupted operation leaves only its staging directory, which is removed by
 * the operation itself or, once its process is gone (SIGKILL), by the next operation or garbage collection.
 */
import { NewFileWriter } from "../../ffi/file.ts";
import { markTopDirectory } from "../../ffi/topdir.ts";
import { HuskError } from "../errors.ts";
import { exists, removeIfExists } from "../files.ts";
import type { StatePaths } from "../state/paths.ts";
import { eachBatch } from "./batches.ts";
import { addImage, type ImageRecord, layerSize } from "./catalog.ts";
import { Hasher, sha256 } from "./digest.ts";
import {
  blobPath,
  blobsDir,
  layerDir,
  layersDir,
  readCatalog,
  removeStaleStaging,
  tmpDir,
  withImageLock,
  writeCatalog,
} from "./store.ts";

/** A blob whose content does not match its digest: named, so the user knows which download was bad. */
export class DigestMismatchError extends HuskError {}

const live = new Set<Staging>();

/**
 * A blob being received into the staging area: each batch is hashed and appended on worker threads (in
 * order); at the end its digest is checked, and only then does the blob count as staged.
 */
export class BlobWriter {
  #hasher = new Hasher();
  #file: NewFileWriter | null;
  /** The appends, one after another. */
  #written: Promise<void> = Promise.resolve();

  constructor(
    readonly staging: Staging,
    readonly path: string,
    readonly expected: string | undefined,
    readonly what: string,
  ) {
    this.#file = NewFileWriter.createHere(path, 0o644);
  }

  /** Hashes and appends `batch`; resolves once neither needs it any more. */
  write(batch: Uint8Array): Promise<void> {
    const file = this.#file!;
    const hashed = this.#hasher.take(batch);
    this.#written = this.#written.then(() => file.write([batch]));
    return Promise.all([hashed, this.#written]).then(() => {});
  }

  /**
   * Waits for the last append and checks the digest: the blob is then staged. A mismatch is a
   * DigestMismatchError naming the blob, and nothing is kept.
   */
  async finish(): Promise<{ digest: string; size: number }> {
    let digest: string;
    try {
      await this.#written;
      digest = await this.#hasher.digest();
    } catch (e) {
      this.abort();
      throw e;
    }
    if (this.expected !== undefined && digest !== this.expected) {
      this.abort();
      throw new DigestMismatchError(
        `${this.what} ${this.expected} failed verification: its content has digest ${digest}`,
      );
    }
    this.#file!.close();
    this.#file = null;
    this.staging.blobs.set(digest, this.path);
    return { digest, size: this.#hasher.size };
  }

  /** Drops the blob (after a failure: no append may be in flight). */
  abort(): void {
    if (this.#file === null) return;
    this.#file.close();
    this.#file = null;
    // The staging directory may be gone already (an interrupted command removes it first).
    removeIfExists(this.path);
  }
}

/** An operation's private staging directory; `dispose()` removes whatever was not committed. */
export class Staging {
  readonly blobs = new Map<string, string>();
  readonly layers = new Map<string, string>();
  /** Uncompressed sizes of the staged layers. */
  readonly layerSizes = new Map<string, number>();

  private constructor(readonly paths: StatePaths, readonly dir: string) {}

  static create(paths: StatePaths): Staging {
    Deno.mkdirSync(tmpDir(paths), { recursive: true, mode: 0o700 });
    // Each operation's staging directory, and so its layers' files, in a block group of its own.
    markTopDirectory(tmpDir(paths));
    removeStaleStaging(paths);
    const dir = `${tmpDir(paths)}/${Deno.pid}-${crypto.randomUUID()}`;
    Deno.mkdirSync(dir, { mode: 0o700 });
    const staging = new Staging(paths, dir);
    live.add(staging);
    return staging;
  }

  /** Removes every staging directory of this process (an interrupted command's last act). */
  static disposeAll(): void {
    for (const staging of live) staging.dispose();
  }

  /** Whether the store (or this staging area) already holds a blob. */
  hasBlob(digest: string): boolean {
    return this.blobs.has(digest) || exists(blobPath(this.paths, digest));
  }

  /** Whether the store (or this staging area) already holds an extracted layer. */
  hasLayer(diffId: string): boolean {
    return this.layers.has(diffId) || exists(layerDir(this.paths, diffId));
  }

  /** A layer's uncompressed size, staged or stored. */
  layerSize(diffId: string): number {
    return this.layerSizes.get(diffId) ?? layerSize(readCatalog(this.paths), diffId) ?? 0;
  }

  /** Where the blob can be read: staged or stored. */
  blobFile(digest: string): string {
    return this.blobs.get(digest) ?? blobPath(this.paths, digest);
  }

  /** A new blob, written batch by batch and checked against `expected` (when given) at its end. */
  blobWriter(expected?: string, what = "blob"): BlobWriter {
    return new BlobWriter(this, `${this.dir}/blob-${crypto.randomUUID()}`, expected, what);
  }

  /** Writes a stream as a blob; a digest other than `expected` is a DigestMismatchError naming the blob. */
  async writeBlob(
    data: ReadableStream<Uint8Array>,
    expected?: string,
    what = "blob",
  ): Promise<{ digest: string; size: number }> {
    const blob = this.blobWriter(expected, what);
    try {
      await eachBatch(data, (batch) => blob.write(batch));
    } catch (e) {
      blob.abort();
      throw e;
    }
    return await blob.finish();
  }

  writeBlobBytes(data: Uint8Array | string): { digest: string; size: number } {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const digest = sha256(bytes);
    const path = `${this.dir}/blob-${crypto.randomUUID()}`;
    Deno.writeFileSync(path, bytes, { mode: 0o644 });
    this.blobs.set(digest, path);
    return { digest, size: bytes.length };
  }

  /** A fresh directory to extract a layer into (registered under its diff_id once known). */
  newLayerDir(): string {
    const dir = `${this.dir}/layer-${crypto.randomUUID()}`;
    Deno.mkdirSync(dir, { mode: 0o755 });
    return dir;
  }

  /**
   * Moves the staged blobs and layers into the store and records the image with its tags, atomically
   * under the lock. Fails if a layer it relies on was removed meanwhile (nothing is recorded then).
   */
  commit(image: ImageRecord, refs: readonly string[]): void {
    withImageLock(this.paths, () => {
      for (const digest of image.blobs) {
        if (!this.hasBlob(digest)) {
          throw new HuskError(`blob ${digest} went missing from the store; try again`);
        }
      }
      for (const diffId of image.layers) {
        if (!this.hasLayer(diffId)) {
          throw new HuskError(`layer ${diffId} went missing from the store; try again`);
        }
      }
      Deno.mkdirSync(blobsDir(this.paths), { recursive: true, mode: 0o700 });
      Deno.mkdirSync(layersDir(this.paths), { recursive: true, mode: 0o711 });
      for (const [digest, path] of this.blobs) {
        if (!exists(blobPath(this.paths, digest))) Deno.renameSync(path, blobPath(this.paths, digest));
      }
      for (const [diffId, dir] of this.layers) {
        if (!exists(layerDir(this.paths, diffId))) Deno.renameSync(dir, layerDir(this.paths, diffId));
      }
      writeCatalog(this.paths, addImage(readCatalog(this.paths), image, refs));
    });
  }

  dispose(): void {
    live.delete(this);
    Deno.removeSync(this.dir, { recursive: true });
  }
}
