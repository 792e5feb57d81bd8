/**
 * A container's cgroup over its life: created before the process exists, joined before it runs anything,
 * read for the OOM verdict when it ends, then destroyed; and stale ones (husk was killed) collected.
 */
import {
  type CgroupOptions,
  type Controller,
  createCgroup,
  detectLayout,
  type Layout,
  openCgroup,
  realFs,
} from "../cgroups/mod.ts";
import type { Resources } from "../config/resources.ts";
import { DEFAULT_ROOT, type StatePaths } from "../state/paths.ts";

/**
 * husk's parent cgroup for a state root: `husk` for the default root, `husk/root-<hash>` for another, so
 * that separate roots (tests, users) never collect each other's cgroups.
 */
export function cgroupOptions(paths: StatePaths): CgroupOptions {
  // The hierarchies do not change while a command runs: detected once per process.
  layout ??= detectLayout(realFs, "/sys/fs/cgroup");
  if (paths.root === DEFAULT_ROOT) return { parent: "husk", layout, controllers: CONTAINER_CONTROLLERS };
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(paths.root)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return {
    parent: `husk/root-${hash.toString(16).padStart(8, "0")}`,
    layout,
    controllers: CONTAINER_CONTROLLERS,
  };
}

/**
 * No v1 freezer hierarchy: a container has its own PID namespace, whose processes the kernel kills when its
 * first process ends, so killing what is left of a cgroup needs no freezing (v2's cgroup.kill is used where
 * the kernel has it). One hierarchy less to create, join and remove per container.
 */
const CONTAINER_CONTROLLERS: readonly Controller[] = ["memory", "pids", "cpu", "cpuacct", "cpuset"];

let layout: Layout | undefined;

export function createContainerCgroup(paths: StatePaths, id: string, resources: Resources) {
  return createCgroup(id, resources, cgroupOptions(paths));
}

export function openContainerCgroup(paths: StatePaths, id: string) {
  return openCgroup(id, cgroupOptions(paths));
}

/** After the container ended: whether the kernel killed it for memory; then its cgroup is removed. */
export async function releaseCgroup(paths: StatePaths, id: string): Promise<{ oomKilled: boolean }> {
  const cgroup = openContainerCgroup(paths, id);
  if (!cgroup) return { oomKilled: false };
  const oomKilled = cgroup.oomKilled();
  await cgroup.destroy();
  return { oomKilled };
}
