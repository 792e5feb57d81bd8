/**
 * The binary log a detached container's monitor (ffi/x86_64/monitor.S) writes in its directory:
 * container.log, and container.log.1 before it once the log was rotated. A sequence of records, little
 * endian:
 *
 *   u64 time (ns since the epoch) | u32 length | u8 stream (1 stdout, 2 stderr) | 3 zero bytes | payload
 *
 * where the payload is what one read() of the container's output returned (at most 64 KiB).
 */

export const LOG_FILE = "container.log";
export const ROTATED_LOG_FILE = "container.log.1";
export const RECORD_HEADER_SIZE = 16;
/** The monitor reads at most this much at a time. */
export const MAX_PAYLOAD = 65536;

export type Stream = "stdout" | "stderr";

export interface LogRecord {
  /** When the monitor read it: ns since the epoch. */
  time: bigint;
  stream: Stream;
  data: Uint8Array;
}

export interface ParsedRecords {
  records: LogRecord[];
  /** Bytes taken by whole records; what follows is a record still being written (or corrupt). */
  consumed: number;
  /** The bytes at `consumed` are not a record header (a corrupt log): nothing after them can be trusted. */
  corrupt: boolean;
}

const STREAMS: Record<number, Stream> = { 1: "stdout", 2: "stderr" };

/** Parses whole records from the start of `bytes`. The records' data are views into `bytes`, not copies. */
export function parseRecords(bytes: Uint8Array): ParsedRecords {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: LogRecord[] = [];
  let at = 0;
  while (bytes.length - at >= RECORD_HEADER_SIZE) {
    const length = view.getUint32(at + 8, true);
    const stream = STREAMS[bytes[at + 12]];
    if (!stream || length > MAX_PAYLOAD || bytes[at + 13] | bytes[at + 14] | bytes[at + 15]) {
      return { records, consumed: at, corrupt: true };
    }
    const end = at + RECORD_HEADER_SIZE + length;
    if (end > bytes.length) break;
    records.push({
      time: view.getBigUint64(at, true),
      stream,
      data: bytes.subarray(at + RECORD_HEADER_SIZE, end),
    });
    at = end;
  }
  return { records, consumed: at, corrupt: false };
}

/** One record in the monitor's format (for tests and tools). */
export function encodeRecord(record: LogRecord): Uint8Array {
  if (record.data.length > MAX_PAYLOAD) throw new RangeError(`a record holds at most ${MAX_PAYLOAD} bytes`);
  const out = new Uint8Array(RECORD_HEADER_SIZE + record.data.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, record.time, true);
  view.setUint32(8, record.data.length, true);
  out[12] = record.stream === "stdout" ? 1 : 2;
  out.set(record.data, RECORD_HEADER_SIZE);
  return out;
}

/** Several records, concatenated. */
export function encodeRecords(records: readonly LogRecord[]): Uint8Array {
  return concat(records.map(encodeRecord));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
