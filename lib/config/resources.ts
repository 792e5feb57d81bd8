/**
 * Docker's resource flags (-m/--memory, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit)
 * turned into an OCI-like `Resources` object, with Docker's units, ranges and messages. Pure: the host's
 * facts (its online CPUs) come in as an argument; `readHostFacts()` reads them.
 */
import { InvalidInputError } from "../errors.ts";

/** The limits of one container, in the kernel's units (after OCI's `linux.resources`). */
export interface Resources {
  /** Memory limit in bytes (-m/--memory). Absent: unlimited. */
  memory?: number;
  /**
   * Memory plus swap in bytes (--memory-swap); -1: unlimited swap. Absent with `memory` set: Docker's default,
   * as much swap as memory (the cgroup gets memory+swap = 2 x memory) where the kernel accounts swap.
   */
  memorySwap?: number;
  /** CPU time per period in microseconds (--cpus x cpuPeriod). */
  cpuQuota?: number;
  /** The period of cpuQuota in microseconds (100000 with --cpus). */
  cpuPeriod?: number;
  /** Relative CPU weight (--cpu-shares, 2..262144; the kernel's default is 1024). */
  cpuShares?: number;
  /** CPUs the container may run on, the kernel's list syntax ("0-2,4"). */
  cpusetCpus?: string;
  /** Maximum number of processes (tasks); -1: unlimited. */
  pidsLimit?: number;
}

/** The resource flags as typed on the command line (each absent when not given). */
export interface ResourceFlags {
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
}

/** What the validation needs to know about the host. */
export interface HostFacts {
  /** The ids of the online CPUs (/sys/devices/system/cpu/online). */
  cpus: number[];
}

/**
 * The process limit husk applies when --pids-limit is not given: generous for any real workload, and a fork
 * bomb in one container cannot exhaust the host's process table. `--pids-limit -1` (or 0) lifts it.
 */
export const DEFAULT_PIDS_LIMIT = 4096;
/** Docker's smallest accepted --memory (and --memory-swap): 6 MiB. */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** The CFS period that --cpus uses, in microseconds (Docker's). */
export const CPU_PERIOD = 100_000;
/** The kernel's smallest CFS quota, in microseconds: 1 ms, i.e. --cpus 0.01. */
export const MIN_CPU_QUOTA = 1000;
/** The range of --cpu-shares that the kernel accepts (cgroup v1's cpu.shares). */
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

/**
 * A size with Docker's units (go-units RAMInBytes): a number, optionally with a fraction, then an optional
 * b, k, m, g, t or p, optionally followed by "b" or "ib" (case-insensitive): "512m", "1.5g", "64KiB", "1024".
 * Multiples of 1024. Returns null for anything else.
 */
export function parseBytes(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(i?b)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = m[2].toLowerCase();
  if (unit === "" && m[3] !== undefined && m[3].toLowerCase() !== "b") return null; // "10ib"
  const bytes = Math.floor(Number(m[1]) * UNITS[unit]);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/**
 * Human-readable bytes in binary units, as Docker prints them: "32MiB", "1.5GiB", "512B"; with `separator`
 * " ": "32 MiB".
 */
export function formatBytes(bytes: number, separator = ""): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return text + separator + units[i];
}

/**
 * A CPU list in the kernel's syntax ("0-2,4,7"), as sorted unique ids; null when malformed (empty parts,
 * reversed ranges, anything but digits, commas and dashes).
 */
export function parseCpuList(text: string): number[] | null {
  const ids = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === "") return null;
  for (const part of trimmed.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to > 65535) return null;
    for (let i = from; i <= to; i++) ids.add(i);
  }
  return [...ids].sort((a, b) => a - b);
}

/**
 * The flags of `husk run` as Resources, with husk's defaults (the pids limit). Throws InvalidInputError,
 * naming the flag, the value and the fix, before anything is created.
 */
export function parseResources(flags: ResourceFlags, host: HostFacts): Resources {
  const resources = parseGiven(flags, host);
  checkSwap(resources);
  resources.pidsLimit ??= DEFAULT_PIDS_LIMIT;
  return resources;
}

/**
 * The flags of `husk update` applied to a container's current Resources: what is given replaces, what is
 * not given stays. Returns the container's new Resources (apply them and record them). Docker's rule: at
 * least one flag.
 */
export function parseResourceUpdate(flags: ResourceFlags, host: HostFacts, current: Resources): Resources {
  if (Object.values(flags).every((v) => v === undefined)) {
    throw new InvalidInputError(
      "update: give one or more of --memory, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit",
    );
  }
  const given = parseGiven(flags, host);
  const merged: Resources = { ...current, ...given };
  // A new --memory without --memory-swap keeps Docker's default swap (2 x memory) rather than an old
  // --memory-swap that may now be below it.
  if (given.memory !== undefined && flags.memorySwap === undefined && current.memorySwap !== -1) {
    delete merged.memorySwap;
  }
  checkSwap(merged);
  return merged;
}

