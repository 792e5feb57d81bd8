/**
 * Writing new files on the runtime's worker threads: creating a file costs the kernel far more than the
 * bytes cost to produce (a quarter of a millisecond here), so a layer's files are created in parallel while
 * the main thread goes on decompressing and parsing.
 */
import { cstring, SysError } from "./libc.ts";
import { ptr, sys, syscall, syscallAsync } from "./native.ts";

const EEXIST = 17, AT_FDCWD = -100;
const O_WRONLY = 0o1, O_CREAT = 0o100, O_EXCL = 0o200, O_CLOEXEC = 0o2000000;

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
      iov[2 * i] = BigInt(Deno.UnsafePointer.value(ptr(c)));
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

/** Owner, then mode (chown clears set-user-ID bits), then times, on the open file: no path lookups. */
function setAttributes(fd: number, path: string, attrs: FileAttributes): void {
  sys(`chown ${path}`, "fchown", fd, attrs.uid, attrs.gid);
  sys(`chmod ${path}`, "fchmod", fd, attrs.mode);
  if (attrs.mtime) {
    const ms = attrs.mtime.getTime();
    const sec = BigInt(Math.floor(ms / 1000)), nsec = BigInt((ms % 1000) * 1_000_000);
    // futimens(fd, times) is utimensat(fd, NULL, times, 0).
    sys(`set the times of ${path}`, "utimensat", fd, null, ptr(new BigInt64Array([sec, nsec, sec, nsec])), 0);
  }
}

/** Creates `path` (it must not exist) for writing, on this thread; returns its descriptor. */
export function createFile(path: string, mode: number): number {
  const fd = syscall("openat", AT_FDCWD, ptr(cstring(path)), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    throw fd === -EEXIST ? new Deno.errors.AlreadyExists(`open ${path}`) : new SysError(`open ${path}`, -fd);
  }
  return fd;
}

export function closeFile(fd: number): void {
  syscall("close", fd);
}

/** Creates `path` (it must not exist), writes `content` to it and gives it `attrs`. */
export async function writeNewFile(
  path: string,
  content: readonly Uint8Array[],
  attrs: FileAttributes,
): Promise<void> {
  const name = cstring(path);
  const fd = await syscallAsync(
    "openat",
    AT_FDCWD,
    ptr(name),
    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
    0o600,
  );
  if (fd < 0) {
    throw fd === -EEXIST ? new Deno.errors.AlreadyExists(`open ${path}`) : new SysError(`open ${path}`, -fd);
  }
  try {
    await writeAll(fd, path, content);
    setAttributes(fd, path, attrs);
  } finally {
    syscall("close", fd);
  }
}
