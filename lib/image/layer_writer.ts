/**
 * Applying a layer's tar entries to its directory, in the form overlayfs reads as a lower layer: a whiteout
 * becomes a 0/0 character device, an opaque directory gets its mark. Never follows a symbolic link: every
 * parent of an entry must be a real directory of this layer. Regular files are written on worker threads,
 * small ones many to a call, large ones as their content comes.
 */
// @ts-types="@types/tar-stream"
import type tar from "tar-stream";
import { type NewFile, NewFileWriter, writeNewFile, writeNewFiles } from "../../ffi/file.ts";
import { cstring, SysError } from "../../ffi/libc.ts";
import { ptr, sys, syscall } from "../../ffi/native.ts";
import { type EntryPlan, LayerError, parents, planEntry } from "./entry.ts";

const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFIFO = 0o010000;
const EEXIST = 17, AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;

/** glibc's makedev. */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

const OPAQUE_XATTR = "trusted.overlay.opaque";

/** Regular files being written at once: creating a file costs the kernel more than parsing it costs us. */
const FILES_IN_FLIGHT = 8;

/** Files up to this size are written together, up to BATCH_FILES or BATCH_BYTES at a time. */
const SMALL_FILE = 256 * 1024, BATCH_FILES = 32, BATCH_BYTES = 1 << 20;

/** Files larger than this are written as their pieces come (4 MiB at a time), not gathered in memory whole. */
const LARGE_FILE = 8 << 20, LARGE_FILE_WRITE = 4 << 20;

const isRegular = (header: tar.Headers) =>
  header.type === "file" || header.type === "contiguous-file" || header.type === undefined;

type Creation = Extract<EntryPlan, { kind: "create" }>;

const isLargeFile = (header: tar.Headers, plan: EntryPlan): plan is Creation =>
  plan.kind === "create" && isRegular(header) && (header.size ?? 0) > LARGE_FILE;

const attributes = (header: tar.Headers, defaultMode = 0o644) => ({
  uid: header.uid ?? 0,
  gid: header.gid ?? 0,
  mode: (header.mode ?? defaultMode) & 0o7777,
  mtime: header.mtime,
});

/**
 * Applies tar entries to a layer directory, in order, except that regular files are written in the
 * background (by the runtime's threads) while the next entries are parsed; an entry that depends on a file
 * still being written (its path, a parent, a hard link's target) waits for the files in flight.
 */
export class LayerWriter {
  /** Directories' modes and times are set last: creating entries inside them would change their times. */
  #dirs: { path: string; header: tar.Headers }[] = [];
  /** Parents known to be real directories of the layer. */
  #checked = new Set<string>([""]);
  #inFlight = new Set<Promise<void>>();
  /** Paths being written, or gathered to be: an entry that depends on one waits for them all. */
  #inFlightPaths = new Set<string>();
  /** Small files gathered for one call. */
  #batch: NewFile[] = [];
  #batchPaths: string[] = [];
  #batchBytes = 0;
  #failure: unknown = null;

  constructor(readonly root: string) {}

  /** Applies the next entry, whose content is read from `content` (a regular file's; empty for others). */
  async apply(header: tar.Headers, content: AsyncIterable<Uint8Array>): Promise<void> {
    const plan = await this.#begin(header);
    if (isLargeFile(header, plan)) return await this.#stream(header, plan, content);
    const chunks: Uint8Array[] = [];
    for await (const chunk of content) chunks.push(chunk);
    this.#end(header, plan, chunks);
  }

