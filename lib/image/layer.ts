/**
 * Extracting a layer (a tar stream, plain, gzip or zstd) into its own directory, in the form overlayfs reads
 * as a lower layer. Hashes the uncompressed stream on the way: the result must equal the config's diff_id.
 * Never follows a symbolic link: every parent of an entry must be a real directory of this layer.
 */
import { createReadStream } from "node:fs";
import { type Readable, Transform } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { check, cstring, libc } from "../../ffi/libc.ts";
import { LayerError, parents, planEntry } from "./entry.ts";
import { Hasher } from "./digest.ts";

const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFIFO = 0o010000;

/** glibc's makedev. */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export const OPAQUE_XATTR = "trusted.overlay.opaque";

/** The decompressor for a stream starting with `magic`: gzip, zstd or none (by content, not media type). */
function decompressor(magic: Uint8Array): Transform | null {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return createGunzip();
  if (magic[0] === 0x28 && magic[1] === 0xb5 && magic[2] === 0x2f && magic[3] === 0xfd) {
    return createZstdDecompress();
  }
  return null;
}

function readMagic(path: string): Uint8Array {
  using file = Deno.openSync(path);
  const buf = new Uint8Array(4);
  file.readSync(buf);
  return buf;
}

export interface Extracted {
  /** sha256 of the uncompressed tar: the layer's diff_id. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
}

/** Extracts the layer blob at `blob` into the empty directory `dir`. */
export async function extractLayer(blob: string, dir: string): Promise<Extracted> {
  const hasher = new Hasher();
  const unpack = decompressor(readMagic(blob));
  let stream: Readable = createReadStream(blob, { highWaterMark: 1 << 20 });
  if (unpack) stream = stream.pipe(unpack);
  const hashing = new Transform({
    transform(chunk, _enc, done) {
      hasher.update(chunk);
      done(null, chunk);
    },
  });
  const extract = tar.extract();
  const source = stream.pipe(hashing);
  for (const s of [stream, source]) s.on("error", (e) => extract.destroy(e));
  source.pipe(extract);
  const writer = new LayerWriter(dir);
  try {
    for await (const entry of extract) {
      const file = writer.begin(entry.header);
      try {
        for await (const chunk of entry) file?.writeSync(chunk as Uint8Array);
      } finally {
        file?.close();
      }
      writer.end(entry.header);
    }
    writer.finish();
  } catch (e) {
    stream.destroy();
    throw e instanceof LayerError || !(e instanceof Error)
      ? e
      : new LayerError(`cannot extract layer ${blob}: ${e.message}`, undefined, { cause: e });
  }
  // The tar's end-of-archive blocks can come before the end of the stream: hash all of it.
  for await (const _ of source) { /* drained */ }
  return { diffId: hasher.digest(), size: hasher.size };
}

function writeAll(file: Deno.FsFile, chunk: Uint8Array): void {
  let done = 0;
  while (done < chunk.length) done += file.writeSync(chunk.subarray(done));
}

/** Applies tar entries to a layer directory, one at a time. */
class LayerWriter {
  /** Directories' modes and times are set last: creating entries inside them would change their times. */
  #dirs: { path: string; header: tar.Headers }[] = [];
  /** Parents known to be real directories of the layer. */
  #checked = new Set<string>([""]);

  constructor(readonly root: string) {}

