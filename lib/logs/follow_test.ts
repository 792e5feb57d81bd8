import { deepEqual } from "node:assert/strict";
import { follow } from "./follow.ts";
import type { LogLine } from "./read.ts";
import { encodeRecords, LOG_FILE, type LogRecord, ROTATED_LOG_FILE } from "./record.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const out = (time: bigint, data: string): LogRecord => ({ time, stream: "stdout", data: text(data) });
const err = (time: bigint, data: string): LogRecord => ({ time, stream: "stderr", data: text(data) });
const brief = (l: LogLine) => `${l.time} ${l.stream} ${str(l.data)}${l.newline ? "" : " (no newline)"}`;
const tick = () => new Promise((r) => setTimeout(r, 30));

/** Appends bytes as the monitor does (O_APPEND). */
async function append(path: string, bytes: Uint8Array) {
  await Deno.writeFile(path, bytes, { append: true });
}

/** Collects what `follow` yields in the background; `lines` grows as it goes. */
function collect(gen: AsyncGenerator<LogLine>) {
  const lines: string[] = [];
  const done = (async () => {
    for await (const line of gen) lines.push(brief(line));
  })();
  return { lines, done };
}

async function until(fn: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (fn()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("follow: the tail, new lines as they come, across a rotation, until the exit", async () => {
  const dir = await Deno.makeTempDir();
  const log = `${dir}/${LOG_FILE}`;
  try {
    await Deno.writeFile(`${dir}/${ROTATED_LOG_FILE}`, encodeRecords([out(1n, "old1\nold2\n")]));
    await Deno.writeFile(log, encodeRecords([out(2n, "old3\n"), err(3n, "part")]));
    let exited = false;
    const { lines, done } = collect(follow(dir, { tail: 2, exited: () => exited, interval: 10 }));
    await until(() => lines.length === 2, "the history");
    deepEqual(lines, ["1 stdout old2", "2 stdout old3"]);

    // A record written in two pieces (a reader can see the first alone) completes the stderr line.
    const next = encodeRecords([err(4n, "ial\n"), out(5n, "new1\n")]);
    await append(log, next.subarray(0, 10));
    await tick();
    await append(log, next.subarray(10));
    await until(() => lines.length === 4, "the new lines");
    deepEqual(lines.slice(2), ["3 stderr partial", "5 stdout new1"]);

    // The monitor rotates: container.log becomes container.log.1 (after a last record), a new one starts.
    await append(log, encodeRecords([out(6n, "before rotation\n")]));
    await Deno.rename(log, `${dir}/${ROTATED_LOG_FILE}`);
    await Deno.writeFile(log, encodeRecords([out(7n, "after rotation\nno newline")]));
    await until(() => lines.length === 6, "the lines around the rotation");
    deepEqual(lines.slice(4), ["6 stdout before rotation", "7 stdout after rotation"]);

    await append(log, encodeRecords([err(8n, "last\n")]));
    exited = true;
    await done;
    deepEqual(lines.slice(6), ["8 stderr last", "7 stdout no newline (no newline)"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("follow: waits for a log that does not exist yet; since filters; an abort ends it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const abort = new AbortController();
    const { lines, done } = collect(
      follow(dir, { since: new Date(2), exited: () => false, interval: 10, signal: abort.signal }),
    );
    await tick();
    await Deno.writeFile(`${dir}/${LOG_FILE}`, encodeRecords([out(1_000_000n, "early\n")]));
    await append(`${dir}/${LOG_FILE}`, encodeRecords([out(2_000_000n, "on time\n")]));
    await until(() => lines.length === 1, "the line");
    abort.abort();
    await done;
    deepEqual(lines, ["2000000 stdout on time"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("follow: a container that already exited gives its whole log and ends", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/${LOG_FILE}`, encodeRecords([out(1n, "a\nb")]));
    const lines = [];
    for await (const line of follow(dir, { exited: () => Promise.resolve(true) })) lines.push(brief(line));
    deepEqual(lines, ["1 stdout a", "1 stdout b (no newline)"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
