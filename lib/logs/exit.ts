/**
 * The exit record a detached container's monitor writes (atomically: exit.tmp renamed) once it reaped the
 * container, after the container's output is all in the log: 16 bytes, little endian,
 *
 *   u64 time (ns since the epoch) | i32 raw wait status (-1: there was no child to wait for) | u32 0
 */

export const EXIT_FILE = "exit";
export const EXIT_RECORD_SIZE = 16;

export interface ExitRecord {
  finishedAt: Date;
  /** The same moment to the nanosecond. */
  finishedAtNs: bigint;
  /** As wait4() returned it; -1 when the monitor had no child to wait for. */
  status: number;
}

export function parseExit(bytes: Uint8Array): ExitRecord {
  if (bytes.length !== EXIT_RECORD_SIZE) {
    throw new Error(`an exit record has ${EXIT_RECORD_SIZE} bytes, not ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const finishedAtNs = view.getBigUint64(0, true);
  return {
    finishedAt: new Date(Number(finishedAtNs / 1_000_000n)),
    finishedAtNs,
    status: view.getInt32(8, true),
  };
}

/** The exit record in `dir`, or null while there is none (the container runs, or its monitor was killed). */
export function readExitSync(dir: string): ExitRecord | null {
  try {
    return parseExit(Deno.readFileSync(`${dir}/${EXIT_FILE}`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Whether the monitor recorded the exit, i.e. the log is complete: the `exited` predicate of `follow`.
 */
export async function exitRecorded(dir: string): Promise<boolean> {
  try {
    await Deno.lstat(`${dir}/${EXIT_FILE}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Docker's exit code for a raw wait status: the process's own code, or 128 + N when signal N killed it.
 * null when the status says neither (-1: nobody could wait for the process; a stop or continue report).
 */
export function exitCodeFromStatus(status: number): number | null {
  const signal = status & 0x7f;
  if (signal === 0) return (status >> 8) & 0xff;
  if (signal === 0x7f || status === 0xffff) return null;
  return 128 + signal;
}
