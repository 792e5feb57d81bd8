/**
 * A detached container's log as lines, for `husk logs`: container.log.1 then container.log, records split
 * on "\n". A line written in pieces continues into the next record of the same stream, and keeps the time of
 * the record where it started. Lines come in the order they were completed; a last line without "\n" comes
 * at the end.
 */
import { concat, LOG_FILE, type LogRecord, parseRecords, ROTATED_LOG_FILE, type Stream } from "./record.ts";

export interface LogLine {
  /** ns since the epoch: when the monitor read the line's first byte. */
  time: bigint;
  stream: Stream;
  /** Without its "\n". */
  data: Uint8Array;
  /** false for a last line that never got its "\n". */
  newline: boolean;
}

export interface ReadOptions {
  /** Only the last N lines (after `since`); all when absent or negative. */
  tail?: number;
  /** Only lines at or after this time (Docker's `--since`). */
  since?: Date;
}

export interface FormatOptions {
  /** Prefix each line with its time, RFC 3339 with nanoseconds (Docker's `-t`). */
  timestamps?: boolean;
}

/** Turns records into lines, keeping each stream's unfinished line until its "\n" comes. */
export class LineSplitter {
  #pending: Record<Stream, { time: bigint; parts: Uint8Array[] } | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };

  /** The lines that `record` completes. */
  push(record: LogRecord): LogLine[] {
    const lines: LogLine[] = [];
    const { stream, data } = record;
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      const pending = this.#pending[stream];
      const piece = data.subarray(start, nl);
      lines.push({
        time: pending?.time ?? record.time,
        stream,
        data: pending ? concat([...pending.parts, piece]) : piece,
        newline: true,
      });
      this.#pending[stream] = undefined;
      start = nl + 1;
    }
    if (start < data.length) {
      const rest = data.subarray(start);
      const pending = this.#pending[stream];
      if (pending) pending.parts.push(rest);
      else this.#pending[stream] = { time: record.time, parts: [rest] };
    }
    return lines;
  }

  /** The unfinished lines (the log ended without their "\n"), oldest first; forgets them. */
  flush(): LogLine[] {
    const lines: LogLine[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      const pending = this.#pending[stream];
      if (pending) lines.push({ time: pending.time, stream, data: concat(pending.parts), newline: false });
      this.#pending[stream] = undefined;
    }
    return lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  }
}

/** The lines of the log in `dir` (none when there is no log). */
export async function readLogLines(dir: string, options: ReadOptions = {}): Promise<LogLine[]> {
  const { rotated, current } = await openLogFiles(dir);
  const files = [rotated, current].filter((f): f is Deno.FsFile => f !== null);
  const splitter = new LineSplitter();
  const lines: LogLine[] = [];
  try {
    for (const file of files) {
      for (const record of parseRecords(await readToEnd(file)).records) lines.push(...splitter.push(record));
    }
  } finally {
    for (const file of files) file.close();
  }
  lines.push(...splitter.flush());
  return selectLines(lines, options);
}

/** `since`, then `tail`. */
export function selectLines(lines: LogLine[], options: ReadOptions): LogLine[] {
  const since = sinceNs(options.since);
  const kept = since === undefined ? lines : lines.filter((l) => l.time >= since);
  const tail = options.tail;
  if (tail === undefined || tail < 0 || tail >= kept.length) return kept;
  return tail === 0 ? [] : kept.slice(-tail);
}

export function sinceNs(since: Date | undefined): bigint | undefined {
  return since === undefined ? undefined : BigInt(since.getTime()) * 1_000_000n;
}

/** `2026-11-23T13:00:00.123456789Z`: UTC, always nine digits of fraction (Docker's RFC3339NanoFixed). */
export function formatTimestamp(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0");
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

const encoder = new TextEncoder();

/** The bytes to print for a line: its data, with the time first when asked, and its "\n" if it had one. */
export function formatLine(line: LogLine, options: FormatOptions = {}): Uint8Array {
  const prefix = options.timestamps ? encoder.encode(`${formatTimestamp(line.time)} `) : new Uint8Array();
  const suffix = line.newline ? new Uint8Array([10]) : new Uint8Array();
  return concat([prefix, line.data, suffix]);
}

/**
 * Opens container.log.1 and container.log (null for a missing one). Opening the current log first means a
 * rotation in between is noticed (the rotated file is then the one already open, and the one before it is
 * gone); once open, the files read whole whatever is renamed afterwards.
 */
export async function openLogFiles(
  dir: string,
): Promise<{ rotated: Deno.FsFile | null; current: Deno.FsFile | null }> {
  const current = await openIfExists(`${dir}/${LOG_FILE}`);
  const rotated = await openIfExists(`${dir}/${ROTATED_LOG_FILE}`);
  if (current && rotated && (await current.stat()).ino === (await rotated.stat()).ino) {
    rotated.close();
    return { rotated: null, current };
  }
  return { rotated, current };
}

export async function openIfExists(path: string): Promise<Deno.FsFile | null> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Reads `file` from its current position to its current end. */
export async function readToEnd(file: Deno.FsFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const chunk = new Uint8Array(64 * 1024);
    const n = await file.read(chunk);
    if (n === null) break;
    parts.push(chunk.subarray(0, n));
  }
  return parts.length === 1 ? parts[0] : concat(parts);
}
