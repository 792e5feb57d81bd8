import { deepEqual, equal, rejects } from "node:assert/strict";
import { writeNewFile } from "./file.ts";

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
