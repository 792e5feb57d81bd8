/**
 * Which cgroup version serves each controller, read from the kernel rather than assumed: the mounts under the
 * cgroupfs root (/proc/self/mountinfo: a `cgroup` mount per v1 hierarchy, with its controllers in the super
 * options; a `cgroup2` mount for the unified hierarchy) and the unified root's cgroup.controllers.
 *
 *   pure v2: cgroup2 mounted at the root itself (/sys/fs/cgroup);
 *   hybrid:  v1 hierarchies plus a cgroup2 mount below the root (/sys/fs/cgroup/unified), usually without
 *            controllers of its own (systemd's "hybrid" layout; this project's machines);
 *   v1:      v1 hierarchies only.
 *
 * A controller is bound to one hierarchy at a time, so the answer is per controller.
 */
import type { CgroupFs } from "./fs.ts";

/** The controllers husk uses. On v2 cpuacct (cpu.stat) and freezer (cgroup.freeze) are part of the core. */
export const CONTROLLERS = ["memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices"] as const;
export type Controller = typeof CONTROLLERS[number];

export type Mode = "v2" | "hybrid" | "v1";

export interface Layout {
  mode: Mode;
  /** The cgroupfs root the layout was read under (normally /sys/fs/cgroup). */
  root: string;
  /** The cgroup2 mount point, or null. */
  unified: string | null;
  /** The controllers enabled in the unified hierarchy's root (its cgroup.controllers). */
  v2: string[];
  /** Each v1 controller's hierarchy mount point (co-mounted controllers share one: cpu,cpuacct). */
  v1: Partial<Record<string, string>>;
}

/** Where one controller lives. */
export interface Placement {
  version: 1 | 2;
  /** The hierarchy's mount point. */
  mount: string;
}

export interface MountEntry {
  /** The path inside the filesystem that is mounted (field 4 of mountinfo). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** The lines of /proc/self/mountinfo (proc(5)), with octal escapes (\040) decoded. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (dash === -1 || fields.length < dash + 4) continue;
    entries.push({
      root: unescape(fields[3]),
      mountPoint: unescape(fields[4]),
      fsType: fields[dash + 1],
      superOptions: fields[dash + 3].split(","),
    });
  }
  return entries;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The layout under `root` from mountinfo's text and the unified root's cgroup.controllers (read through
 * `readControllers`, given the cgroup2 mount point). Mounts elsewhere (bind mounts of a hierarchy into a
 * container, for instance) are ignored. Throws when no cgroup filesystem is mounted under `root`.
 */
export function layoutFrom(
  mountinfo: string,
  root: string,
  readControllers: (unifiedMount: string) => string,
): Layout {
  const base = root.replace(/\/+$/, "") || "/";
  const under = (p: string) => p === base || p.slice(0, p.lastIndexOf("/")) === base;
  let unified: string | null = null;
  const v1: Partial<Record<string, string>> = {};
  for (const m of parseMountinfo(mountinfo)) {
    if (!under(m.mountPoint)) continue;
    if (m.fsType === "cgroup2") {
      // The one at the root itself wins over a /unified one (it cannot really be both).
      if (unified === null || m.mountPoint === base) unified = m.mountPoint;
    } else if (m.fsType === "cgroup") {
      for (const option of m.superOptions) {
        if ((CONTROLLERS as readonly string[]).includes(option) || KNOWN_V1.has(option)) {
          v1[option] ??= m.mountPoint;
        }
      }
    }
  }
  if (unified === null && Object.keys(v1).length === 0) {
    throw new Error(`no cgroup filesystem is mounted under ${base}`);
  }
  const v2 = unified === null ? [] : readControllers(unified).trim().split(/\s+/).filter((c) => c !== "");
  const mode: Mode = unified === base
    ? "v2"
    : Object.keys(v1).length > 0 && unified !== null
    ? "hybrid"
    : "v1";
  return { mode, root: base, unified, v2, v1 };
}

const KNOWN_V1 = new Set([
  "blkio",
  "hugetlb",
  "net_cls",
  "net_prio",
  "perf_event",
  "rdma",
  "misc",
]);

/** The layout of this machine (or of the cgroupfs mounted at `root`). */
export function detectLayout(fs: CgroupFs, root = "/sys/fs/cgroup"): Layout {
  return layoutFrom(fs.read("/proc/self/mountinfo"), root, (m) => fs.read(`${m}/cgroup.controllers`));
}

/**
 * Where `controller` lives: its v1 hierarchy, else the unified hierarchy when that has it (cpuacct and freezer
 * count as present on v2: cpu.stat and cgroup.freeze are core files there). Null when the kernel has it nowhere.
 */
export function placementOf(layout: Layout, controller: Controller): Placement | null {
  const v1 = layout.v1[controller];
  if (v1 !== undefined) return { version: 1, mount: v1 };
  if (layout.unified === null) return null;
  if (layout.v2.includes(controller)) return { version: 2, mount: layout.unified };
  if (controller === "cpuacct" || controller === "freezer") {
    // Core features of the unified hierarchy, but only worth using where its controllers are.
    return layout.mode === "v2" ? { version: 2, mount: layout.unified } : null;
  }
  return null;
}
