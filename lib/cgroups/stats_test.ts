import { equal } from "node:assert/strict";
import {
  cpuPercent,
  hostCpuUsageNs,
  parseFlatKeyed,
  parseLimit,
  type Reader,
  v1Stats,
  v2Stats,
} from "./stats.ts";

function reader(files: Record<string, string>): Reader {
  return (_c, f) => files[f] ?? null;
}

Deno.test("parseFlatKeyed and parseLimit", () => {
  const m = parseFlatKeyed("usage_usec 120\nnr_throttled 3\n\nbad\n");
  equal(m.get("usage_usec"), 120);
  equal(m.get("nr_throttled"), 3);
  equal(m.size, 2);
  equal(parseLimit("max\n"), null);
  equal(parseLimit("20\n"), 20);
  equal(parseLimit("max 100000\n"), null);
});

Deno.test("v2Stats: from a v2 cgroup's files (fixtures from a 6.1 kernel)", () => {
  const s = v2Stats(reader({
    "cpu.stat": "usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\nnr_periods 16\nnr_throttled 15\n" +
      "throttled_usec 1200000\n",
    "memory.current": "10366976\n",
    "memory.max": "67108864\n",
    "memory.stat": "anon 10240000\nfile 126976\ninactive_file 4096\n",
    "memory.events": "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n",
    "pids.current": "3\n",
    "pids.max": "max\n",
    "pids.events": "max 38\n",
  }));
  equal(s.cpuUsageNs, 250_000_000);
  equal(s.cpuUserNs, 200_000_000);
  equal(s.cpuSystemNs, 50_000_000);
  equal(s.cpuThrottledPeriods, 15);
  equal(s.cpuPeriods, 16);
  equal(s.cpuThrottledNs, 1_200_000_000);
  equal(s.memoryUsageRaw, 10366976);
  equal(s.memoryUsage, 10366976 - 4096);
  equal(s.memoryLimit, 67108864);
  equal(s.oomKills, 1);
  equal(s.pids, 3);
  equal(s.pidsLimit, null);
  equal(s.pidsRefused, 38);
});

Deno.test("v1Stats: from v1 files (fixtures from this machine)", () => {
  const s = v1Stats(reader({
    "cpuacct.usage": "38630997\n",
    "cpuacct.usage_user": "30000000\n",
    "cpuacct.usage_sys": "8630997\n",
    "cpu.stat": "nr_periods 12\nnr_throttled 11\nthrottled_time 980000000\nnr_bursts 0\nburst_time 0\n",
    "memory.usage_in_bytes": "10645504\n",
    "memory.limit_in_bytes": "9223372036854771712\n",
    "memory.stat": "cache 0\nrss 10485760\ntotal_inactive_file 8192\n",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    "pids.current": "1\n",
    "pids.max": "20\n",
    "pids.events": "max 16\n",
  }));
  equal(s.cpuUsageNs, 38630997);
  equal(s.cpuUserNs, 30000000);
  equal(s.cpuThrottledPeriods, 11);
  equal(s.cpuThrottledNs, 980000000);
  equal(s.memoryUsage, 10645504 - 8192);
  equal(s.memoryLimit, null);
  equal(s.oomKills, 2);
  equal(s.pids, 1);
  equal(s.pidsLimit, 20);
  equal(s.pidsRefused, 16);
});

Deno.test("v1Stats: an old kernel without an oom_kill counter says nothing (null)", () => {
  equal(v1Stats(reader({ "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n" })).oomKills, null);
  equal(v1Stats(reader({})).oomKills, null);
});

Deno.test("hostCpuUsageNs and cpuPercent: Docker's computation", () => {
  const stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n";
  equal(hostCpuUsageNs(stat), 1000 * 1e7);
  equal(cpuPercent({ cpuUsageNs: 0, hostNs: 0 }, { cpuUsageNs: 1e9, hostNs: 4e9 }, 2), 50);
  equal(cpuPercent({ cpuUsageNs: 0, hostNs: 0 }, { cpuUsageNs: 1e9, hostNs: 0 }, 2), 0);
});
