/** What the lifecycle commands share: finding containers by name or ID prefix, up to date. */
import { lookup } from "../state/lookup.ts";
import type { StatePaths } from "../state/paths.ts";
import type { ContainerRecord } from "../state/store.ts";
import { currentRecords } from "../runtime/status.ts";

/** The up-to-date record of the container `ref` names (name, ID or unique ID prefix). */
export function findContainer(paths: StatePaths, ref: string): ContainerRecord {
  const records = currentRecords(paths);
  const found = lookup(records.map((r) => ({ id: r.config.id, name: r.config.name, record: r })), ref);
  return found.record;
}

/**
 * Runs `action` for each reference, as Docker does for `stop a b c`: a failure is reported and the others go
 * on; the exit code is 1 if any failed.
 */
export async function forEachRef(
  refs: readonly string[],
  action: (ref: string) => Promise<void> | void,
  report: (message: string) => void,
): Promise<number> {
  let code = 0;
  for (const ref of refs) {
    try {
      await action(ref);
    } catch (e) {
      report((e as Error).message);
      code = 1;
    }
  }
  return code;
}
