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

/** A reference's failure, as one line on stderr. */
const reportFailure = (message: string) => console.error(`husk: ${message}`);

/**
 * Runs `action` for each reference, as Docker does for `stop a b c`: a failure is reported and the others go
 * on; the exit code is 1 if any failed.
 */
export async function forEachRef(
  refs: readonly string[],
  action: (ref: string) => Promise<void> | void,
  report: (message: string) => void = reportFailure,
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

/**
 * Docker's `inspect`: one JSON array of what `describe` gives for each reference that it finds, printed once;
 * a reference that fails is reported (exit code 1) and the others go on.
 */
export async function inspectEach(
  refs: readonly string[],
  describe: (ref: string) => unknown,
): Promise<number> {
  const found: unknown[] = [];
  const code = await forEachRef(refs, (ref) => {
    found.push(describe(ref));
  });
  console.log(JSON.stringify(found, null, 4));
  return code;
}
