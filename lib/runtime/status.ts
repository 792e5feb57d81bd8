/**
 * A container's state as it is now, not as last written: a detached container's monitor leaves an exit
 * record when the container ends, and a process can be gone without anyone having written so (a killed
 * monitor, a crash). Reading a record through here turns both into "exited".
 */
import { decodeWaitStatus } from "../../ffi/process.ts";
import { isSameProcess } from "../state/liveness.ts";
import { containerDir, type StatePaths } from "../state/paths.ts";
import { type ContainerRecord, listRecords, readRecord } from "../state/store.ts";
import { exitCodeOf, type ExitResult, finishContainer } from "./container.ts";

/** The exit the monitor recorded: {u64 nanoseconds since the epoch, i32 wait status}, or null. */
export function readExitRecord(dir: string): { finishedAt: Date; exitCode: number | null } | null {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`${dir}/exit`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  if (bytes.length < 12) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const status = view.getInt32(8, true);
  return {
    finishedAt: new Date(Number(view.getBigUint64(0, true) / 1_000_000n)),
    exitCode: status < 0 ? null : exitCodeOf(decodeWaitStatus(status)),
  };
}

/** Brings a running record up to date; returns it as it is now (null once --rm removed it). */
export function refresh(paths: StatePaths, record: ContainerRecord): ContainerRecord | null {
  if (record.state.status !== "running") return record;
  const exit = readExitRecord(containerDir(paths, record.config.id));
  if (exit === null && isSameProcess(record.state.pid, record.state.pidStartTime)) return record;
  finishContainer(paths, record.config.id, exit ?? { exitCode: null, finishedAt: new Date() });
  try {
    return readRecord(paths, record.config.id);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Every container, up to date. */
export function currentRecords(paths: StatePaths): ContainerRecord[] {
  return listRecords(paths).map((r) => refresh(paths, r)).filter((r): r is ContainerRecord => r !== null);
}

/** Waits until a container is no longer running; its exit code (null when nobody saw it). */
export async function waitForExit(paths: StatePaths, id: string): Promise<ExitResult> {
  const dir = containerDir(paths, id);
  for (;;) {
    // The exit record is read first: with --rm, the record and its directory go soon after it appears.
    const exit = readExitRecord(dir);
    let record: ContainerRecord | null;
    try {
      record = refresh(paths, readRecord(paths, id));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      record = null;
    }
    if (record === null) return { exitCode: exit?.exitCode ?? null };
    if (record.state.status !== "running") return { exitCode: record.state.exitCode };
    await new Promise((r) => setTimeout(r, 20));
  }
}
