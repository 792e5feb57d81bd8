/** What every container gets: the kernel filesystems, a minimal /dev and the namespaces (as runc's defaults). */
import type { Device, Mount, Namespace } from "./types.ts";

export const DEFAULT_NAMESPACES: readonly Namespace[] = ["pid", "network", "ipc", "uts", "mount", "cgroup"];

/** The kernel file systems; /sys is read-only unless the container is privileged. */
export function defaultMounts(privileged = false): Mount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"],
    },
  ];
}

const chr = (name: string, major: number, minor: number): Device => ({
  path: `/dev/${name}`,
  type: "c",
  major,
  minor,
  fileMode: 0o666,
});

export function defaultDevices(): Device[] {
  return [
    chr("null", 1, 3),
    chr("zero", 1, 5),
    chr("full", 1, 7),
    chr("random", 1, 8),
    chr("urandom", 1, 9),
    chr("tty", 5, 0),
  ];
}

/** The symlinks of a standard /dev. */
export const DEV_SYMLINKS: readonly (readonly [string, string])[] = [
  ["/dev/ptmx", "pts/ptmx"],
  ["/dev/fd", "/proc/self/fd"],
  ["/dev/stdin", "/proc/self/fd/0"],
  ["/dev/stdout", "/proc/self/fd/1"],
  ["/dev/stderr", "/proc/self/fd/2"],
];
