import { deepEqual, equal, rejects } from "node:assert/strict";
import { writeNewFile, writeNewFiles } from "./file.ts";

Deno.test("file: a new file gets its pieces in order (more pieces than one writev takes), owner, mode, time", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    // Views into one buffer, as a tar parser hands them over; some empty.
    const whole = Uint8Array.from({ length: 6000 }, (_, i) => i % 251);
    const pieces = Array.from({ length: 1500 }, (_, i) => whole.subarray(3 * i, 3 * i + (i % 7)));
    const mtime = new Date("2024-01-02T03:04:05Z");
    await writeNewFile(`${dir}/f`, pieces, { uid: Deno.uid()!, gid: Deno.gid()!, mode: 0o4750, mtime });
    const expected = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    pieces.reduce((at, p) => (expected.set(p, at), at + p.length), 0);
    deepEqual(Deno.readFileSync(`${dir}/f`), expected);
    const info = Deno.statSync(`${dir}/f`);
    equal(info.uid, Deno.uid());
    equal(info.gid, Deno.gid());
    equal(info.mode! & 0o7777, 0o4750);
    equal(info.mtime?.getTime(), mtime.getTime());
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("file: an empty file, and a file that exists already is refused", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await writeNewFile(`${dir}/empty`, [], { uid: 0, gid: 0, mode: 0o644 });
    equal(Deno.statSync(`${dir}/empty`).size, 0);
    await rejects(
      writeNewFile(`${dir}/empty`, [new Uint8Array(3)], { uid: 0, gid: 0, mode: 0o644 }),
      Deno.errors.AlreadyExists,
    );
    equal(Deno.statSync(`${dir}/empty`).size, 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("file: several new files in one call get their pieces, owner, mode and time", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const mtime = new Date("2023-05-06T07:08:09.5Z");
    const files = Array.from({ length: 40 }, (_, i) => ({
      path: `${dir}/f${i}`,
      content: [new TextEncoder().encode(`file ${i}\n`), new Uint8Array(i * 100).fill(i)],
      attrs: {
        uid: Deno.uid()!,
        gid: Deno.gid()!,
        mode: i % 2 ? 0o755 : 0o2640,
        mtime: i % 3 ? mtime : undefined,
      },
    }));
    deepEqual(await writeNewFiles(files), files.map(() => null));
    for (const [i, f] of files.entries()) {
      const data = Deno.readFileSync(f.path);
      equal(new TextDecoder().decode(data.subarray(0, `file ${i}\n`.length)), `file ${i}\n`);
      equal(data.length, `file ${i}\n`.length + i * 100);
      const info = Deno.statSync(f.path);
      equal(info.mode! & 0o7777, f.attrs.mode);
      if (f.attrs.mtime) equal(info.mtime?.getTime(), mtime.getTime());
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("file: in one call, a file that exists and one that cannot be created fail alone, no descriptor left open", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/taken`, "before");
    // What this process's descriptors point into `dir` (a count of them all would see the runtime's own).
    const openInDir = () =>
      [...Deno.readDirSync("/proc/self/fd")].map((e) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${e.name}`);
        } catch {
          return ""; // Closed meanwhile (the listing's own descriptor).
        }
      }).filter((target) => target.startsWith(`${dir}/`));
    const attrs = { uid: 0, gid: 0, mode: 0o644 };
    const content = [new TextEncoder().encode("new")];
    const failures = await writeNewFiles([
      { path: `${dir}/a`, content, attrs },
      { path: `${dir}/taken`, content, attrs },
      { path: `${dir}/missing/b`, content, attrs },
      { path: `${dir}/c`, content, attrs },
    ]);
    equal(failures[0], null);
    equal(failures[1] instanceof Deno.errors.AlreadyExists, true, String(failures[1]));
    equal(String(failures[2]), `SysError: open ${dir}/missing/b: No such file or directory`);
    equal(failures[3], null);
    equal(Deno.readTextFileSync(`${dir}/taken`), "before");
    equal(Deno.readTextFileSync(`${dir}/c`), "new");
    deepEqual(openInDir(), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("file: a time before 1970, with a fraction of a second, is kept (one file and several at once)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const mtime = new Date("1969-07-20T20:17:40.5Z");
    const attrs = { uid: Deno.uid()!, gid: Deno.gid()!, mode: 0o644, mtime };
    await writeNewFile(`${dir}/one`, [new Uint8Array(1)], attrs);
    deepEqual(await writeNewFiles([{ path: `${dir}/many`, content: [new Uint8Array(1)], attrs }]), [null]);
    for (const name of ["one", "many"]) {
      equal(Deno.statSync(`${dir}/${name}`).mtime?.getTime(), mtime.getTime());
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
