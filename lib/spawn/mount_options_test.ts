import { deepEqual, equal } from "node:assert/strict";
import { MS } from "./linux.ts";
import { mountFlagNames, parseMountOptions } from "./mount_options.ts";

Deno.test("parseMountOptions: no options, no flags, no data", () => {
  deepEqual(parseMountOptions([]), { flags: 0, data: "" });
});

Deno.test("parseMountOptions: flags and file system data are split", () => {
  deepEqual(parseMountOptions(["nosuid", "strictatime", "mode=755", "size=65536k"]), {
    flags: MS.NOSUID | MS.STRICTATIME,
    data: "mode=755,size=65536k",
  });
  deepEqual(parseMountOptions(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]), {
    flags: MS.NOSUID | MS.NOEXEC,
    data: "newinstance,ptmxmode=0666,mode=0620,gid=5",
  });
});

Deno.test("parseMountOptions: each setting flag", () => {
  const cases: [string, number][] = [
    ["ro", MS.RDONLY],
    ["nosuid", MS.NOSUID],
    ["nodev", MS.NODEV],
    ["noexec", MS.NOEXEC],
    ["sync", MS.SYNCHRONOUS],
    ["dirsync", MS.DIRSYNC],
    ["noatime", MS.NOATIME],
    ["nodiratime", MS.NODIRATIME],
    ["relatime", MS.RELATIME],
    ["strictatime", MS.STRICTATIME],
    ["bind", MS.BIND],
  ];
  for (const [option, flag] of cases) {
    deepEqual(parseMountOptions([option]), { flags: flag, data: "" }, option);
  }
});

Deno.test("parseMountOptions: rbind sets MS_BIND and MS_REC", () => {
  equal(parseMountOptions(["rbind"]).flags, MS.BIND | MS.REC);
  equal(parseMountOptions(["bind"]).flags & MS.REC, 0);
});

Deno.test("parseMountOptions: rw clears ro, and the later option wins", () => {
  equal(parseMountOptions(["ro", "rw"]).flags, 0);
  equal(parseMountOptions(["rw", "ro"]).flags, MS.RDONLY);
  equal(parseMountOptions(["rbind", "rw"]).flags, MS.BIND | MS.REC);
  equal(parseMountOptions(["rbind", "ro"]).flags, MS.BIND | MS.REC | MS.RDONLY);
});

Deno.test("parseMountOptions: each clearing option clears only its own flag", () => {
  const all = ["ro", "nosuid", "nodev", "noexec", "sync", "noatime", "nodiratime", "relatime", "strictatime"];
  const allFlags = parseMountOptions(all).flags;
  const cases: [string, number][] = [
    ["rw", MS.RDONLY],
    ["suid", MS.NOSUID],
    ["dev", MS.NODEV],
    ["exec", MS.NOEXEC],
    ["async", MS.SYNCHRONOUS],
    ["atime", MS.NOATIME],
    ["diratime", MS.NODIRATIME],
    ["norelatime", MS.RELATIME],
    ["nostrictatime", MS.STRICTATIME],
  ];
  for (const [option, flag] of cases) {
    equal(parseMountOptions([...all, option]).flags, allFlags & ~flag, option);
  }
});

Deno.test("parseMountOptions: unknown options keep their order in the data", () => {
  deepEqual(parseMountOptions(["size=1m", "ro", "uid=1000", "mode=1777"]), {
    flags: MS.RDONLY,
    data: "size=1m,uid=1000,mode=1777",
  });
});

Deno.test("mountFlagNames: the names of the set flags, in bit order", () => {
  equal(mountFlagNames(0), "0");
  equal(mountFlagNames(MS.BIND), "MS_BIND");
  equal(mountFlagNames(MS.REC | MS.BIND), "MS_BIND|MS_REC");
  equal(mountFlagNames(MS.RDONLY | MS.REMOUNT | MS.BIND), "MS_RDONLY|MS_REMOUNT|MS_BIND");
  equal(mountFlagNames(MS.REC | MS.PRIVATE), "MS_REC|MS_PRIVATE");
  equal(mountFlagNames(MS.NOSUID | MS.NODEV | MS.NOEXEC), "MS_NOSUID|MS_NODEV|MS_NOEXEC");
  equal(mountFlagNames(MS.MOVE), "MS_MOVE");
  equal(mountFlagNames(MS.STRICTATIME), "MS_STRICTATIME");
});
