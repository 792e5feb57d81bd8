/**
 * lib/cgroups against this machine's real cgroup hierarchies (v1 controllers in a hybrid layout here; whatever
 * the host has elsewhere), with real processes: a fork bomb held at pids.max, a memory hog OOM-killed, a CPU
 * hog throttled, plausible stats, updates, stale cgroups removed, nothing left behind. Root only.
 * Every cgroup is created under the test parent `husk-test/<pid>` (never under husk's own `husk`).
 */
import { ok } from "node:assert/strict";
import { detectLayout } from "../lib/cgroups/detect.ts";
import { realFs } from "../lib/cgroups/fs.ts";
import { type CgroupOptions, listCgroups } from "../lib/cgroups/manager.ts";
import {
  type Check,
  cpuScenario,
  forkBombScenario,
  oomScenario,
  rollbackScenario,
  staleScenario,
  statsScenario,
} from "./cgroups_helpers.ts";

const layout = detectLayout(realFs);
const OPTS: CgroupOptions = { parent: `husk-test`, layout };
const isRoot = Deno.uid() === 0;

function assertChecks(checks: Check[]): void {
  const failed = checks.filter((c) => !c.ok);
  for (const c of checks) console.log(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  ok(failed.length === 0, `failed: ${failed.map((c) => `${c.name} (${c.detail})`).join("; ")}`);
}

const test = (name: string, fn: () => Promise<Check[]>) =>
  Deno.test({ name, ignore: !isRoot, sanitizeResources: false, fn: async () => assertChecks(await fn()) });

Deno.test({
  name: `cgroups: layout of this machine is detected (${layout.mode})`,
  fn: () => {
    ok(layout.v1.memory !== undefined || layout.v2.includes("memory"), JSON.stringify(layout));
  },
});

test("cgroups: a fork bomb is held at --pids-limit 20", () => forkBombScenario(OPTS));
test("cgroups: a memory hog under 32 MiB is OOM-killed and reported", () => oomScenario(OPTS));
test("cgroups: a CPU hog under --cpus 0.2 is throttled", () => cpuScenario(OPTS));
test("cgroups: stats are plausible and update() changes the limits", () => statsScenario(OPTS));
test("cgroups: stale cgroups are removed, live ones kept", () => staleScenario(OPTS));
test("cgroups: a refused limit leaves nothing behind", () => rollbackScenario(OPTS));

Deno.test({
  name: "cgroups: no test cgroup is left behind",
  ignore: !isRoot,
  fn: () => {
    const mine = listCgroups(OPTS).filter((n) => n.startsWith(`t${Deno.pid}-`));
    ok(mine.length === 0, `left: ${mine.join(", ")}`);
    // The test parent itself, unless another test run is using it.
    for (const mount of new Set(Object.values(layout.v1).concat(layout.unified ?? []))) {
      try {
        Deno.removeSync(`${mount}/husk-test`);
      } catch {
        // absent, or in use
      }
    }
  },
});