/** Reads the host's facts that validation needs (the online CPUs). */
export function readHostFacts(): HostFacts {
  const cpus = parseCpuList(Deno.readTextFileSync("/sys/devices/system/cpu/online"));
  return { cpus: cpus ?? [0] };
}

function parseGiven(flags: ResourceFlags, host: HostFacts): Resources {
  const r: Resources = {};
  if (flags.memory !== undefined) r.memory = parseMemory("--memory", flags.memory);
  if (flags.memorySwap !== undefined) {
    const v = flags.memorySwap.trim();
    r.memorySwap = v === "-1" ? -1 : parseMemory("--memory-swap", flags.memorySwap);
  }
  if (flags.cpus !== undefined) Object.assign(r, parseCpus(flags.cpus, host));
  if (flags.cpuShares !== undefined) r.cpuShares = parseCpuShares(flags.cpuShares);
  if (flags.cpusetCpus !== undefined) r.cpusetCpus = parseCpuset(flags.cpusetCpus, host);
  if (flags.pidsLimit !== undefined) r.pidsLimit = parsePidsLimit(flags.pidsLimit);
  return r;
}

function parseMemory(flag: string, value: string): number {
  const bytes = parseBytes(value);
  if (bytes === null) {
    const also = flag === "--memory-swap" ? ", or -1 for unlimited swap" : "";
    throw new InvalidInputError(
      `invalid ${flag} "${value}": expected a size such as 512m or 1g (units b, k, m, g${also})`,
    );
  }
  if (bytes < MIN_MEMORY) {
    throw new InvalidInputError(
      `invalid ${flag} "${value}": the minimum is 6m (${MIN_MEMORY} bytes), Docker's smallest limit`,
    );
  }
  return bytes;
}

function checkSwap(r: Resources): void {
  if (r.memorySwap === undefined) return;
  if (r.memory === undefined) {
    throw new InvalidInputError(
      `--memory-swap needs --memory: give a memory limit as well (e.g. -m 512m --memory-swap 1g)`,
    );
  }
  if (r.memorySwap !== -1 && r.memorySwap < r.memory) {
    throw new InvalidInputError(
      `invalid --memory-swap "${
        formatBytes(r.memorySwap)
      }": it is memory plus swap, so it must be at least ` +
        `--memory (${formatBytes(r.memory)}); give a larger value, or -1 for unlimited swap`,
    );
  }
}

function parseCpus(value: string, host: HostFacts): Pick<Resources, "cpuQuota" | "cpuPeriod"> {
  const n = host.cpus.length;
  const m = /^(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m || (m[1] === "" && (m[2] ?? "") === "")) {
    throw new InvalidInputError(`invalid --cpus "${value}": expected a number of CPUs such as 1.5 or 0.25`);
  }
  const fraction = m[2] ?? "";
  if (fraction.replace(/0+$/, "").length > 9) {
    throw new InvalidInputError(`invalid --cpus "${value}": too precise (at most 9 decimal places)`);
  }
  // Exact in integers: nanoCPUs as Docker computes them, then the quota for a 100 ms period.
  const nano = BigInt(m[1] || "0") * 1_000_000_000n + BigInt((fraction + "000000000").slice(0, 9));
  const quota = Number(nano * BigInt(CPU_PERIOD) / 1_000_000_000n);
  if (nano === 0n || quota < MIN_CPU_QUOTA || nano > BigInt(n) * 1_000_000_000n) {
    throw new InvalidInputError(
      `invalid --cpus "${value}": the range is 0.01 to ${n} (this host has ${n} CPU${n === 1 ? "" : "s"})`,
    );
  }
  return { cpuQuota: quota, cpuPeriod: CPU_PERIOD };
}

function parseCpuShares(value: string): number {
  const v = value.trim();
  const shares = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(shares) || shares < MIN_CPU_SHARES || shares > MAX_CPU_SHARES) {
    throw new InvalidInputError(
      `invalid --cpu-shares "${value}": expected a whole number from ${MIN_CPU_SHARES} to ${MAX_CPU_SHARES} (default 1024)`,
    );
  }
  return shares;
}

function parseCpuset(value: string, host: HostFacts): string {
  const ids = parseCpuList(value);
  if (ids === null) {
    throw new InvalidInputError(
      `invalid --cpuset-cpus "${value}": expected a list of CPU ids and ranges such as 0-2,4`,
    );
  }
  const online = new Set(host.cpus);
  const missing = ids.filter((id) => !online.has(id));
  if (missing.length > 0) {
    throw new InvalidInputError(
      `invalid --cpuset-cpus "${value}": this host has no CPU ${missing.join(", ")} (online: ${
        formatCpuList(host.cpus)
      })`,
    );
  }
  return formatCpuList(ids);
}

function parsePidsLimit(value: string): number {
  const v = value.trim();
  const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < -1) {
    throw new InvalidInputError(
      `invalid --pids-limit "${value}": expected a positive whole number, or -1 (or 0) for unlimited`,
    );
  }
  return n <= 0 ? -1 : n;
}

/** Sorted CPU ids in the kernel's list syntax: [0, 1, 2, 4] -> "0-2,4". */
export function formatCpuList(ids: number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(",");
}
