/**
 * Shared by the cgroup integration tests (tests/cgroups_test.ts, on this machine's real hierarchies) and the
 * cgroup v2 VM driver (tasks/cgroup-v2-vm/driver.ts, inside QEMU): the limit scenarios, each run against real
 * processes through lib/cgroups. A process is started held (`read x` on a pipe), joined into the cgroup, then
 * released, so that it runs nothing outside its cgroup.
 *
 * Each scenario returns a list of named checks with details; callers assert them (tests) or print them (VM).
 */
import type { Resources } from "../lib/config/resources.ts";
import {
  type Cgroup,
  type CgroupOptions,
  createCgroup,
  openCgroup,
  removeStaleCgroups,
} from "../lib/cgroups/manager.ts";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MiB = 1024 * 1024;

/** A unique cgroup name for one scenario. */
export function uniqueName(what: string): string {
  return `t${Deno.pid}-${crypto.randomUUID().slice(0, 8)}-${what}`;
}

export interface Held {
  child: Deno.ChildProcess;
  /** Lets the process go on to run `script`. */
  release(): Promise<void>;
  /** Resolves with the exit status (the process is waited for exactly once). */
  status: Promise<Deno.CommandStatus>;
  /** Reads stdout until `text` appears (or the timeout). */
  waitFor(text: string, timeoutMs?: number): Promise<boolean>;
}