  /** Starts an entry; returns the file to write its content to, if it has content. */
  begin(header: tar.Headers): { writeSync(c: Uint8Array): void; close(): void } | null {
    const plan = planEntry(header.name, header.type ?? "file", header.linkname ?? undefined);
    if (plan.kind === "root") {
      if (header.type === "directory") this.#dirs.push({ path: this.root, header });
      return null;
    }
    const rel = plan.kind === "opaque" ? plan.dir : plan.path;
    this.#ensureParents(rel, header.name);
    if (plan.kind === "opaque") {
      const dir = rel === "" ? this.root : `${this.root}/${rel}`;
      if (rel !== "") this.#ensureDir(dir);
      const y = cstring("y");
      check("lsetxattr", libc().lsetxattr(cstring(dir), cstring(OPAQUE_XATTR), y, 1n, 0));
      return null;
    }
    const path = `${this.root}/${rel}`;
    if (plan.kind === "whiteout") {
      this.#clear(path);
      check("mknod", libc().mknod(cstring(path), S_IFCHR | 0o000, 0n));
      return null;
    }
    const mode = (header.mode ?? 0o644) & 0o7777;
    switch (header.type) {
      case "directory":
        this.#ensureDir(path);
        this.#dirs.push({ path, header });
        return null;
      case "symlink":
        this.#clear(path);
        Deno.symlinkSync(header.linkname ?? "", path);
        return null;
      case "link":
        this.#clear(path);
        Deno.linkSync(`${this.root}/${plan.target}`, path);
        return null;
      case "character-device":
      case "block-device":
      case "fifo": {
        this.#clear(path);
        const kind = header.type === "fifo" ? S_IFIFO : header.type === "block-device" ? S_IFBLK : S_IFCHR;
        check(
          "mknod",
          libc().mknod(cstring(path), kind | mode, makedev(header.devmajor ?? 0, header.devminor ?? 0)),
        );
        return null;
      }
      case "file":
      case "contiguous-file":
      case undefined: {
        this.#clear(path);
        const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
        return { writeSync: (c) => writeAll(file, c), close: () => file.close() };
      }
      default:
        // pax and GNU headers are consumed by the parser; anything else (sockets...) has no place in a layer.
        throw new LayerError(`refusing layer entry "${header.name}": unsupported type ${header.type}`);
    }
  }

  /** Ownership, mode and time, once the entry's content is written. */
  end(header: tar.Headers): void {
    const plan = planEntry(header.name, header.type ?? "file", header.linkname ?? undefined);
    if (plan.kind !== "create" || header.type === "directory" || header.type === "link") return;
    const path = `${this.root}/${plan.path}`;
    check("lchown", libc().lchown(cstring(path), header.uid ?? 0, header.gid ?? 0));
    if (header.type === "symlink") return;
    // After chown, which clears set-user-ID bits.
    Deno.chmodSync(path, (header.mode ?? 0o644) & 0o7777);
    if (header.mtime) Deno.utimeSync(path, header.mtime, header.mtime);
  }

  finish(): void {
    for (const { path, header } of this.#dirs.reverse()) {
      check("lchown", libc().lchown(cstring(path), header.uid ?? 0, header.gid ?? 0));
      Deno.chmodSync(path, (header.mode ?? 0o755) & 0o7777);
      if (header.mtime) Deno.utimeSync(path, header.mtime, header.mtime);
    }
  }

  /** Creates missing parents (0755, as tar does) and refuses a parent that is not a real directory. */
  #ensureParents(rel: string, name: string): void {
    for (const parent of parents(rel === "" ? "" : rel)) {
      if (this.#checked.has(parent)) continue;
      const path = `${this.root}/${parent}`;
      let info: Deno.FileInfo | null = null;
      try {
        info = Deno.lstatSync(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (info === null) Deno.mkdirSync(path, { mode: 0o755 });
      else if (!info.isDirectory) {
        throw new LayerError(
          `refusing layer entry "${name}": its parent ${parent} is not a directory (a link?)`,
        );
      }
      this.#checked.add(parent);
    }
  }

  #ensureDir(path: string): void {
    try {
      if (Deno.lstatSync(path).isDirectory) return;
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    Deno.mkdirSync(path, { mode: 0o755 });
  }

  /** A later entry replaces an earlier one of the same path (a directory keeps its content). */
  #clear(path: string): void {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    this.#checked.delete(path.slice(this.root.length + 1));
  }
}
