/** The resource flags `run` and `update` share, and their values as typed (validated in lib/config). */
import { DEFAULT_PIDS_LIMIT, type ResourceFlags } from "../config/resources.ts";
import type { Flag, FlagValues } from "./flags.ts";

export const RESOURCE_FLAGS: readonly Flag[] = [
  { name: "memory", short: "m", value: "BYTES", help: "memory limit (b, k, m, g), at least 6m" },
  { name: "memory-swap", value: "BYTES", help: "memory plus swap (-1: unlimited swap; default 2x --memory)" },
  { name: "cpus", value: "N", help: "CPUs the container may use (fractional, e.g. 0.5)" },
  { name: "cpu-shares", short: "c", value: "N", help: "relative CPU weight (default 1024)" },
  { name: "cpuset-cpus", value: "LIST", help: "CPUs to run on (0-2,4)" },
  {
    name: "pids-limit",
    value: "N",
    help: `maximum number of processes (default ${DEFAULT_PIDS_LIMIT}; -1: unlimited)`,
  },
];

export function resourceFlags(values: FlagValues): ResourceFlags {
  const text = (name: string) => values[name] as string | undefined;
  return {
    memory: text("memory"),
    memorySwap: text("memory-swap"),
    cpus: text("cpus"),
    cpuShares: text("cpu-shares"),
    cpusetCpus: text("cpuset-cpus"),
    pidsLimit: text("pids-limit"),
  };
}
