/**
 * cgroup v1 (one hierarchy per controller or group of controllers): which files carry Resources, in what
 * order, with what values. Pure; the manager does the writes. Files: memory.limit_in_bytes,
 * memory.memsw.limit_in_bytes (memory + swap), cpu.cfs_period_us, cpu.cfs_quota_us, cpu.shares,
 * cpuset.cpus, pids.max.
 */
import type { Resources } from "../config/resources.ts";
import { CgroupError } from "./fs.ts";
import { type Features, sharedWrites, type Write } from "./v2.ts";

/** v1's "unlimited" as memory.limit_in_bytes reads it back (PAGE_COUNTER_MAX pages): anything from 2^62 up. */
export const V1_UNLIMITED = 2 ** 62;

/**
 * The v1 writes for `r`, fields that are absent left alone. The kernel keeps memory.memsw.limit_in_bytes >=
 * memory.limit_in_bytes at every moment, so the order of the two depends on the current memory limit
 * (`currentMemory`, bytes; Infinity for unlimited or a new cgroup): when the new memory+swap is above it,
 * memsw goes first (as runc does), otherwise memory goes first.
 */
export function v1Writes(r: Resources, features: Features, currentMemory = Infinity): Write[] {
  const writes: Write[] = [];
  const memory: Write[] = [];
  if (r.memory !== undefined) {
    memory.push({ controller: "memory", file: "memory.limit_in_bytes", value: String(r.memory) });
  }
  const memsw = memswLimit(r, features);
  if (memsw !== null) {
    const write: Write = { controller: "memory", file: "memory.memsw.limit_in_bytes", value: String(memsw) };
    if (memsw === -1 || memsw > currentMemory) memory.unshift(write);
    else memory.push(write);
  }
  writes.push(...memory);
  if (r.cpuShares !== undefined) {
    writes.push({ controller: "cpu", file: "cpu.shares", value: String(r.cpuShares) });
  }
  if (r.cpuPeriod !== undefined) {
    writes.push({ controller: "cpu", file: "cpu.cfs_period_us", value: String(r.cpuPeriod) });
  }
  if (r.cpuQuota !== undefined) {
    writes.push({
      controller: "cpu",
      file: "cpu.cfs_quota_us",
      value: String(r.cpuQuota < 0 ? -1 : r.cpuQuota),
    });
  }
  writes.push(...sharedWrites(r));
  return writes;
}

function memswLimit(r: Resources, features: Features): number | null {
  if (r.memorySwap === undefined) {
    // Docker's default: as much swap as memory (memory + swap = 2 x memory), where the kernel accounts swap.
    return r.memory !== undefined && features.swap ? 2 * r.memory : null;
  }
  if (!features.swap) {
    if (r.memorySwap === -1) return null;
    throw new CgroupError(
      "--memory-swap needs swap accounting, which this kernel lacks " +
        "(no memory.memsw.limit_in_bytes: boot it with swapaccount=1)",
    );
  }
  return r.memorySwap;
}

/** A v1 byte value ("9223372036854771712" is unlimited) as a number, or null for unlimited. */
export function v1Bytes(text: string): number | null {
  const n = Number(text.trim());
  return !Number.isFinite(n) || n < 0 || n >= V1_UNLIMITED ? null : n;
}
