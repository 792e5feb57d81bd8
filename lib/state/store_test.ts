import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { testConfig } from "../config/testing.ts";
import { StateError } from "../errors.ts";
import { exists, removeIfExists } from "../files.ts";
import { containerDir, containerRunDir, containersDir, runDir, statePaths } from "./paths.ts";
import {
  createdState,
  createRecord,
  listIds,
  lockExclusive,
  readRecord,
  readRecordIfExists,
  retireRecord,
  takenNames,
  withLock,
  writeState,
} from "./store.ts";

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

Deno.test("records: a new record is its config alone, and reads as created until a state is written", () => {
  const root = Deno.makeTempDirSync();
  try {
    const paths = statePaths(root);
    const config = testConfig("/r", "/e");
    withLock(paths, () => createRecord(paths, config, takenNames(paths)));
    deepEqual(
      [...Deno.readDirSync(containerDir(paths, config.id))].map((e) => e.name),
      ["config.json"],
      "one file written",
    );
    deepEqual(readRecord(paths, config.id), {
      config: JSON.parse(JSON.stringify(config)),
      state: createdState(),
    });
    const running = { ...createdState(), status: "running" as const, pid: 42 };
    writeState(paths, config.id, running);
    deepEqual(readRecord(paths, config.id).state, running);
    deepEqual([...takenNames(paths)], [[config.name, config.id]]);
    throws(
      () => withLock(paths, () => createRecord(paths, { ...config, id: "f".repeat(64) }, takenNames(paths))),
      (e) => e instanceof StateError && /is already in use/.test(e.message),
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("retireRecord: the record is out of sight at once, its files and run directory go after", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const paths = statePaths(root);
    const config = testConfig("/r", "/e");
    withLock(paths, () => createRecord(paths, config, takenNames(paths)));
    Deno.mkdirSync(containerRunDir(paths, config.id), { recursive: true });
    Deno.writeTextFileSync(`${containerRunDir(paths, config.id)}/hosts`, "127.0.0.1 localhost\n");
    const removal = withLock(paths, () => retireRecord(paths, config.id));
    deepEqual(listIds(paths), []);
    equal(readRecordIfExists(paths, config.id), null);
    deepEqual([...takenNames(paths)], [], "its name is free");
    await removal;
    deepEqual([...Deno.readDirSync(containersDir(paths))], []);
    ok(!exists(containerRunDir(paths, config.id)));
  } finally {
    Deno.removeSync(root, { recursive: true });
    removeIfExists(runDir(statePaths(root)), { recursive: true });
  }
});

Deno.test("takenNames removes what a remover that died left, and leaves a live remover's work alone", () => {
  const root = Deno.makeTempDirSync();
  try {
    const paths = statePaths(root);
    const id = "a".repeat(64);
    // A pid that is not running: one past the kernel's maximum.
    const deadPid = Number(Deno.readTextFileSync("/proc/sys/kernel/pid_max")) + 1;
    const dead = `${containersDir(paths)}/.removing-${deadPid}-${id}`;
    const live = `${containersDir(paths)}/.removing-${Deno.pid}-${id}`;
    for (const dir of [dead, live]) {
      Deno.mkdirSync(dir, { recursive: true });
      Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify(testConfig("/r", "/e")));
    }
    deepEqual([...takenNames(paths)], [], "neither holds a name");
    ok(!exists(dead));
    ok(exists(live));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
