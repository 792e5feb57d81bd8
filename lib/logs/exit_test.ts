import { deepEqual, equal, throws } from "node:assert/strict";
import { EXIT_FILE, exitCodeFromStatus, exitRecorded, parseExit, readExitSync } from "./exit.ts";

function exitBytes(ns: bigint, status: number): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, ns, true);
  v.setInt32(8, status, true);
  return out;
}

Deno.test("parseExit: time in ns and the raw status", () => {
  const ns = 1_795_442_959_520_552_408n;
  const r = parseExit(exitBytes(ns, 3 << 8));
  equal(r.finishedAtNs, ns);
  equal(r.finishedAt.toISOString(), "2026-11-23T14:09:19.520Z");
  equal(r.status, 768);
  equal(parseExit(exitBytes(ns, -1)).status, -1);
  throws(() => parseExit(new Uint8Array(8)), /16 bytes, not 8/);
});

Deno.test("exitCodeFromStatus: the code, 128 + signal, or null when unknown", () => {
  equal(exitCodeFromStatus(0), 0);
  equal(exitCodeFromStatus(3 << 8), 3);
  equal(exitCodeFromStatus(255 << 8), 255);
  equal(exitCodeFromStatus(9), 137); // SIGKILL
  equal(exitCodeFromStatus(15), 143); // SIGTERM
  equal(exitCodeFromStatus(11 | 0x80), 139); // SIGSEGV with a core dump
  equal(exitCodeFromStatus(-1), null); // the monitor had no child to wait for
  equal(exitCodeFromStatus((19 << 8) | 0x7f), null); // stopped
  equal(exitCodeFromStatus(0xffff), null); // continued
});

Deno.test("readExitSync: null before the record exists, then the record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    equal(readExitSync(dir), null);
    equal(await exitRecorded(dir), false);
    await Deno.writeFile(`${dir}/${EXIT_FILE}`, exitBytes(5_000_000n, 9));
    deepEqual(readExitSync(dir), { finishedAt: new Date(5), finishedAtNs: 5_000_000n, status: 9 });
    equal(await exitRecorded(dir), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
