/**
 * Writing new files on the runtime's worker threads: creating a file costs the kernel far more than the
 * bytes cost to produce (a quarter of a millisecond here), so a layer's files are created in parallel while
 * the main thread goes on decompressing and parsing.
 */
import { check, cstring, errno, libc, SysError } from "./libc.ts";

const EEXIST = 17;
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
  check(`chown ${path}`, libc().fchown(fd, attrs.uid, attrs.gid));
  check(`chmod ${path}`, libc().fchmod(fd, attrs.mode));
  if (attrs.mtime) {
    const ms = attrs.mtime.getTime();
    const sec = BigInt(Math.floor(ms / 1000)), nsec = BigInt((ms % 1000) * 1_000_000);
    check(`set the times of ${path}`, libc().futimens(fd, new BigInt64Array([sec, nsec, sec, nsec])));
  }
}

/** Creates `path` (it must not exist), writes `content` to it and gives it `attrs`. */
export async function writeNewFile(
  path: string,
  content: readonly Uint8Array[],
  attrs: FileAttributes,
): Promise<void> {
  const chunks = joined(content);
  let fd = await libc().openBlocking(cstring(path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600);
  if (fd < 0) {
    // errno belongs to the thread that made the call: trying again here gives the typed error (or works).
    fd = libc().open(cstring(path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600);
    if (fd < 0) {
      const code = errno();
      throw code === EEXIST
        ? new Deno.errors.AlreadyExists(`open ${path}`)
        : new SysError(`open ${path}`, code);
    }
  }
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) {
        const n = Number(await libc().writeBlocking(fd, chunk.subarray(done), BigInt(chunk.length - done)));
        if (n < 0) throw new Error(`write ${path} failed`);
        done += n;
      }
    }
    setAttributes(fd, path, attrs);
  } finally {
    libc().close(fd);
  }
}
