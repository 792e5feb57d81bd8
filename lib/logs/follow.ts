/**
 * `husk logs -f`: the log's lines so far, then new ones as the monitor appends them, until the container
 * has exited. The log is polled (a read at the end of the open file, then a stat of container.log to notice a
 * rotation) every `interval` ms while nothing new comes; it is cheaper and more predictable than inotify
 * for one file, and works on any file system.
 */
import {
  LineSplitter,
  type LogLine,
  openIfExists,
  openLogFiles,
  readToEnd,
  selectLines,
  sinceNs,
} from "./read.ts";
import { concat, LOG_FILE, type LogRecord, parseRecords } from "./record.ts";

export interface FollowOptions {
  /** Of the lines already there, only the last N (all when absent or negative). */
  tail?: number;
  /** Only lines at or after this time. */
  since?: Date;
  /**
   * Whether the container has exited and its output is all in the log; once true, `follow` reads what is
   * left, yields the unfinished lines and ends. `exitRecorded(dir)` (exit.ts) is the right test for a
   * monitored container: the monitor writes its exit record only after the last of the output.
   */
  exited: () => boolean | Promise<boolean>;
  /** ms between two looks when nothing new came; default 100. */
  interval?: number;
  /** Ends the generator early (e.g. on Ctrl-C). */
  signal?: AbortSignal;
}

/** Yields the log's lines, then each new line as it is completed (in the order they were completed). */
export async function* follow(dir: string, options: FollowOptions): AsyncGenerator<LogLine> {
  const interval = options.interval ?? 100;
  const since = sinceNs(options.since);
  const splitter = new LineSplitter();
  const source = new LogSource(dir);
  try {
    const history: LogLine[] = [];
    for (const record of await source.start()) history.push(...splitter.push(record));
    yield* selectLines(history, { tail: options.tail, since: options.since });
    for (;;) {
      if (options.signal?.aborted) return;
      // Asked before reading: everything written before the exit was recorded is then in this read.
      const exited = await options.exited();
      const records = await source.poll();
      for (const record of records) {
        for (const line of splitter.push(record)) if (since === undefined || line.time >= since) yield line;
      }
      if (exited) {
        for (const line of splitter.flush()) if (since === undefined || line.time >= since) yield line;
        return;
      }
      if (records.length === 0) await sleep(interval, options.signal);
    }
  } finally {
    source.close();
  }
}

/**
 * The log as a stream of records: holds container.log open and reads on from where it stopped. When
 * container.log is another file (the monitor rotated it), the rest of the open one is read, then the new one
 * from its start. Two rotations between two looks would lose the file in between (it was replaced); at the
 * default interval that takes a maximum log size written in 100 ms.
 */
class LogSource {
  #dir: string;
  #path: string;
  #file: Deno.FsFile | null = null;
  #ino: number | null = null;
  /** The start of a record still being written. */
  #rest = new Uint8Array();
  /** The open file has a corrupt record: its remaining bytes are skipped. */
  #corrupt = false;

  constructor(dir: string) {
    this.#dir = dir;
    this.#path = `${dir}/${LOG_FILE}`;
  }

  /** The records already there: container.log.1 and container.log, which stays open. */
  async start(): Promise<LogRecord[]> {
    const { rotated, current } = await openLogFiles(this.#dir);
    const records: LogRecord[] = [];
    if (rotated) {
      try {
        records.push(...parseRecords(await readToEnd(rotated)).records);
      } finally {
        rotated.close();
      }
    }
    // No container.log yet (the monitor has not started): poll() opens it once it appears.
    if (current) await this.#switchTo(current);
    records.push(...await this.#read());
    return records;
  }

  /** New records since the last call. */
  async poll(): Promise<LogRecord[]> {
    const records = await this.#read();
    for (;;) {
      const ino = await inode(this.#path);
      if (ino === null || ino === this.#ino) return records;
      // A new container.log: the monitor writes no more to the open one, so its end is final.
      records.push(...await this.#read());
      const file = await openIfExists(this.#path);
      if (!file) return records;
      await this.#switchTo(file);
      records.push(...await this.#read());
    }
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  async #switchTo(file: Deno.FsFile): Promise<void> {
    this.close();
    this.#file = file;
    this.#ino = (await file.stat()).ino;
    this.#rest = new Uint8Array();
    this.#corrupt = false;
  }

  async #read(): Promise<LogRecord[]> {
    if (!this.#file) return [];
    const bytes = await readToEnd(this.#file);
    if (bytes.length === 0 || this.#corrupt) return [];
    const all = this.#rest.length ? concat([this.#rest, bytes]) : bytes;
    const parsed = parseRecords(all);
    this.#corrupt = parsed.corrupt;
    // Copy the incomplete record's bytes: `all` may be a large buffer it would otherwise keep alive.
    this.#rest = parsed.corrupt ? new Uint8Array() : all.slice(parsed.consumed);
    return parsed.records;
  }
}

async function inode(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).ino;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
