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
  plannedCgroup,
  realFs,
} from "../cgroups/mod.ts";
import type { ContainerConfig } from "../config/types.ts";
import { exists } from "../files.ts";
import { DEFAULT_ROOT, rootTag, type StatePaths } from "../state/paths.ts";

/**
 * husk's parent cgroup for a state root: `husk` for the default root, `husk/root-<hash>` for another, so
 * that separate roots (tests, users) never collect each other's cgroups.
 */
export function cgroupOptions(paths: StatePaths): CgroupOptions {
  // The hierarchies do not change while a command runs: detected once per process.
  layout ??= detectLayout(realFs, "/sys/fs/cgroup");
  if (paths.root === DEFAULT_ROOT) return { parent: "husk", layout, controllers: CONTAINER_CONTROLLERS };
  return {
    parent: `husk/root-${rootTag(paths)}`,
    layout,
    controllers: CONTAINER_CONTROLLERS,
  };
}

/**
 * No v1 freezer hierarchy: a container has its own PID namespace, whose processes the kernel kills when its
 * first process ends, so killing what is left of a cgroup needs no freezing (v2's cgroup.kill is used where
 * the kernel has it). One hierarchy less to create, join and remove per container.
 */
const CONTAINER_CONTROLLERS: readonly Controller[] = [
  "memory",
  "pids",
  "cpu",
  "cpuacct",
  "cpuset",
  "devices",
];

/**
 * The devices a container may use (runc's and Docker's list): /dev/null, zero, full, random, urandom, tty,
 * console, ptmx and the pseudo-terminals, /dev/net/tun; any device node may be created ("m") but not opened.
 */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  "c *:* m",
  "b *:* m",
  "c 1:3 rwm",
  "c 1:5 rwm",
  "c 1:7 rwm",
  "c 1:8 rwm",
  "c 1:9 rwm",
  "c 5:0 rwm",
  "c 5:1 rwm",
  "c 5:2 rwm",
  "c 136:* rwm",
  "c 10:200 rwm",
];

let layout: Layout | undefined;

export type ContainerCgroup = ReturnType<typeof createCgroup>;

/** The container's cgroup with its limits and, unless privileged, its device rules (v1). */
export function createContainerCgroup(paths: StatePaths, config: ContainerConfig): ContainerCgroup {
  const cgroup = createCgroup(config.id, config.resources, cgroupOptions(paths));
  try {
    if (!config.security.privileged) cgroup.restrictDevices(DEFAULT_DEVICE_RULES);
  } catch (e) {
    cgroup.rollback();
    throw e;
  }
  return cgroup;
}

/** The container's cgroup as it would be made (for --dry-run). */
export function plannedContainerCgroup(paths: StatePaths, id: string) {
  return plannedCgroup(id, cgroupOptions(paths));
}

export function openContainerCgroup(paths: StatePaths, id: string) {
  return openCgroup(id, cgroupOptions(paths));
}

/**
 * After the container ended: whether the kernel killed it for memory; then its cgroup is removed. The
 * process that made the cgroup passes it; another one finds it.
 */
export async function releaseCgroup(
  paths: StatePaths,
  id: string,
  cgroup: ContainerCgroup | null = openContainerCgroup(paths, id),
): Promise<{ oomKilled: boolean }> {
  if (!cgroup) return { oomKilled: false };
  const oomKilled = cgroup.oomKilled();
  await cgroup.destroy();
  return { oomKilled };
}

/** husk's parent cgroup for a state root, in every cgroup hierarchy mounted here where it exists. */
export function rootCgroupDirs(paths: StatePaths): string[] {
  const parent = cgroupOptions(paths).parent!;
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(" ")[4]);
  return mounts.map((m) => `${m}/${parent}`).filter((d) => exists(d));
}

/**
 * Removes a state root's parent cgroups and the (empty) container cgroups left in them: for a throwaway
 * root (tests, benchmarks) that is being deleted. A cgroup that still holds a process stays, with an error.
 */
export function removeRootCgroups(paths: StatePaths): void {
  for (const dir of rootCgroupDirs(paths)) {
    for (const child of [...Deno.readDirSync(dir)].filter((e) => e.isDirectory)) {
      Deno.removeSync(`${dir}/${child.name}`);
    }
    Deno.removeSync(dir);
  }
}