  /** Starts an entry: everything but a regular file's content. */
  async #begin(header: tar.Headers): Promise<EntryPlan> {
    const plan = planEntry(header.name, header.type ?? "file", header.linkname ?? undefined);
    if (plan.kind === "root") {
      if (header.type === "directory") this.#dirs.push({ path: this.root, header });
      return plan;
    }
    const rel = plan.kind === "opaque" ? plan.dir : plan.path;
    // An entry that replaces a file in flight, a directory holding one, or a hard link's target waits: a file
    // is opened on another thread by its path, which must not change under it.
    const target = plan.kind === "create" ? plan.target : undefined;
    const related = (p: string) =>
      p === rel || p.startsWith(`${rel}/`) || rel.startsWith(`${p}/`) || p === target;
    if ([...this.#inFlightPaths].some(related)) await this.settle();
    this.#ensureParents(rel, header.name);
    if (plan.kind === "opaque") {
      const dir = rel === "" ? this.root : `${this.root}/${rel}`;
      if (rel !== "") this.#ensureDir(dir);
      sys(
        `mark ${dir} opaque`,
        "lsetxattr",
        ptr(cstring(dir)),
        ptr(cstring(OPAQUE_XATTR)),
        ptr(cstring("y")),
        1,
        0,
      );
      return plan;
    }
    const path = `${this.root}/${rel}`;
    if (plan.kind === "whiteout") {
      this.#create(path, () => mknod(path, S_IFCHR, 0n));
      return plan;
    }
    switch (header.type) {
      case "directory":
        this.#ensureDir(path);
        this.#dirs.push({ path, header });
        return plan;
      case "symlink":
        this.#create(path, () => Deno.symlinkSync(header.linkname ?? "", path));
        return plan;
      case "link":
        this.#checkRealParents(plan.target!, header.name);
        this.#create(path, () => Deno.linkSync(`${this.root}/${plan.target}`, path));
        return plan;
      case "character-device":
      case "block-device":
      case "fifo": {
        const kind = header.type === "fifo" ? S_IFIFO : header.type === "block-device" ? S_IFBLK : S_IFCHR;
        const dev = makedev(header.devmajor ?? 0, header.devminor ?? 0);
        this.#create(path, () => mknod(path, kind | attributes(header).mode, dev));
        return plan;
      }
      case "file":
      case "contiguous-file":
      case undefined:
        if (this.#inFlight.size >= FILES_IN_FLIGHT) await Promise.race(this.#inFlight);
        this.#throwFailure();
        return plan;
      default:
        // pax and GNU headers are consumed by the parser; anything else (sockets...) has no place in a layer.
        throw new LayerError(`refusing layer entry "${header.name}": unsupported type ${header.type}`);
    }
  }

  /** Finishes an entry: a regular file is written (in the background), then owner, mode and time. */
  #end(header: tar.Headers, plan: EntryPlan, content: Uint8Array[]): void {
    if (plan.kind !== "create" || header.type === "directory" || header.type === "link") return;
    const path = `${this.root}/${plan.path}`;
    if (!isRegular(header)) return this.#attributes(path, header);
    const attrs = attributes(header);
    const size = content.reduce((n, c) => n + c.length, 0);
    // Batched, a file's pieces go in one writev (at most 1024 of them).
    if (size > SMALL_FILE || content.length > 64) {
      return this.#track([plan.path], this.#write({ path, content, attrs }));
    }
    this.#batch.push({ path, content, attrs });
    this.#batchPaths.push(plan.path);
    this.#inFlightPaths.add(plan.path);
    this.#batchBytes += size;
    if (this.#batch.length >= BATCH_FILES || this.#batchBytes >= BATCH_BYTES) this.#flush();
  }

  /** Writes a large file as its content comes, in the entry's turn (nothing else is written meanwhile). */
  async #stream(header: tar.Headers, plan: Creation, content: AsyncIterable<Uint8Array>): Promise<void> {
    const path = `${this.root}/${plan.path}`;
    const file = await this.#createLater(path, () => NewFileWriter.create(path));
    try {
      let held: Uint8Array[] = [], size = 0;
      for await (const chunk of content) {
        held.push(chunk);
        size += chunk.length;
        if (size < LARGE_FILE_WRITE) continue;
        await file.write(held);
        held = [];
        size = 0;
      }
      await file.write(held);
    } catch (e) {
      file.close();
      throw e;
    }
    file.finish(attributes(header));
  }

  /** Starts writing the gathered small files (a call to a worker thread for all of them). */
  #flush(): void {
    if (this.#batch.length === 0) return;
    const files = this.#batch;
    const write = writeNewFiles(files).then((failures) =>
      Promise.all(failures.map((failure, i) => {
        if (failure === null) return;
        if (!(failure instanceof Deno.errors.AlreadyExists)) throw failure;
        return this.#write(files[i]);
      }))
    );
    this.#track(this.#batchPaths, write);
    this.#batch = [];
    this.#batchPaths = [];
    this.#batchBytes = 0;
  }

  /** Counts a write in flight until it settles; its failure is kept for the next entry to throw. */
  #track(paths: string[], write: Promise<unknown>): void {
    const tracked = write.then(() => {}, (e) => void (this.#failure ??= e)).finally(() => {
      this.#inFlight.delete(tracked);
      for (const p of paths) this.#inFlightPaths.delete(p);
    });
    this.#inFlight.add(tracked);
    for (const p of paths) this.#inFlightPaths.add(p);
  }

