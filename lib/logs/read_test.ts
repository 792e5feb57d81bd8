import { deepEqual, equal } from "node:assert/strict";
import {
  formatLine,
  formatTimestamp,
  LineSplitter,
  type LogLine,
  readLogLines,
  selectLines,
} from "./read.ts";
import { encodeRecords, LOG_FILE, type LogRecord, ROTATED_LOG_FILE } from "./record.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const out = (time: bigint, data: string): LogRecord => ({ time, stream: "stdout", data: text(data) });
const err = (time: bigint, data: string): LogRecord => ({ time, stream: "stderr", data: text(data) });
/** [time, stream, text, newline] per line, for short assertions. */
const brief = (lines: LogLine[]) => lines.map((l) => [l.time, l.stream, str(l.data), l.newline]);

Deno.test("LineSplitter: splits on \\n, a piece without one continues in the stream's next record", () => {
  const s = new LineSplitter();
  deepEqual(brief(s.push(out(1n, "a\nb\n\nc"))), [[1n, "stdout", "a", true], [1n, "stdout", "b", true], [
    1n,
    "stdout",
    "",
    true,
  ]]);
  deepEqual(brief(s.push(err(2n, "E1\nE"))), [[2n, "stderr", "E1", true]]);
  deepEqual(brief(s.push(out(3n, "on"))), []);
  // The line started in the record of time 1 keeps that time.
  deepEqual(brief(s.push(out(4n, "tinued\nd\n"))), [[1n, "stdout", "continued", true], [
    4n,
    "stdout",
    "d",
    true,
  ]]);
  deepEqual(brief(s.push(err(5n, "2\n"))), [[2n, "stderr", "E2", true]]);
  deepEqual(brief(s.flush()), []);
});

Deno.test("LineSplitter: flush gives the unfinished lines, oldest first, once", () => {
  const s = new LineSplitter();
  s.push(err(1n, "prompt> "));
  s.push(out(2n, "50%"));
  s.push(out(3n, "..."));
  deepEqual(brief(s.flush()), [[1n, "stderr", "prompt> ", false], [2n, "stdout", "50%...", false]]);
  deepEqual(s.flush(), []);
});

Deno.test("formatTimestamp: UTC, nine digits of fraction", () => {
  const ns = BigInt(Date.UTC(2026, 10, 23, 13, 0, 0)) * 1_000_000n + 123_456_789n;
  equal(formatTimestamp(ns), "2026-11-23T13:00:00.123456789Z");
  equal(formatTimestamp(ns - 123_456_789n + 5n), "2026-11-23T13:00:00.000000005Z");
});

Deno.test("formatLine: the data, its newline, and the time with timestamps", () => {
  const ns = BigInt(Date.UTC(2026, 10, 23, 13, 0, 0)) * 1_000_000n + 123_456_789n;
  const line: LogLine = { time: ns, stream: "stdout", data: text("hello"), newline: true };
  equal(str(formatLine(line)), "hello\n");
  equal(str(formatLine(line, { timestamps: true })), "2026-11-23T13:00:00.123456789Z hello\n");
  equal(str(formatLine({ ...line, newline: false })), "hello");
});

Deno.test("selectLines: since (inclusive) then tail", () => {
  const lines = [1, 2, 3, 4].map((ms): LogLine => ({
    time: BigInt(ms) * 1_000_000n,
    stream: "stdout",
    data: text(String(ms)),
    newline: true,
  }));
  const texts = (l: LogLine[]) => l.map((x) => str(x.data));
  deepEqual(texts(selectLines(lines, {})), ["1", "2", "3", "4"]);
  deepEqual(texts(selectLines(lines, { tail: 2 })), ["3", "4"]);
  deepEqual(texts(selectLines(lines, { tail: 0 })), []);
  deepEqual(texts(selectLines(lines, { tail: 9 })), ["1", "2", "3", "4"]);
  deepEqual(texts(selectLines(lines, { tail: -1 })), ["1", "2", "3", "4"]);
  deepEqual(texts(selectLines(lines, { since: new Date(2) })), ["2", "3", "4"]);
  deepEqual(texts(selectLines(lines, { since: new Date(2), tail: 1 })), ["4"]);
});

Deno.test("readLogLines: container.log.1 then container.log, a line continuing across them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    deepEqual(await readLogLines(dir), []);
    await Deno.writeFile(`${dir}/${ROTATED_LOG_FILE}`, encodeRecords([out(1n, "one\ntw"), err(2n, "e1\n")]));
    await Deno.writeFile(
      `${dir}/${LOG_FILE}`,
      encodeRecords([out(3n, "o\nthree\n"), err(4n, "e2\nunfinished")]).subarray(0, 40), // + a torn record
    );
    deepEqual(brief(await readLogLines(dir)), [
      [1n, "stdout", "one", true],
      [2n, "stderr", "e1", true],
      [1n, "stdout", "two", true],
      [3n, "stdout", "three", true],
    ]);
    await Deno.writeFile(
      `${dir}/${LOG_FILE}`,
      encodeRecords([out(3n, "o\nthree\n"), err(4n, "e2\nunfinished")]),
    );
    deepEqual(brief(await readLogLines(dir, { tail: 2 })), [
      [4n, "stderr", "e2", true],
      [4n, "stderr", "unfinished", false],
    ]);
    // Only the current file (no rotation yet).
    await Deno.remove(`${dir}/${ROTATED_LOG_FILE}`);
    deepEqual(brief(await readLogLines(dir, { tail: 1 })), [[4n, "stderr", "unfinished", false]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
