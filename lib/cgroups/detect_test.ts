import { deepEqual, equal, throws } from "node:assert/strict";
import { layoutFrom, parseMountinfo, placementOf } from "./detect.ts";

/** /proc/self/mountinfo on this project's development machines (hybrid: v1 controllers + empty cgroup2). */
const HYBRID_HERE = `21 1 254:0 / / rw,relatime - ext4 /dev/vda rw
23 21 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** A pure cgroup v2 host (Debian 12 / Ubuntu 22.04 with systemd). */
const PURE_V2 = `22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
28 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
`;

/** systemd's classic layout (Ubuntu 18.04): co-mounted cpu,cpuacct and net_cls,net_prio, no v2 controllers. */
const SYSTEMD_V1 = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup rw
27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
28 25 0:25 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_cls,net_prio
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
32 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpuset,clone_children
33 25 0:30 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,freezer
`;

/** Old v1-only machines: no cgroup2 at all; plus a bind mount of a hierarchy elsewhere (ignored). */
const V1_ONLY = `30 25 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
99 21 0:27 /docker/abc /var/lib/x/memory rw,relatime - cgroup cgroup rw,memory
`;

Deno.test("parseMountinfo: fields, optional fields and escapes", () => {
  const [m] = parseMountinfo(
    "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - cgroup cgroup rw,cpu,cpuacct\n",
  );
  deepEqual(m, {
    root: "/mnt1",
    mountPoint: "/mnt two",
    fsType: "cgroup",
    superOptions: ["rw", "cpu", "cpuacct"],
  });
  equal(parseMountinfo("garbage\n\n").length, 0);
});

Deno.test("layoutFrom: this machine's hybrid layout", () => {
  const layout = layoutFrom(HYBRID_HERE, "/sys/fs/cgroup", (m) => {
    equal(m, "/sys/fs/cgroup/unified");
    return "hugetlb\n";
  });
  equal(layout.mode, "hybrid");
  equal(layout.unified, "/sys/fs/cgroup/unified");
  deepEqual(layout.v2, ["hugetlb"]);
  equal(layout.v1.memory, "/sys/fs/cgroup/memory");
  equal(layout.v1.cpu, "/sys/fs/cgroup/cpu");
  equal(layout.v1.cpuacct, "/sys/fs/cgroup/cpuacct");
  deepEqual(placementOf(layout, "pids"), { version: 1, mount: "/sys/fs/cgroup/pids" });
  deepEqual(placementOf(layout, "freezer"), { version: 1, mount: "/sys/fs/cgroup/freezer" });
  equal(layout.v1["name=systemd"], undefined);
});

Deno.test("layoutFrom: pure v2, every controller in the unified hierarchy", () => {
  const layout = layoutFrom(PURE_V2, "/sys/fs/cgroup", () => "cpuset cpu io memory hugetlb pids rdma misc\n");
  equal(layout.mode, "v2");
  equal(layout.unified, "/sys/fs/cgroup");
  deepEqual(layout.v1, {});
  for (const c of ["memory", "pids", "cpu", "cpuset", "cpuacct", "freezer"] as const) {
    deepEqual(placementOf(layout, c), { version: 2, mount: "/sys/fs/cgroup" }, c);
  }
});

Deno.test("layoutFrom: pure v2 without the cpuset controller", () => {
  const layout = layoutFrom(PURE_V2, "/sys/fs/cgroup", () => "cpu io memory pids\n");
  equal(placementOf(layout, "cpuset"), null);
  equal(placementOf(layout, "memory")?.version, 2);
});

Deno.test("layoutFrom: systemd's v1 layout with co-mounted controllers", () => {
  const layout = layoutFrom(SYSTEMD_V1, "/sys/fs/cgroup", () => "");
  equal(layout.mode, "hybrid");
  equal(layout.v1.cpu, "/sys/fs/cgroup/cpu,cpuacct");
  equal(layout.v1.cpuacct, "/sys/fs/cgroup/cpu,cpuacct");
  deepEqual(layout.v2, []);
  equal(placementOf(layout, "cpuacct")?.mount, "/sys/fs/cgroup/cpu,cpuacct");
});

Deno.test("layoutFrom: v1 only; mounts outside the root are ignored", () => {
  const layout = layoutFrom(V1_ONLY, "/sys/fs/cgroup", () => {
    throw new Error("no cgroup2 to read");
  });
  equal(layout.mode, "v1");
  equal(layout.unified, null);
  equal(layout.v1.memory, "/sys/fs/cgroup/memory");
  equal(placementOf(layout, "cpu"), null);
});

Deno.test("layoutFrom: another root (a VM, a test) and no cgroup at all", () => {
  const layout = layoutFrom(PURE_V2.replaceAll("/sys/fs/cgroup", "/mnt/cg"), "/mnt/cg/", () => "memory pids");
  equal(layout.mode, "v2");
  equal(layout.root, "/mnt/cg");
  throws(
    () => layoutFrom(PURE_V2, "/elsewhere", () => ""),
    /no cgroup filesystem is mounted under \/elsewhere/,
  );
});