  /** Owner, then mode (after chown, which clears set-user-ID bits) and time; a symbolic link gets its owner. */
  #attributes(path: string, header: tar.Headers, defaultMode?: number): void {
    const { uid, gid, mode, mtime } = attributes(header, defaultMode);
    lchown(path, uid, gid);
    if (header.type === "symlink") return;
    Deno.chmodSync(path, mode);
    if (mtime) Deno.utimeSync(path, mtime, mtime);
  }

  /** Waits for the files in flight; the first failure among them is thrown. */
  async settle(): Promise<void> {
    this.#flush();
    await Promise.all(this.#inFlight);
    this.#throwFailure();
  }

  #throwFailure(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  async finish(): Promise<void> {
    await this.settle();
    for (const { path, header } of this.#dirs.reverse()) {
      // A later entry may have replaced the directory, or one above it, by a link: chmod would follow it.
      if (!this.#isRealDirectory(path)) continue;
      this.#attributes(path, header, 0o755);
    }
  }

  /** Creates missing parents (0755, as tar does) and refuses a parent that is not a real directory. */
  #ensureParents(rel: string, name: string): void {
    for (const parent of parents(rel)) {
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

  /** Whether every component of `path` below the layer's root is a directory, none a link. */
  #isRealDirectory(path: string): boolean {
    const rel = path.slice(this.root.length + 1);
    return rel === "" || this.#firstNotDirectory([...parents(rel), rel]) === undefined;
  }

  /** The first of `rels` (paths below the layer's root) that is not a real directory (missing, a link), if any. */
  #firstNotDirectory(rels: readonly string[]): string | undefined {
    return rels.find((rel) => {
      try {
        return !Deno.lstatSync(`${this.root}/${rel}`).isDirectory;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return true;
        throw e;
      }
    });
  }

  /** Refuses a hard link whose target is reached through a symbolic link (it could be a host file). */
  #checkRealParents(target: string, name: string): void {
    const parent = this.#firstNotDirectory(parents(target));
    if (parent !== undefined) {
      throw new LayerError(
        `refusing hard link "${name}": its target's parent ${parent} is not a directory (a link?)`,
      );
    }
  }

  #ensureDir(path: string): void {
    try {
      Deno.mkdirSync(path, { mode: 0o755 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      if (Deno.lstatSync(path).isDirectory) return;
      Deno.removeSync(path);
      Deno.mkdirSync(path, { mode: 0o755 });
    }
  }

  /**
   * Creates an entry; an earlier entry of the same path is replaced (a directory with its content), as tar
   * does. Creating first and clearing only on a clash keeps the common case to one system call.
   */
  #create(path: string, create: () => void): void {
    try {
      create();
    } catch (e) {
      this.#clear(path, e);
      create();
    }
  }

  /** #create for a creation that completes on another thread. */
  async #createLater<T>(path: string, create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (e) {
      this.#clear(path, e);
      return await create();
    }
  }

  /** Writes a new regular file in one piece (#create's way). */
  #write(file: NewFile): Promise<void> {
    return this.#createLater(file.path, () => writeNewFile(file.path, file.content, file.attrs));
  }

  /** After a clash (AlreadyExists; anything else is thrown again): removes the earlier entry of `path`. */
  #clear(path: string, e: unknown): void {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    Deno.removeSync(path, { recursive: true });
    this.#checked.delete(path.slice(this.root.length + 1));
  }
}

function mknod(path: string, mode: number, dev: bigint): void {
  const r = syscall("mknodat", AT_FDCWD, ptr(cstring(path)), mode, dev);
  if (r === 0) return;
  throw r === -EEXIST ? new Deno.errors.AlreadyExists(`mknod ${path}`) : new SysError(`mknod ${path}`, -r);
}

/** The owner of `path` itself (a symbolic link is not followed). */
function lchown(path: string, uid: number, gid: number): void {
  sys(`chown ${path}`, "fchownat", AT_FDCWD, ptr(cstring(path)), uid, gid, AT_SYMLINK_NOFOLLOW);
}
