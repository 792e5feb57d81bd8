import { deepEqual, equal, rejects } from "node:assert/strict";
import { tarEntries, TarError, type TarHeader } from "./tar.ts";

/** An archive of `dir` by GNU tar, in `format`, with `extra` options. */
function gnuTar(dir: string, format: string, extra: string[] = []): Uint8Array {
  const out = new Deno.Command("tar", {
    args: ["-c", `--format=${format}`, "--sort=name", ...extra, "-C", dir, "."],
    stdout: "piped",
  }).outputSync();
  if (!out.success) throw new Error("tar failed");
  return out.stdout;
}

/** The archive in pieces of `size` bytes (the last one shorter). */
async function* pieces(data: Uint8Array, size: number) {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

interface Read {
  header: TarHeader;
  content: string;
}

async function readAll(source: AsyncIterable<Uint8Array>, read = (_: TarHeader) => true): Promise<Read[]> {
  const entries: Read[] = [];
  for await (const entry of tarEntries(source)) {
    let content = "";
    if (read(entry.header)) {
      const decoder = new TextDecoder();
      for await (const chunk of entry.content()) content += decoder.decode(chunk, { stream: true });
    }
    entries.push({ header: entry.header, content });
  }
  return entries;
}

/** Longer than a header's name field (100 bytes), its last component not: ustar splits it into its prefix. */
const LONG = "d".repeat(60) + "/" + "n".repeat(90);

function sampleTree(): string {
  const dir = Deno.makeTempDirSync();
  Deno.mkdirSync(`${dir}/${LONG.split("/")[0]}`);
  Deno.writeTextFileSync(`${dir}/${LONG}`, "long name\n");
  Deno.writeTextFileSync(`${dir}/big`, "x".repeat(70_000));
  Deno.writeTextFileSync(`${dir}/empty`, "");
  Deno.symlinkSync("big", `${dir}/link`);
  Deno.linkSync(`${dir}/big`, `${dir}/hard`);
  Deno.symlinkSync("t".repeat(150), `${dir}/longlink`);
  Deno.chmodSync(`${dir}/empty`, 0o4751);
  Deno.utimeSync(`${dir}/empty`, 1_700_000_000, 1_700_000_000);
  return dir;
}

const summary = (entries: Read[]) =>
  entries.map(({ header: h, content }) => [h.name, h.type, h.linkname, h.size, content.length]);

Deno.test("tar: GNU, pax and ustar archives by GNU tar: names, long names, links, sizes, contents", async () => {
  const dir = sampleTree();
  try {
    for (const format of ["gnu", "pax"]) {
      const entries = await readAll(pieces(gnuTar(dir, format), 1 << 20));
      deepEqual(summary(entries), [
        ["./", "directory", null, 0, 0],
        ["./big", "file", null, 70_000, 70_000],
        [`./${LONG.split("/")[0]}/`, "directory", null, 0, 0],
        [`./${LONG}`, "file", null, 10, 10],
        ["./empty", "file", null, 0, 0],
        ["./hard", "link", "./big", 0, 0],
        ["./link", "symlink", "big", 0, 0],
        ["./longlink", "symlink", "t".repeat(150), 0, 0],
      ], format);
      const empty = entries.find((e) => e.header.name === "./empty")!.header;
      equal(empty.mode, 0o4751);
      equal(empty.mtime.getTime(), 1_700_000_000_000);
      equal(empty.uid, Deno.uid());
      equal(entries.find((e) => e.header.name === `./${LONG}`)!.content, "long name\n");
    }
    // ustar keeps a long name in its prefix field.
    const ustar = await readAll(pieces(gnuTar(dir, "ustar", ["--exclude=./longlink"]), 4096));
    deepEqual(ustar.map((e) => e.header.name).filter((n) => n.endsWith("n")), [`./${LONG}`]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tar: the same entries whatever the pieces' sizes; unread content is skipped", async () => {
  const dir = sampleTree();
  try {
    const archive = gnuTar(dir, "pax");
    const whole = await readAll(pieces(archive, archive.length));
    for (const size of [1, 511, 512, 513, 7000]) deepEqual(await readAll(pieces(archive, size)), whole);
    const skipped = await readAll(pieces(archive, 333), (h) => h.name !== "./big");
    deepEqual(summary(skipped), summary(whole).map((e) => e[0] === "./big" ? [...e.slice(0, 4), 0] : e));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tar: large ids in base 256 (GNU)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/f`, "x");
    const archive = gnuTar(dir, "gnu", ["--owner=3000000", "--group=4000000", "--numeric-owner"]);
    const f = (await readAll(pieces(archive, 1 << 20))).find((e) => e.header.name === "./f")!.header;
    equal(f.uid, 3_000_000);
    equal(f.gid, 4_000_000);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tar: a corrupt header, a foreign block, a truncated archive are errors", async () => {
  const dir = sampleTree();
  try {
    const archive = gnuTar(dir, "gnu");
    const corrupt = archive.slice();
    corrupt[512 + 10] ^= 0xff; // the second entry's header ("./" has no content)
    await rejects(readAll(pieces(corrupt, 4096)), (e) => e instanceof TarError && /checksum/.test(e.message));
    await rejects(
      readAll(pieces(new TextEncoder().encode("x".repeat(1024)), 4096)),
      (e) => e instanceof TarError && /checksum/.test(e.message),
    );
    // Inside the content of "./big" (its header is the second block), on a block boundary and off one.
    for (const end of [512 * 2 + 512 * 10, 512 * 2 + 30_001, 700]) {
      await rejects(readAll(pieces(archive.subarray(0, end), 4096)), /unexpected end of tar data/);
    }
    // Zero blocks alone are an empty archive.
    deepEqual(await readAll(pieces(new Uint8Array(2048), 100)), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
