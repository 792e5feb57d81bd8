/**
 * Writing new files on the runtime's worker threads: creating a file costs the kernel far more than the
 * bytes cost to produce (a quarter of a millisecond here), so a layer's files are created in parallel while
 * the main thread goes on decompressing and parsing.
 */
import { cstring, libc } from "./libc.ts";

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

/** Creates `path` (it must not exist) with `mode` and writes `content` to it. */
export async function writeNewFile(
  path: string,
  content: readonly Uint8Array[],
  mode: number,
): Promise<void> {
  const chunks = joined(content);
  const fd = await libc().openBlocking(cstring(path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    // errno belongs to the thread that made the call: trying again here gives the typed error (or works).
    using file = Deno.openSync(path, { write: true, createNew: true, mode });
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) done += file.writeSync(chunk.subarray(done));
    }
    return;
  }
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) {
        const n = Number(await libc().writeBlocking(fd, chunk.subarray(done), BigInt(chunk.length - done)));
        if (n < 0) throw new Error(`write ${path} failed`);
        done += n;
      }
    }
  } finally {
    libc().close(fd);
  }
}
