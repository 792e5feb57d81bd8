import { equal, ok } from "node:assert/strict";
import { lockExclusive } from "./store.ts";

/** Whether another process could take the lock on `file` now (util-linux flock, without waiting). */
function othersCanLock(file: string): boolean {
  return new Deno.Command("flock", { args: ["-n", file, "true"] }).outputSync().code === 0;
}

Deno.test("lockExclusive: makes its directory (with the mode given), wherever the lock file is, then locks", () => {
  const base = Deno.makeTempDirSync();
  try {
    const dir = `${base}/state/containers`;
    const file = `${base}/containers.lock`;
    {
      using _lock = lockExclusive(dir, file, 0o711);
      equal(Deno.statSync(dir).mode! & 0o777, 0o711);
      equal(Deno.statSync(file).mode! & 0o777, 0o600);
      equal(othersCanLock(file), false, "held: another process cannot take it");
    }
    equal(othersCanLock(file), true, "released when closed");
    Deno.removeSync(dir);
    using _again = lockExclusive(dir, file, 0o711);
    ok(Deno.statSync(dir).isDirectory, "made again when it went, though the lock file stayed");
    equal(othersCanLock(file), false);
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});
