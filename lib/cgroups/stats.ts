/**
 * A container's resource usage from the kernel's own counters, v1 and v2 side by side. The parsers are pure;
 * `readStats` takes a reader of a controller's file (null when the file is missing).
 */
import type { Controller } from "./detect.ts";
import { v1Bytes } from "./v1.ts";

export interface Stats {
  /** CPU time used by all the container's processes, in nanoseconds. */
  cpuUsageNs: number;
  cpuUserNs: number | null;
  cpuSystemNs: number | null;
  /** CFS bandwidth control (--cpus): periods elapsed, periods throttled, time throttled. */
  cpuPeriods: number;
  cpuThrottledPeriods: number;
  cpuThrottledNs: number;
  /** Memory in use as Docker reports it: usage minus the inactive file cache. */
  memoryUsage: number;
  /** The kernel's raw usage counter (memory.current / memory.usage_in_bytes). */
  memoryUsageRaw: number;
  /** The memory limit in bytes; null when unlimited. */
  memoryLimit: number | null;
  /** How many times the kernel's OOM killer killed a process of the container; null when it does not say. */
  oomKills: number | null;
  /** Processes (tasks) now, and the limit (null: unlimited). */
  pids: number;
  pidsLimit: number | null;
  /** Forks refused because of the pids limit (pids.events "max"). */
  pidsRefused: number;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, pids.events, memory.oom_control) as a map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) map.set(key, Number(value));
  }
  return map;
}

/** A single number, or "max" (null). */
export function parseLimit(text: string): number | null {
  const t = text.trim().split(/\s+/)[0];
  return t === "max" ? null : Number(t);
}

export type Reader = (controller: Controller, file: string) => string | null;

/** The OOM killer's count from v2's memory.events (null: no memory controller). */
export function v2OomKills(read: Reader): number | null {
  const events = read("memory", "memory.events");
  return events === null ? null : parseFlatKeyed(events).get("oom_kill") ?? 0;
}

/** The OOM killer's count from v1's memory.oom_control (null: a kernel that does not count). */
export function v1OomKills(read: Reader): number | null {
  const oom = read("memory", "memory.oom_control");
  return oom === null ? null : parseFlatKeyed(oom).get("oom_kill") ?? null;
}

/** Stats from cgroup v2 files: cpu.stat, memory.current/.max/.stat/.events, pids.current/.max/.events. */
export function v2Stats(read: Reader): Stats {
  const cpu = parseFlatKeyed(read("cpuacct", "cpu.stat") ?? "");
  const memStat = parseFlatKeyed(read("memory", "memory.stat") ?? "");
  const usage = Number(read("memory", "memory.current") ?? 0);
  const max = read("memory", "memory.max");
  const pidsMax = read("pids", "pids.max");
  const us = (k: string) => (cpu.has(k) ? cpu.get(k)! * 1000 : null);
  return {
    cpuUsageNs: us("usage_usec") ?? 0,
    cpuUserNs: us("user_usec"),
    cpuSystemNs: us("system_usec"),
    cpuPeriods: cpu.get("nr_periods") ?? 0,
    cpuThrottledPeriods: cpu.get("nr_throttled") ?? 0,
    cpuThrottledNs: us("throttled_usec") ?? 0,
    memoryUsage: Math.max(0, usage - (memStat.get("inactive_file") ?? 0)),
    memoryUsageRaw: usage,
    memoryLimit: max === null ? null : parseLimit(max),
    oomKills: v2OomKills(read),
    pids: Number(read("pids", "pids.current") ?? 0),
    pidsLimit: pidsMax === null ? null : parseLimit(pidsMax),
    pidsRefused: parseFlatKeyed(read("pids", "pids.events") ?? "").get("max") ?? 0,
  };
}

/**
 * Stats from cgroup v1 files: cpuacct.usage(_user/_sys), cpu.stat, memory.usage_in_bytes, .limit_in_bytes,
 * .stat, .oom_control, pids.current/.max/.events.
 */
export function v1Stats(read: Reader): Stats {
  const cpu = parseFlatKeyed(read("cpu", "cpu.stat") ?? "");
  const memStat = parseFlatKeyed(read("memory", "memory.stat") ?? "");
  const usage = Number(read("memory", "memory.usage_in_bytes") ?? 0);
  const limit = read("memory", "memory.limit_in_bytes");
  const pidsMax = read("pids", "pids.max");
  const num = (text: string | null) => (text === null ? null : Number(text.trim()));
  return {
    cpuUsageNs: num(read("cpuacct", "cpuacct.usage")) ?? 0,
    cpuUserNs: num(read("cpuacct", "cpuacct.usage_user")),
    cpuSystemNs: num(read("cpuacct", "cpuacct.usage_sys")),
    cpuPeriods: cpu.get("nr_periods") ?? 0,
    cpuThrottledPeriods: cpu.get("nr_throttled") ?? 0,
    cpuThrottledNs: cpu.get("throttled_time") ?? 0,
    memoryUsage: Math.max(
      0,
      usage - (memStat.get("total_inactive_file") ?? memStat.get("inactive_file") ?? 0),
    ),
    memoryUsageRaw: usage,
    memoryLimit: limit === null ? null : v1Bytes(limit),
    oomKills: v1OomKills(read),
    pids: Number(read("pids", "pids.current") ?? 0),
    pidsLimit: pidsMax === null ? null : parseLimit(pidsMax),
    pidsRefused: parseFlatKeyed(read("pids", "pids.events") ?? "").get("max") ?? 0,
  };
}

/** The host's total CPU time in nanoseconds (/proc/stat's first line), for Docker's CPU % computation. */
export function hostCpuUsageNs(procStat: string, clockTicks = 100): number {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return 0;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
  return (ticks * 1e9) / clockTicks;
}

/** Docker's CPU percentage between two samples: container delta / host delta x online CPUs x 100. */
export function cpuPercent(
  before: { cpuUsageNs: number; hostNs: number },
  after: { cpuUsageNs: number; hostNs: number },
  onlineCpus: number,
): number {
  const cpuDelta = after.cpuUsageNs - before.cpuUsageNs;
  const hostDelta = after.hostNs - before.hostNs;
  return hostDelta > 0 && cpuDelta >= 0 ? (cpuDelta / hostDelta) * onlineCpus * 100 : 0;
}
