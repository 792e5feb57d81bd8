/** OCI mount options ("ro", "nosuid", "mode=755", ...) split into mount(2) flags and file system data. */
import { MS } from "./linux.ts";

const FLAGS: Record<string, [set: boolean, flag: number]> = {
  ro: [true, MS.RDONLY],
  rw: [false, MS.RDONLY],
  nosuid: [true, MS.NOSUID],
  suid: [false, MS.NOSUID],
  nodev: [true, MS.NODEV],
  dev: [false, MS.NODEV],
  noexec: [true, MS.NOEXEC],
  exec: [false, MS.NOEXEC],
  sync: [true, MS.SYNCHRONOUS],
  async: [false, MS.SYNCHRONOUS],
  dirsync: [true, MS.DIRSYNC],
  noatime: [true, MS.NOATIME],
  atime: [false, MS.NOATIME],
  nodiratime: [true, MS.NODIRATIME],
  diratime: [false, MS.NODIRATIME],
  relatime: [true, MS.RELATIME],
  norelatime: [false, MS.RELATIME],
  strictatime: [true, MS.STRICTATIME],
  nostrictatime: [false, MS.STRICTATIME],
  bind: [true, MS.BIND],
  rbind: [true, MS.BIND | MS.REC],
};

export interface MountFlags {
  flags: number;
  data: string;
}

export function parseMountOptions(options: readonly string[]): MountFlags {
  let flags = 0;
  const data: string[] = [];
  for (const option of options) {
    const known = FLAGS[option];
    if (!known) data.push(option);
    else if (known[0]) flags |= known[1];
    else flags &= ~known[1];
  }
  return { flags, data: data.join(",") };
}

/** The flag names set in `flags`, for the dry run ("MS_BIND|MS_REC"). */
export function mountFlagNames(flags: number): string {
  const names = Object.entries(MS).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => `MS_${name}`);
  return names.length === 0 ? "0" : names.join("|");
}
