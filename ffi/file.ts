/**
 * Writing new files on the runtime's worker threads: creating a file costs the kernel far more than the
 * bytes cost to produce (a quarter of a millisecond here), so a layer's files are created in parallel while
 * the main thread goes on decompressing and parsing.
 */
import { cstring, SysError } from "./libc.ts";
import { address, ptr, runSteps, sys, syscall, syscallAsync, syscallNumber } from "./native.ts";

const EEXIST = 17, ENOSPC = 28, AT_FDCWD = -100;
const O_WRONLY = 0o1, O_CREAT = 0o100, O_EXCL = 0o200, O_CLOEXEC = 0o2000000;
/** open(2) flags for a file that must not exist yet. */
const NEW_FILE = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;

/** Why `path` could not be opened: AlreadyExists for a file that is there (tar replaces it), SysError else. */
const openFailure = (path: string, errno: number) =>
  errno === EEXIST ? new Deno.errors.AlreadyExists(`open ${path}`) : new SysError(`open ${path}`, errno);

/** The most buffers one writev takes (Linux's UIO_MAXIOV). */
const IOV_MAX = 1024;

/**
 * Writes all of `chunks` to `fd` with writev: one call to another thread for a file's pieces, and no copy
 * of them into one buffer.
 */
export async function writeAll(fd: number, path: string, chunks: readonly Uint8Array[]): Promise<void> {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    const batch = rest.slice(0, IOV_MAX);
    // struct iovec: the address and length of each buffer; `batch` keeps the buffers referenced.
    const iov = new BigUint64Array(batch.length * 2);
    batch.forEach((c, i) => {
      iov[2 * i] = address(c);
      iov[2 * i + 1] = BigInt(c.length);
    });
    let n = await syscallAsync("writev", fd, ptr(iov), batch.length);
    if (n < 0) throw new SysError(`write ${path}`, -n);
    // A short write: skip what was written and go on from there.
    let i = 0;
    for (; i < batch.length && n >= batch[i].length; i++) n -= batch[i].length;
    rest = [
      ...(i < batch.length ? [batch[i].subarray(n)] : []),
      ...batch.slice(i + 1),
      ...rest.slice(batch.length),
    ];
  }
}

/** A new file's owner, mode (set-user-ID bits included) and modification time. */
export interface FileAttributes {
  uid: number;
  gid: number;
  mode: number;
  mtime?: Date;
}

/** struct timespec[2] (access and modification) for futimens: both `mtime`. */
function timespecs(mtime: Date): BigInt64Array<ArrayBuffer> {
  const ms = mtime.getTime();
  const sec = BigInt(Math.floor(ms / 1000)), nsec = BigInt((ms % 1000) * 1_000_000);
  return new BigInt64Array([sec, nsec, sec, nsec]);
}

/** Owner, then mode (chown clears set-user-ID bits), then times, on the open file: no path lookups. */
function setAttributes(fd: number, path: string, attrs: FileAttributes): void {
  sys(`chown ${path}`, "fchown", fd, attrs.uid, attrs.gid);
  sys(`chmod ${path}`, "fchmod", fd, attrs.mode);
  // futimens(fd, times) is utimensat(fd, NULL, times, 0).
  if (attrs.mtime) sys(`set the times of ${path}`, "utimensat", fd, null, ptr(timespecs(attrs.mtime)), 0);
}

/** A new file written in pieces as they come (on worker threads), then given its attributes. */
export class NewFileWriter {
  private constructor(readonly path: string, readonly fd: number) {}

  /** Creates `path`, which must not exist (AlreadyExists otherwise), on a worker thread. */
  static async create(path: string, mode = 0o600): Promise<NewFileWriter> {
    const name = cstring(path);
    const fd = await syscallAsync("openat", AT_FDCWD, ptr(name), NEW_FILE, mode);
    if (fd < 0) throw openFailure(path, -fd);
    return new NewFileWriter(path, fd);
  }

  /** Creates `path` as `create` does, on this thread. */
  static createHere(path: string, mode: number): NewFileWriter {
    const fd = syscall("openat", AT_FDCWD, ptr(cstring(path)), NEW_FILE, mode);
    if (fd < 0) throw openFailure(path, -fd);
    return new NewFileWriter(path, fd);
  }

  /** Appends `chunks` (they must not change until the promise resolves). */
  write(chunks: readonly Uint8Array[]): Promise<void> {
    return writeAll(this.fd, this.path, chunks);
  }

