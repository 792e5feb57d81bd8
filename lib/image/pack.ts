/**
 * A directory tree as a tar stream (for `husk import` of a directory, `husk export`, and the rootfs task's
 * image): regular files, directories, symbolic and hard links, device nodes and fifos, with owners, modes
 * and times. Never follows a link.
 */
import { Readable } from "node:stream";
// @ts-types="@types/tar-stream"
import tar from "tar-stream";

/**
 * Streams `dir` as a tar archive (paths relative to it, "./"-less, as docker export writes them); the
 * directories in `hollow` are archived without their content (mount points such as proc).
 */
export function packDirectory(dir: string, hollow: readonly string[] = []): ReadableStream<Uint8Array> {
  const pack = tar.pack();
  (async () => {
    const links = new Map<string, string>();
    const add = (header: tar.Headers, data?: Uint8Array) =>
      new Promise<void>((resolve, reject) =>
        pack.entry(header, data as Buffer | undefined, (e) => e ? reject(e) : resolve())
      );
    const walk = async (rel: string): Promise<void> => {
      const entries = [...Deno.readDirSync(rel === "" ? dir : `${dir}/${rel}`)].map((e) => e.name).sort();
      for (const name of entries) {
        const path = rel === "" ? name : `${rel}/${name}`;
        const full = `${dir}/${path}`;
        const info = Deno.lstatSync(full);
        const header: tar.Headers = {
          name: path,
          mode: info.mode! & 0o7777,
          uid: info.uid!,
          gid: info.gid!,
          mtime: info.mtime ?? new Date(0),
        };
        const key = `${info.dev}:${info.ino}`;
        if (info.isFile && info.nlink! > 1 && links.has(key)) {
          await add({ ...header, type: "link", linkname: links.get(key) });
        } else if (info.isFile) {
          if (info.nlink! > 1) links.set(key, path);
          await add({ ...header, type: "file", size: info.size }, Deno.readFileSync(full));
        } else if (info.isDirectory) {
          await add({ ...header, name: `${path}/`, type: "directory" });
          if (!hollow.includes(path)) await walk(path);
        } else if (info.isSymlink) {
          await add({ ...header, type: "symlink", linkname: Deno.readLinkSync(full) });
        } else if (info.isCharDevice || info.isBlockDevice || info.isFifo) {
          const rdev = info.rdev!;
          await add({
            ...header,
            type: info.isFifo ? "fifo" : info.isCharDevice ? "character-device" : "block-device",
            devmajor: ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff),
            devminor: (rdev & 0xff) | ((rdev >> 12) & ~0xff),
          });
        }
        // Sockets are not archived (as tar does).
      }
    };
    await walk("");
    pack.finalize();
  })().catch((e) => pack.destroy(e));
  return Readable.toWeb(pack) as ReadableStream<Uint8Array>;
}
