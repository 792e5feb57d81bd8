/**
 * Writing new files on the runtime's worker threads: creating a file costs the kernel far more than the
 * bytes cost to produce (a quarter of a millisecond here), so a layer's files are created in parallel while
 * the main thread goes on decompressing and parsing.
 */
import { cstring, SysError } from "./libc.ts";
import { ptr, sys, syscall, syscallAsync } from "./native.ts";

const EEXIST = 17, AT_FDCWD = -100;
const O_WRONLY = 0o1, O_CREAT = 0o100, O_EXCL = 0o200, O_CLOEXEC = 0o2000000;

/** One buffer of the chunks: each call to another thread costs more than the copy. */
function joined(chunks: readonly Uint8Array[]): Uint8Array[] {
  if (chunks.length <= 1) return [...chunks];
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return [all];
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

/** Creates `path` (it must not exist), writes `content` to it and gives it `attrs`. */
export async function writeNewFile(
  path: string,
  content: readonly Uint8Array[],
  attrs: FileAttributes,
): Promise<void> {
  const chunks = joined(content);
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
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) {
        const n = await syscallAsync("write", fd, ptr(chunk.subarray(done)), chunk.length - done);
        if (n < 0) throw new SysError(`write ${path}`, -n);
        done += n;
      }
    }
    setAttributes(fd, path, attrs);
  } finally {
    syscall("close", fd);
  }
}