  /** Gives the file its owner, mode and time, and closes it. */
  finish(attrs: FileAttributes): void {
    try {
      setAttributes(this.fd, this.path, attrs);
    } finally {
      syscall("close", this.fd);
    }
  }

  /** Closes the file as it is (a blob, or after a failure). */
  close(): void {
    syscall("close", this.fd);
  }
}

/** Creates `path` (it must not exist), writes `content` to it and gives it `attrs`. */
export async function writeNewFile(
  path: string,
  content: readonly Uint8Array[],
  attrs: FileAttributes,
): Promise<void> {
  const file = await NewFileWriter.create(path);
  try {
    await file.write(content);
  } catch (e) {
    file.close();
    throw e;
  }
  file.finish(attrs);
}

export interface NewFile {
  path: string;
  content: readonly Uint8Array[];
  attrs: FileAttributes;
}

/** Flags of a step (spawn.S): keep its result (the new descriptor), pass the kept one as the first argument. */
const SAVE = 2n, USE_SAVED = 4n;
const STEP_WORDS = 8;

/**
 * Creates and writes several small files in one call to a worker thread: for each, open, writev, fchown,
 * fchmod, futimens and close (a file each time cost two hand-overs to another thread, which cost more than
 * the kernel's work). Resolves to each file's failure, null when written; a file that exists already fails
 * with AlreadyExists. The files after a failed one are still written.
 */
export async function writeNewFiles(files: readonly NewFile[]): Promise<(Error | null)[]> {
  const failures: (Error | null)[] = files.map(() => null);
  for (let from = 0; from < files.length;) {
    const batch = files.slice(from);
    /** Per step: its file (in the batch) and what it does, for the error. */
    const owners: { file: number; what: string; open: number }[] = [];
    const words: bigint[] = [];
    /** What the steps point at, alive until the call returns. */
    const held: ArrayBufferView[] = [];
    const step = (file: number, what: string, open: number, nr: bigint, flags: bigint, ...args: bigint[]) => {
      owners.push({ file, what, open });
      words.push(nr, ...args, ...Array(6 - args.length).fill(0n), flags);
    };
    const pointing = (view: ArrayBufferView) => (held.push(view), address(view));
    batch.forEach(({ path, content, attrs }, file) => {
      const open = owners.length;
      const chunks = content.filter((c) => c.length > 0);
      const iov = new BigUint64Array(chunks.length * 2);
      chunks.forEach((c, i) => {
        iov[2 * i] = pointing(c);
        iov[2 * i + 1] = BigInt(c.length);
      });
      const at = BigInt.asUintN(64, BigInt(AT_FDCWD));
      step(
        file,
        "open",
        open,
        syscallNumber("openat"),
        SAVE,
        at,
        pointing(cstring(path)),
        BigInt(NEW_FILE),
        0o600n,
      );
      step(file, "write", open, syscallNumber("writev"), USE_SAVED, 0n, pointing(iov), BigInt(chunks.length));
      step(file, "chown", open, syscallNumber("fchown"), USE_SAVED, 0n, BigInt(attrs.uid), BigInt(attrs.gid));
      step(file, "chmod", open, syscallNumber("fchmod"), USE_SAVED, 0n, BigInt(attrs.mode));
      if (attrs.mtime) {
        const times = pointing(timespecs(attrs.mtime));
        step(file, "set the times of", open, syscallNumber("utimensat"), USE_SAVED, 0n, 0n, times, 0n);
      }
      step(file, "close", open, syscallNumber("close"), USE_SAVED, 0n);
    });
    const table = new BigUint64Array(new ArrayBuffer(words.length * 8));
    table.set(words);
    const failed = await runSteps(table, owners.length);
    const result = (i: number) => Number(BigInt.asIntN(64, table[i * STEP_WORDS + 6]));
    // Written whole: writev may write less than asked (a full disk).
    owners.forEach(({ file, what }, i) => {
      if (i < failed && what === "write") {
        const size = batch[file].content.reduce((n, c) => n + c.length, 0);
        if (result(i) !== size) failures[from + file] = new SysError(`write ${batch[file].path}`, ENOSPC);
      }
    });
    if (failed === owners.length) break;
    const { file, what, open } = owners[failed];
    const errno = -result(failed);
    if (what !== "open" && what !== "close") syscall("close", result(open));
    const path = batch[file].path;
    failures[from + file] = what === "open"
      ? openFailure(path, errno)
      : new SysError(`${what} ${path}`, errno);
    from += file + 1;
  }
  return failures;
}
