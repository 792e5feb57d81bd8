/**
 * Runs inside the QEMU guest (see vm.ts): the cgroup limit scenarios of tests/cgroups_helpers.ts against the
 * guest kernel's real cgroup2 hierarchy at /sys/fs/cgroup, through lib/cgroups, plus checks of the v2 files
 * themselves. Prints one `HUSK-CHECK {"name","ok","detail"}` line per check, then `HUSK-DONE`.
 */
import { detectLayout, placementOf } from "../../lib/cgroups/detect.ts";
import { realFs } from "../../lib/cgroups/fs.ts";
import { type CgroupOptions, createCgroup } from "../../lib/cgroups/manager.ts";
import {
  type Check,
  cpuScenario,
  forkBombScenario,
  oomScenario,
  rollbackScenario,
  staleScenario,
  statsScenario,
  uniqueName,
} from "../../tests/cgroups_helpers.ts";

const ROOT = "/sys/fs/cgroup";
const OPTS: CgroupOptions = { root: ROOT, parent: "husk" };

function report(checks: Check[]): void {
  for (const c of checks) console.log("HUSK-CHECK " + JSON.stringify(c));
}

async function step(name: string, fn: () => Promise<Check[]> | Check[]): Promise<void> {
  const start = performance.now();
  try {
    report(await fn());
  } catch (e) {
    report([{ name: `${name}: ran`, ok: false, detail: (e as Error).stack ?? String(e) }]);
  }
  console.log(`HUSK-VM ${name} took ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

/** The layout is pure v2 and every controller husk uses is served by it. */
function layoutChecks(): Check[] {
  const layout = detectLayout(realFs, ROOT);
  const controllers = ["memory", "pids", "cpu", "cpuset"] as const;
  return [
    { name: "v2: layout detected as pure v2", ok: layout.mode === "v2", detail: JSON.stringify(layout) },
    ...controllers.map((c) => ({
      name: `v2: ${c} served by cgroup2`,
      ok: placementOf(layout, c)?.version === 2,
      detail: JSON.stringify(placementOf(layout, c)),
    })),
  ];
}

/** Every limit lands in its v2 file, and the parents enable the controllers. */
async function filesChecks(): Promise<Check[]> {
  const cg = createCgroup(uniqueName("files"), {
    memory: 64 * 2 ** 20,
    memorySwap: 96 * 2 ** 20,
    cpuQuota: 50000,
    cpuPeriod: 100000,
    cpuShares: 512,
    cpusetCpus: "1",
    pidsLimit: 30,
  }, OPTS);
  const checks: Check[] = [];
  try {
    const dir = cg.paths[0];
    const read = (f: string) => Deno.readTextFileSync(`${dir}/${f}`).trim();
    const expect = (file: string, want: string) => {
      const got = read(file);
      checks.push({ name: `v2: ${file} = ${want}`, ok: got === want, detail: got });
    };
    checks.push({
      name: "v2: one directory, absolute",
      ok: cg.paths.length === 1,
      detail: cg.paths.join(" "),
    });
    checks.push({ name: "v2: under the husk parent", ok: dir.startsWith(`${ROOT}/husk/`), detail: dir });
    expect("memory.max", String(64 * 2 ** 20));
    expect("memory.swap.max", String(32 * 2 ** 20));
    expect("cpu.max", "50000 100000");
    expect("cpu.weight", "20");
    expect("cpuset.cpus", "1");
    expect("cpuset.cpus.effective", "1");
    expect("pids.max", "30");
    for (const parent of [ROOT, `${ROOT}/husk`]) {
      const enabled = Deno.readTextFileSync(`${parent}/cgroup.subtree_control`).trim().split(/\s+/);
      const ok = ["memory", "pids", "cpu", "cpuset"].every((c) => enabled.includes(c));
      checks.push({ name: `v2: controllers enabled in ${parent}`, ok, detail: enabled.join(" ") });
    }
    cg.update({ memory: 128 * 2 ** 20, cpuQuota: 150000, cpuPeriod: 100000, pidsLimit: -1 });
    expect("memory.max", String(128 * 2 ** 20));
    expect("memory.swap.max", String(128 * 2 ** 20));
    expect("cpu.max", "150000 100000");
    expect("pids.max", "max");
    checks.push({ name: "v2: cgroup.kill is there", ok: realFs.exists(`${dir}/cgroup.kill`), detail: "" });
  } finally {
    await cg.destroy();
  }
  return checks;
}

console.log(`HUSK-VM deno ${Deno.version.deno} ready`);
await step("layout", layoutChecks);
await step("files", filesChecks);
// Emulated CPUs are slow: the timer may be late by more than on a real host while the bomb runs.
await step("forkbomb", () => forkBombScenario(OPTS, 3000, 3000));
// The same with cgroup.kill hidden: killAll falls back to cgroup.freeze + SIGKILL + thaw (Linux < 5.14).
const noKill = { ...realFs, exists: (p: string) => !p.endsWith("/cgroup.kill") && realFs.exists(p) };
await step(
  "forkbomb-freezer",
  async () =>
    (await forkBombScenario({ ...OPTS, fs: noKill }, 2000, 3000)).map((c) => ({
      ...c,
      name: `freezer ${c.name}`,
    })),
);
await step("oom", () => oomScenario(OPTS));
await step("cpu", () => cpuScenario(OPTS, 1500));
await step("stats", () => statsScenario(OPTS));
await step("stale", () => staleScenario(OPTS));
await step("rollback", () => rollbackScenario(OPTS));
console.log("HUSK-DONE");
