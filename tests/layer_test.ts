/**
 * Layer extraction as root: whiteouts and opaque directories in overlayfs's form, hard and symbolic links,
 * device nodes, owners and modes; entries that would escape the layer are refused. Layers are written here
 * with tar-stream, so that they can hold what GNU tar would not write.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { Readable } from "node:stream";
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { cstring } from "../ffi/libc.ts";
import { ptr, sys } from "../ffi/native.ts";
import { extractLayer } from "../lib/image/layer.ts";

type Entry = tar.Headers & { body?: string };

async function layer(dir: string, entries: Entry[]): Promise<string> {
  const pack = tar.pack();
  for (const { body, ...header } of entries) pack.entry(header, body);
  pack.finalize();
  const path = `${dir}/layer.tar`;
  await Readable.toWeb(pack).pipeTo((await Deno.open(path, { write: true, create: true })).writable);
  return path;
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "husk-layer-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("layer: whiteouts, opaque directories, links, devices, owners and modes", () =>
  withDir(async (dir) => {
    const blob = await layer(dir, [
      { name: "./", type: "directory", mode: 0o755 },
      { name: "bin/", type: "directory", mode: 0o755 },
      { name: "bin/tool", body: "#!/bin/sh\n", mode: 0o4755, uid: 1000, gid: 100 },
      { name: "bin/same", type: "link", linkname: "bin/tool" },
      { name: "bin/sh", type: "symlink", linkname: "/bin/tool" },
      { name: "etc/.wh.motd", body: "" },
      { name: "var/cache/.wh..wh..opq", body: "" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "dev/loop9", type: "block-device", devmajor: 7, devminor: 9, mode: 0o660 },
      { name: "run/fifo", type: "fifo", mode: 0o600 },
      { name: "tmp/", type: "directory", mode: 0o1777 },
      { name: "etc/twice", body: "first" },
      { name: "etc/twice", body: "second", mode: 0o600 },
    ]);
    const out = `${dir}/out`;
    await Deno.mkdir(out);
    const { diffId, size } = await extractLayer((await Deno.open(blob)).readable, out);
    ok(diffId.startsWith("sha256:") && size === (await Deno.stat(blob)).size);
    const tool = await Deno.lstat(`${out}/bin/tool`);
    deepEqual([tool.mode! & 0o7777, tool.uid, tool.gid], [0o4755, 1000, 100]);
    equal((await Deno.lstat(`${out}/bin/same`)).ino, tool.ino, "a hard link");
    equal(await Deno.readLink(`${out}/bin/sh`), "/bin/tool");
    const whiteout = await Deno.lstat(`${out}/etc/motd`);
    ok(whiteout.isCharDevice && whiteout.rdev === 0, "a whiteout is a 0/0 character device");
    const value = new Uint8Array(4);
    const [path, name] = [cstring(`${out}/var/cache`), cstring("trusted.overlay.opaque")];
    const got = sys("lgetxattr", "lgetxattr", ptr(path), ptr(name), ptr(value), value.length);
    equal(new TextDecoder().decode(value.subarray(0, got)), "y", "an opaque directory");
    const nul = await Deno.lstat(`${out}/dev/null`);
    ok(nul.isCharDevice && nul.rdev === 0x103);
    ok((await Deno.lstat(`${out}/dev/loop9`)).isBlockDevice);
    ok((await Deno.lstat(`${out}/run/fifo`)).isFifo);
    equal((await Deno.stat(`${out}/tmp`)).mode! & 0o7777, 0o1777);
    equal(await Deno.readTextFile(`${out}/etc/twice`), "second", "a later entry replaces an earlier one");
    equal((await Deno.stat(`${out}/etc/twice`)).mode! & 0o777, 0o600);
  }));

Deno.test("layer: a directory replaced by a link keeps its mode to itself (chmod never follows the link)", () =>
  withDir(async (dir) => {
    const victim = `${dir}/victim`;
    await Deno.mkdir(victim, { mode: 0o700 });
    await Deno.chmod(victim, 0o700);
    const blob = await layer(dir, [
      { name: "d/", type: "directory", mode: 0o777 },
      { name: "d", type: "symlink", linkname: victim },
    ]);
    await Deno.mkdir(`${dir}/out`);
    await extractLayer((await Deno.open(blob)).readable, `${dir}/out`);
    equal((await Deno.stat(victim)).mode! & 0o777, 0o700, "the link's target is untouched");
    equal(await Deno.readLink(`${dir}/out/d`), victim);
  }));

Deno.test("layer: entries escaping the layer directory are refused", async (t) => {
  const cases: [string, Entry[], RegExp][] = [
    ["a ../ path", [{ name: "../escaped", body: "x" }], /refusing layer entry "..\/escaped": it escapes/],
    [
      "an absolute hard link",
      [{ name: "x", type: "link", linkname: "/etc/passwd" }],
      /refusing hard link "x"/,
    ],
    ["a hard link out through ..", [{ name: "x", type: "link", linkname: "../../etc/passwd" }], /escapes/],
    [
      "a file under a symbolic link",
      [{ name: "up", type: "symlink", linkname: "/tmp" }, { name: "up/planted", body: "x" }],
      /refusing layer entry "up\/planted": its parent up is not a directory/,
    ],
    [
      "a hard link through a symbolic link",
      [{ name: "up", type: "symlink", linkname: "/etc" }, { name: "x", type: "link", linkname: "up/passwd" }],
      /refusing hard link "x": its target's parent up is not a directory/,
    ],
    [
      "a directory replaced by a link while a file in it is written, then written through",
      [
        { name: "d/", type: "directory" },
        { name: "d/husk-escape-probe", body: "x".repeat(100_000) },
        { name: "d", type: "symlink", linkname: "/tmp" },
        { name: "d/planted", body: "x" },
      ],
      /refusing layer entry "d\/planted": its parent d is not a directory/,
    ],
    [
      "a whiteout under a symbolic link",
      [{ name: "up", type: "symlink", linkname: "/etc" }, { name: "up/.wh.passwd", body: "" }],
      /its parent up is not a directory/,
    ],
  ];
  for (const [what, entries, error] of cases) {
    await t.step(what, () =>
      withDir(async (dir) => {
        const blob = await layer(dir, entries);
        await Deno.mkdir(`${dir}/out`);
        await rejects(extractLayer((await Deno.open(blob)).readable, `${dir}/out`), error);
        await rejects(Deno.lstat(`${dir}/escaped`), Deno.errors.NotFound);
        await rejects(Deno.lstat("/tmp/planted"), Deno.errors.NotFound);
        await rejects(Deno.lstat("/tmp/husk-escape-probe"), Deno.errors.NotFound);
      }));
  }
});

Deno.test("layer: a large file (written as it comes) keeps its content, owner, mode and time; a link to it", () =>
  withDir(async (dir) => {
    // 20 MiB whose every 64 KiB differs, so that a piece written twice, late or out of place shows.
    const big = new Uint8Array(20 * 1024 * 1024 + 4321);
    for (let at = 0; at < big.length; at += 65536) {
      crypto.getRandomValues(big.subarray(at, Math.min(at + 1024, big.length)));
      big.subarray(at + 1024, at + 65536).fill((at >> 16) & 0xff);
    }
    const mtime = new Date("2022-02-03T04:05:06Z");
    const pack = tar.pack();
    pack.entry({ name: "data/model.bin" }, "an earlier, small version");
    pack.entry(
      { name: "data/model.bin", size: big.length, mode: 0o640, uid: 7, gid: 8, mtime },
      Buffer.from(big),
    );
    pack.entry({ name: "data/again.bin", type: "link", linkname: "data/model.bin" });
    pack.entry({ name: "data/after", mode: 0o600 }, "after the large file\n");
    pack.finalize();
    const blob = `${dir}/layer.tar.gz`;
    const gzip = new CompressionStream("gzip");
    await Readable.toWeb(pack).pipeThrough(gzip as never).pipeTo(
      (await Deno.open(blob, { write: true, create: true })).writable,
    );
    const out = `${dir}/out`;
    await Deno.mkdir(out);
    await extractLayer((await Deno.open(blob)).readable, out);
    deepEqual(await Deno.readFile(`${out}/data/model.bin`), big);
    const info = await Deno.lstat(`${out}/data/model.bin`);
    deepEqual([info.mode! & 0o7777, info.uid, info.gid, info.mtime?.getTime()], [
      0o640,
      7,
      8,
      mtime.getTime(),
    ]);
    equal((await Deno.lstat(`${out}/data/again.bin`)).ino, info.ino, "a hard link to the large file");
    equal(await Deno.readTextFile(`${out}/data/after`), "after the large file\n");
  }));