/** `sh -c 'read x; SCRIPT'` started, joined into `cgroup`, not yet released. */
export function startHeld(cgroup: Cgroup, script: string, shell = "sh"): Held {
  const child = new Deno.Command(shell, {
    args: ["-c", `read x; ${script}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    cgroup.join(child.pid);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  const status = child.status;
  let seen = "";
  const reader = child.stdout.getReader();
  const pump = (async () => {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen += decoder.decode(value);
      }
    } catch {
      // closed
    }
  })();
  return {
    child,
    status: status.then(async (s) => {
      await child.stdin.close().catch(() => {});
      await pump;
      return s;
    }),
    async release() {
      // stdin stays open (a script may `read` again to wait); it is closed when the process ends.
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      writer.releaseLock();
    },
    async waitFor(text, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!seen.includes(text)) {
        if (Date.now() > deadline) return false;
        await sleep(10);
      }
      return true;
    },
  };
}

function check(checks: Check[], name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
}

/** Creates a cgroup, runs `body`, and always destroys it; adds the cleanup checks. */
async function withCgroup(
  what: string,
  resources: Resources,
  opts: CgroupOptions,
  body: (cg: Cgroup, checks: Check[]) => Promise<void>,
): Promise<Check[]> {
  const checks: Check[] = [];
  const cg = createCgroup(uniqueName(what), resources, opts);
  try {
    await body(cg, checks);
  } finally {
    await cg.destroy();
    const left = cg.paths.filter((p) => {
      try {
        Deno.statSync(p);
        return true;
      } catch {
        return false;
      }
    });
    check(
      checks,
      `${what}: cgroup removed`,
      left.length === 0,
      left.length === 0 ? cg.paths.join(" ") : left.join(" "),
    );
    check(
      checks,
      `${what}: openCgroup finds nothing after destroy`,
      openCgroup(cg.name, opts) === null,
      cg.name,
    );
  }
  return checks;
}

/** A fork bomb under pids.max 20: held at the limit, refusals counted, the host stays responsive. */
export function forkBombScenario(opts: CgroupOptions, holdMs = 1500, maxLateMs = 1000): Promise<Check[]> {
  return withCgroup("forkbomb", { pidsLimit: 20 }, opts, async (cg, checks) => {
    // In its own PID namespace, so that the bomb's orphans are reaped by its own init (the inner sh).
    const bomb = startHeld(cg, `exec unshare -fp bash -c 'f() { f & f; }; f 2>/dev/null'`);
    await bomb.release();
    let most = 0;
    let lateMs = 0;
    const until = Date.now() + holdMs;
    while (Date.now() < until) {
      const before = Date.now();
      await sleep(20);
      lateMs = Math.max(lateMs, Date.now() - before - 20);
      most = Math.max(most, cg.stats().pids);
    }
    const probeStart = Date.now();
    const probe = await new Deno.Command("true").output();
    const probeMs = Date.now() - probeStart;
    const s = cg.stats();
    check(checks, "forkbomb: pids limit is 20", s.pidsLimit === 20, `pidsLimit=${s.pidsLimit}`);
    check(checks, "forkbomb: held at the limit", most <= 20 && most >= 15, `most processes seen=${most}`);
    check(checks, "forkbomb: kernel refused forks", s.pidsRefused > 0, `pids.events max=${s.pidsRefused}`);
    check(
      checks,
      "forkbomb: host responsive",
      probe.success && probeMs < 2 * maxLateMs && lateMs < maxLateMs,
      `spawn of true took ${probeMs} ms; timer late by at most ${lateMs} ms`,
    );
    await cg.killAll();
    check(
      checks,
      "forkbomb: killAll empties the cgroup",
      cg.pids().length === 0,
      `pids=${cg.pids().join(",")}`,
    );
    const status = await bomb.status;
    check(checks, "forkbomb: bomb killed", status.signal === "SIGKILL", `signal=${status.signal}`);
  });
}

/** A memory hog under a 32 MiB limit (no swap): OOM-killed, and the kernel's counter says so. */
export function oomScenario(opts: CgroupOptions): Promise<Check[]> {
  const limit = 32 * MiB;
  return withCgroup("oom", { memory: limit, memorySwap: limit }, opts, async (cg, checks) => {
    check(checks, "oom: not OOM-killed before", !cg.oomKilled(), `oomKills=${cg.oomKills()}`);
    const hog = startHeld(cg, "exec dd if=/dev/zero of=/dev/null bs=64M count=1");
    await hog.release();
    const status = await hog.status;
    const s = cg.stats();
    check(
      checks,
      "oom: hog killed by SIGKILL",
      status.signal === "SIGKILL",
      `code=${status.code} signal=${status.signal}`,
    );
    check(checks, "oom: oomKilled() is true", cg.oomKilled(), `oomKills=${s.oomKills}`);
    check(checks, "oom: memory limit is 32 MiB", s.memoryLimit === limit, `memoryLimit=${s.memoryLimit}`);
  });
}

/** A CPU hog under --cpus 0.2: throttled, per the kernel's counters, and using about 20% of a CPU. */
export function cpuScenario(opts: CgroupOptions, runMs = 1200): Promise<Check[]> {
  return withCgroup("cpu", { cpuQuota: 20000, cpuPeriod: 100000 }, opts, async (cg, checks) => {
    const hog = startHeld(cg, "while :; do :; done");
    await hog.release();
    const start = Date.now();
    const before = cg.stats().cpuUsageNs;
    await sleep(runMs);
    const s = cg.stats();
    const elapsedNs = (Date.now() - start) * 1e6;
    const share = (s.cpuUsageNs - before) / elapsedNs;
    check(
      checks,
      "cpu: throttled",
      s.cpuThrottledPeriods > 0,
      `nr_throttled=${s.cpuThrottledPeriods} of ${s.cpuPeriods}`,
    );
    check(checks, "cpu: about 0.2 CPU used", share > 0.05 && share < 0.35, `share=${share.toFixed(3)}`);
    await cg.killAll();
    await hog.status;
  });
}

/** Stats of a shell holding ~10 MB: plausible CPU, memory, pids and limits; update() changes the limits. */
export function statsScenario(opts: CgroupOptions): Promise<Check[]> {
  const resources: Resources = { memory: 64 * MiB, pidsLimit: 50, cpuShares: 512 };
  return withCgroup("stats", resources, opts, async (cg, checks) => {
    const held = startHeld(cg, `v=$(head -c 10000000 /dev/zero | tr '\\0' a); echo ready; read y`);
    await held.release();
    const ready = await held.waitFor("ready");
    const s = cg.stats();
    check(checks, "stats: shell ready", ready, "");
    check(checks, "stats: one process", s.pids === 1, `pids=${s.pids}`);
    check(checks, "stats: pids limit", s.pidsLimit === 50, `pidsLimit=${s.pidsLimit}`);
    check(checks, "stats: cpu used", s.cpuUsageNs > 1e6 && s.cpuUsageNs < 60e9, `cpuUsageNs=${s.cpuUsageNs}`);
    check(
      checks,
      "stats: memory in use",
      s.memoryUsageRaw >= 10e6 && s.memoryUsageRaw <= 64 * MiB && s.memoryUsage <= s.memoryUsageRaw,
      `usage=${s.memoryUsage} raw=${s.memoryUsageRaw}`,
    );
    check(checks, "stats: memory limit", s.memoryLimit === 64 * MiB, `memoryLimit=${s.memoryLimit}`);
    check(checks, "stats: no OOM", s.oomKills === 0 && !cg.oomKilled(), `oomKills=${s.oomKills}`);
    // Up, then down below the old value: the v1 memory/memsw order must adapt both ways.
    cg.update({ memory: 128 * MiB, pidsLimit: 100 });
    let t = cg.stats();
    check(
      checks,
      "update: raised",
      t.memoryLimit === 128 * MiB && t.pidsLimit === 100,
      `limit=${t.memoryLimit}`,
    );
    cg.update({ memory: 48 * MiB, pidsLimit: -1 });
    t = cg.stats();
    check(
      checks,
      "update: lowered",
      t.memoryLimit === 48 * MiB && t.pidsLimit === null,
      `limit=${t.memoryLimit}`,
    );
    await cg.killAll();
    await held.status;
  });
}

/** A cgroup whose owner is gone (not in the live set) is found, emptied and removed. */
export async function staleScenario(opts: CgroupOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const keep = createCgroup(uniqueName("live"), {}, opts);
  const stale = createCgroup(uniqueName("stale"), { pidsLimit: 10 }, opts);
  try {
    const held = startHeld(stale, "sleep 30");
    await held.release();
    const result = await removeStaleCgroups(new Set([keep.name]), opts);
    const status = await held.status;
    check(
      checks,
      "stale: removed",
      result.removed.includes(stale.name),
      `removed=${result.removed.join(",")}`,
    );
    check(
      checks,
      "stale: live one kept",
      !result.removed.includes(keep.name) && openCgroup(keep.name, opts) !== null,
      keep.name,
    );
    check(checks, "stale: its process killed", status.signal === "SIGKILL", `signal=${status.signal}`);
    check(checks, "stale: gone", openCgroup(stale.name, opts) === null, stale.name);
  } finally {
    await stale.destroy();
    await keep.destroy();
  }
  return checks;
}

/** A limit the kernel refuses leaves nothing behind, and the error names the file and the value. */
export async function rollbackScenario(opts: CgroupOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const name = uniqueName("rollback");
  let message = "";
  try {
    await createCgroup(name, { cpusetCpus: "63" }, opts).destroy();
  } catch (e) {
    message = (e as Error).message;
  }
  check(
    checks,
    "rollback: error names file and value",
    /cpuset\.cpus/.test(message) && message.includes('"63"'),
    message,
  );
  check(checks, "rollback: nothing left", openCgroup(name, opts) === null, name);
  return checks;
}
