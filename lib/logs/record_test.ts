import { deepEqual, equal, throws } from "node:assert/strict";
import { encodeRecord, encodeRecords, type LogRecord, parseRecords, RECORD_HEADER_SIZE } from "./record.ts";

const text = (s: string) => new TextEncoder().encode(s);
const rec = (time: bigint, stream: "stdout" | "stderr", data: string): LogRecord => ({
  time,
  stream,
  data: text(data),
});

Deno.test("encodeRecord: the monitor's 16-byte header, then the payload", () => {
  const bytes = encodeRecord(rec(0x0102030405060708n, "stderr", "hi"));
  deepEqual(Array.from(bytes), [8, 7, 6, 5, 4, 3, 2, 1, 2, 0, 0, 0, 2, 0, 0, 0, 0x68, 0x69]);
  equal(encodeRecord(rec(1n, "stdout", ""))[12], 1);
});

Deno.test("parseRecords: reads back what was encoded, the data as views", () => {
  const records = [rec(1n, "stdout", "one\n"), rec(2n, "stderr", "two"), rec(3n, "stdout", "")];
  const bytes = encodeRecords(records);
  const parsed = parseRecords(bytes);
  deepEqual(parsed.records, records);
  equal(parsed.consumed, bytes.length);
  equal(parsed.corrupt, false);
  equal(parsed.records[0].data.buffer, bytes.buffer);
});

Deno.test("parseRecords: a record still being written is left for later", () => {
  const whole = encodeRecords([rec(1n, "stdout", "a"), rec(2n, "stdout", "bcd")]);
  const first = RECORD_HEADER_SIZE + 1;
  for (const cut of [first, first + 5, first + RECORD_HEADER_SIZE, whole.length - 1]) {
    const parsed = parseRecords(whole.subarray(0, cut));
    deepEqual(parsed.records, [rec(1n, "stdout", "a")]);
    equal(parsed.consumed, first);
    equal(parsed.corrupt, false);
  }
  deepEqual(parseRecords(new Uint8Array()), { records: [], consumed: 0, corrupt: false });
});

Deno.test("parseRecords: stops at a header that cannot be one", () => {
  const good = encodeRecord(rec(1n, "stdout", "ok"));
  for (
    const spoil of [
      (h: Uint8Array) => h[12] = 3, // unknown stream
      (h: Uint8Array) => h[14] = 1, // padding not zero
      (h: Uint8Array) => new DataView(h.buffer).setUint32(8, 65537, true), // longer than one read
    ]
  ) {
    const bad = encodeRecord(rec(2n, "stderr", "xx"));
    spoil(bad);
    const parsed = parseRecords(new Uint8Array([...good, ...bad]));
    deepEqual(parsed.records, [rec(1n, "stdout", "ok")]);
    equal(parsed.consumed, good.length);
    equal(parsed.corrupt, true);
  }
});

Deno.test("encodeRecord: refuses more than one read's worth", () => {
  throws(() => encodeRecord({ time: 0n, stream: "stdout", data: new Uint8Array(65537) }), RangeError);
});
