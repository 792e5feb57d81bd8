/**
 * Writing new files on the runtime's worker threads: creating a file costs the kernel far more than the
 * bytes cost to produce (a quarter of a millisecond here), so a layer's files are created in parallel while
 * the main thread goes on decompressing and parsing.
 */
import { cstring, SysError } from "./libc.ts";
import { address, ptr, runSteps, sys, syscall, syscallAsync, syscallNumber } from "./native.ts";
import { FLAG_SAVE, FLAG_USE_SAVED, STEP_SIZE } from "./spawn.ts";

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

/** struct timespec[2] (access and modification) for futimens, both `mtime`: seconds, nanoseconds, twice. */
function timespec(mtime: Date): [number, number, number, number] {
  const ms = mtime.getTime();
  const sec = Math.floor(ms / 1000), nsec = (ms - sec * 1000) * 1_000_000;
  return [sec, nsec, sec, nsec];
}

/** Owner, then mode (chown clears set-user-ID bits), then times, on the open file: no path lookups. */
function setAttributes(fd: number, path: string, attrs: FileAttributes): void {
  sys(`chown ${path}`, "fchown", fd, attrs.uid, attrs.gid);
  sys(`chmod ${path}`, "fchmod", fd, attrs.mode);
  // futimens(fd, times) is utimensat(fd, NULL, times, 0).
  if (attrs.mtime) {
    const times = new BigInt64Array(timespec(attrs.mtime).map(BigInt));
    sys(`set the times of ${path}`, "utimensat", fd, null, ptr(times), 0);
  }
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

/** A step's words: the system call's number, six arguments (run_steps puts the result in the last), flags. */
const STEP_WORDS = STEP_SIZE / 8;
/** The system calls of a file's steps, and what each does (for its error). */
const DOING = {
  openat: "open",
  writev: "write",
  fchown: "chown",
  fchmod: "chmod",
  utimensat: "set the times of",
  close: "close",
} as const;
type Call = keyof typeof DOING;

/**
 * One call's steps and everything they point at (iovecs, times, paths) in one buffer, its 64-bit words
 * written as two 32-bit halves: a BigInt per word and a small buffer per pointer cost about
 * 7 µs a file (about 5 ms of a pull's 150 on the main thread).
 */
class StepTable {
  readonly words: BigUint64Array<ArrayBuffer>;
  #halves: Uint32Array;
  #bytes: Uint8Array;
  #base: number;
  /** The next free step, word (iovecs and times, after the steps) and byte (paths, after the words). */
  steps = 0;
  #word: number;
  #byte: number;

  constructor(steps: number, words: number, bytes: number) {
    const buffer = new ArrayBuffer((steps * STEP_WORDS + words) * 8 + bytes);
    this.words = new BigUint64Array(buffer, 0, steps * STEP_WORDS + words);
    this.#halves = new Uint32Array(buffer, 0, this.words.length * 2);
    this.#bytes = new Uint8Array(buffer);
    this.#base = Number(address(this.#bytes));
    this.#word = steps * STEP_WORDS;
    this.#byte = this.words.length * 8;
  }

  /** Appends a step (arguments: numbers of at most 53 bits, negative ones as two's complement). */
  step(nr: number, flags: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): void {
    const at = this.steps++ * STEP_WORDS;
    [nr, a0, a1, a2, a3, 0, 0, flags].forEach((v, i) => this.#put(at + i, v));
  }

  /** Appends `values` as words after the steps; returns their address. */
  data(...values: number[]): number {
    const at = this.#word;
    values.forEach((v, i) => this.#put(at + i, v));
    this.#word += values.length;
    return this.#base + at * 8;
  }

  /** Appends `s` as a C string; returns its address. */
  string(s: string): number {
    const at = this.#byte;
    this.#byte += textEncoder.encodeInto(s, this.#bytes.subarray(at)).written;
    this.#bytes[this.#byte++] = 0;
    return this.#base + at;
  }

  /** A step's raw result. */
  result(step: number): number {
    return Number(BigInt.asIntN(64, this.words[step * STEP_WORDS + 6]));
  }

  #put(word: number, v: number): void {
    this.#halves[2 * word] = v >>> 0;
    this.#halves[2 * word + 1] = Math.floor(v / 0x1_0000_0000) >>> 0;
  }
}

const textEncoder = new TextEncoder();

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
    let steps = 0, words = 0, bytes = 0;
    for (const { path, content, attrs } of batch) {
      steps += attrs.mtime ? 6 : 5;
      words += 2 * content.length + (attrs.mtime ? 4 : 0);
      bytes += 3 * path.length + 1; // UTF-8 takes at most 3 bytes per UTF-16 unit.
    }
    const table = new StepTable(steps, words, bytes);
    /** Per step: its file in the batch, its system call, and its file's open step. */
    const owner: number[] = [], doing: Call[] = [], opening: number[] = [];
    batch.forEach(({ path, content, attrs }, file) => {
      const open = table.steps;
      const step = (call: Call, ...args: number[]) => {
        owner.push(file), doing.push(call), opening.push(open);
        // The new descriptor is kept, and passed to the file's other calls.
        table.step(syscallNumber(call), call === "openat" ? FLAG_SAVE : FLAG_USE_SAVED, ...args);
      };
      const chunks = content.filter((c) => c.length > 0);
      const iov = table.data(...chunks.flatMap((c) => [Number(address(c)), c.length]));
      step("openat", AT_FDCWD, table.string(path), NEW_FILE, 0o600);
      step("writev", 0, iov, chunks.length);
      step("fchown", 0, attrs.uid, attrs.gid);
      step("fchmod", 0, attrs.mode);
      if (attrs.mtime) step("utimensat", 0, 0, table.data(...timespec(attrs.mtime)), 0);
      step("close", 0);
    });
    // `batch` keeps the chunks referenced, and `table` the rest, until the call returns.
    const failed = await runSteps(table.words, table.steps);
    // Written whole: writev may write less than asked (a full disk).
    for (let i = 0; i < failed; i++) {
      if (doing[i] !== "writev") continue;
      const { path, content } = batch[owner[i]];
      const size = content.reduce((n, c) => n + c.length, 0);
      if (table.result(i) !== size) failures[from + owner[i]] = new SysError(`write ${path}`, ENOSPC);
    }
    if (failed === table.steps) break;
    const file = owner[failed], what = DOING[doing[failed]];
    const errno = -table.result(failed);
    if (what !== "open" && what !== "close") syscall("close", table.result(opening[failed]));
    const path = batch[file].path;
    failures[from + file] = what === "open"
      ? openFailure(path, errno)
      : new SysError(`${what} ${path}`, errno);
    from += file + 1;
  }
  return failures;
}
