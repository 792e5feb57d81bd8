/**
 * Cgroups for containers: the public API of lib/cgroups. See manager.ts (create, open, join, limits, stats,
 * OOM, kill, destroy, stale cleanup), detect.ts (v1 / v2 / hybrid, per controller) and stats.ts.
 */
export {
  Cgroup,
  type CgroupOptions,
  createCgroup,
  DEFAULT_PARENT,
  DEFAULT_ROOT,
  listCgroups,
  openCgroup,
  plannedCgroup,
  removeStaleCgroups,
} from "./manager.ts";
export { type Controller, detectLayout, type Layout, type Mode, placementOf } from "./detect.ts";
export { CgroupError, type CgroupFs, realFs } from "./fs.ts";
export { cpuPercent, hostCpuUsageNs, type Stats } from "./stats.ts";
