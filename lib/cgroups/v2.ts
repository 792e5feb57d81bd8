/**
 * cgroup v2 (the unified hierarchy): which files carry Resources, in what order, with what values. Pure; the
 * manager does the writes. Files: memory.max, memory.swap.max, cpu.max, cpu.weight, cpuset.cpus, pids.max.
 */
import type { Resources } from "../config/resources.ts";
import type { Controller } from "./detect.ts";
import { CgroupError } from "./fs.ts";

/** One write into a cgroup's control file. */
export interface Write {
  controller: Controller;
  file: string;
  value: string;
}

/** What the kernel offers beyond the controllers themselves. */
export interface Features {
  /** Swap is accounted and limitable (v2: memory.swap.max exists; v1: memory.memsw.limit_in_bytes). */
  swap: boolean;
}

/** The controllers that must be enabled in every ancestor's cgroup.subtree_control for a container. */
export const V2_CONTROLLERS: Controller[] = ["memory", "pids", "cpu", "cpuset"];

/**
 * cgroup v1 cpu.shares (2..262144, default 1024) to v2 cpu.weight (1..10000, default 100), as runc and crun
 * convert it: a linear map of the two ranges.
 */
/** The limits whose files have the same names and formats in v1 and v2 (cpuset.cpus, pids.max). */
export function sharedWrites(r: Resources): Write[] {
  const writes: Write[] = [];
  if (r.cpusetCpus !== undefined) {
    writes.push({ controller: "cpuset", file: "cpuset.cpus", value: r.cpusetCpus });
  }
  if (r.pidsLimit !== undefined) {
    writes.push({
      controller: "pids",
      file: "pids.max",
      value: r.pidsLimit < 0 ? "max" : String(r.pidsLimit),
    });
  }
  return writes;
}

export function sharesToWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/**
 * The v2 writes for `r`, fields that are absent left alone. memory.swap.max is swap alone (--memory-swap
 * minus --memory); without --memory-swap it is Docker's default, as much swap as memory.
 */
export function v2Writes(r: Resources, features: Features): Write[] {
  const writes: Write[] = [];
  if (r.memory !== undefined) {
    writes.push({ controller: "memory", file: "memory.max", value: String(r.memory) });
  }
  const swap = swapMax(r, features);
  if (swap !== null) writes.push({ controller: "memory", file: "memory.swap.max", value: swap });
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) {
    const quota = r.cpuQuota === undefined || r.cpuQuota < 0 ? "max" : String(r.cpuQuota);
    writes.push({ controller: "cpu", file: "cpu.max", value: `${quota} ${r.cpuPeriod ?? 100000}` });
  }
  if (r.cpuShares !== undefined) {
    writes.push({ controller: "cpu", file: "cpu.weight", value: String(sharesToWeight(r.cpuShares)) });
  }
  writes.push(...sharedWrites(r));
  return writes;
}

function swapMax(r: Resources, features: Features): string | null {
  if (r.memorySwap === undefined) {
    // Docker's default: as much swap as memory, where the kernel can limit it.
    return r.memory !== undefined && features.swap ? String(r.memory) : null;
  }
  if (!features.swap) {
    if (r.memorySwap === -1) return null; // unlimited is what an unaccounted kernel gives anyway
    throw new CgroupError(
      "--memory-swap needs swap accounting, which this kernel lacks (no memory.swap.max: CONFIG_MEMCG_SWAP)",
    );
  }
  if (r.memorySwap === -1) return "max";
  return String(Math.max(0, r.memorySwap - (r.memory ?? 0)));
}

/** The value to write into cgroup.subtree_control to enable the missing ones of `wanted` (null: none). */
export function subtreeControlValue(available: string, enabled: string, wanted: string[]): string | null {
  const have = new Set(enabled.trim().split(/\s+/));
  const offered = new Set(available.trim().split(/\s+/));
  const missing = wanted.filter((c) => offered.has(c) && !have.has(c));
  return missing.length === 0 ? null : missing.map((c) => `+${c}`).join(" ");
}
