/** The manager against a fake cgroupfs (fake_fs.ts): v1, hybrid and pure v2 machines, no root needed. */
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { detectLayout } from "./detect.ts";
import { FakeCgroupFs, type FakeOptions } from "./fake_fs.ts";
import { CgroupError } from "./fs.ts";
import { type CgroupOptions, createCgroup, listCgroups, openCgroup, removeStaleCgroups } from "./manager.ts";

const MiB = 2 ** 20;
const R = "/fake/cgroup";

function machine(options: FakeOptions): { fs: FakeCgroupFs; opts: CgroupOptions } {
  const fs = new FakeCgroupFs(options);
  return { fs, opts: { fs, root: fs.root } };
}

/**
 * Every mutation is under <mount>/<top of parent> (husk's own), or enables controllers in an ancestor's
 * subtree_control on v2.
 */
function assertOnlyOwnCgroups(fs: FakeCgroupFs, parent = "husk"): void {
  const top = parent.split("/")[0];
  for (const m of fs.mutations()) {
    const mount = [...fs.mounts.keys()].filter((k) =>
      m.path.startsWith(k)
    ).sort((a, b) => b.length - a.length)[0];
    ok(mount !== undefined, `outside every hierarchy: ${m.op} ${m.path}`);
    const own = m.path.startsWith(`${mount}/${top}/`) || m.path === `${mount}/${top}`;
    const enabling = m.path.endsWith("/cgroup.subtree_control") && /^(\+[a-z]+ ?)+$/.test(m.value) &&
      `${mount}/${parent}/`.startsWith(m.path.slice(0, -"/cgroup.subtree_control".length) + "/");
    ok(own || enabling, `touched another cgroup: ${m.op} ${m.path} ${m.value}`);
    ok(!m.path.includes("process_api"), m.path);
  }
}

Deno.test("detectLayout reads the fake machine like a real one", () => {
  equal(detectLayout(new FakeCgroupFs({ mode: "hybrid" }), R).mode, "hybrid");
  equal(detectLayout(new FakeCgroupFs({ mode: "v2" }), R).mode, "v2");
  equal(detectLayout(new FakeCgroupFs({ mode: "v1" }), R).mode, "v1");
});

Deno.test("hybrid (this machine): a directory per v1 hierarchy under husk/, limits written, cpuset copied", () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  const cg = createCgroup(
    "c1",
    { memory: 32 * MiB, cpuQuota: 20000, cpuPeriod: 100000, pidsLimit: 20 },
    opts,
  );
  deepEqual(
    cg.paths.sort(),
    ["cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"].map((h) => `${R}/${h}/husk/c1`),
  );
  equal(cg.pathOf("memory"), `${R}/memory/husk/c1`);
  equal(fs.read(`${R}/memory/husk/c1/memory.limit_in_bytes`), String(32 * MiB));
  equal(
    fs.read(`${R}/memory/husk/c1/memory.memsw.limit_in_bytes`),
    String(64 * MiB),
    "Docker's default swap",
  );
  equal(fs.read(`${R}/cpu/husk/c1/cpu.cfs_quota_us`), "20000");
  equal(fs.read(`${R}/pids/husk/c1/pids.max`), "20");
  equal(fs.read(`${R}/cpuset/husk/cpuset.cpus`), "0-1");
  equal(fs.read(`${R}/cpuset/husk/c1/cpuset.cpus`), "0-1");
  equal(fs.read(`${R}/cpuset/husk/c1/cpuset.mems`), "0");
  ok(!fs.log.some((l) => l.includes("/unified/")), "nothing in the controller-less cgroup2");
  equal(cg.restrictDevices(["c 1:3 rwm"]), true);
  ok(fs.log.includes(`write ${R}/devices/husk/c1/devices.deny a`), fs.log.join("\n"));
  ok(fs.log.includes(`write ${R}/devices/husk/c1/devices.allow c 1:3 rwm`));
  cg.join(4242);
  deepEqual(cg.pids(), [4242]);
  assertOnlyOwnCgroups(fs);
});

Deno.test("v1 cpuset: the parent clones its cpus and mems into each new cgroup, with no write per container", () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  createCgroup("c1", {}, opts);
  equal(fs.read(`${R}/cpuset/husk/cgroup.clone_children`), "1");
  const before = fs.log.length;
  createCgroup("c2", {}, opts);
  equal(fs.read(`${R}/cpuset/husk/c2/cpuset.cpus`), "0-1");
  equal(fs.read(`${R}/cpuset/husk/c2/cpuset.mems`), "0");
  deepEqual(
    fs.log.slice(before).filter((l) => !l.startsWith("mkdir ")),
    [],
    "no limit asked: nothing but the directories",
  );
});

Deno.test("a parent removed after this process made it ready is made again by the next creation", async () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  await createCgroup("c1", {}, opts).destroy();
  for (const h of ["cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"]) {
    fs.rmdir(`${R}/${h}/husk`);
  }
  const before = fs.log.length;
  const cg = createCgroup("c2", {}, opts);
  for (const p of cg.paths) ok(fs.exists(p), p);
  equal(fs.read(`${R}/cpuset/husk/c2/cpuset.cpus`), "0-1", "the cpuset parent set up again");
  ok(fs.log.slice(before).includes(`mkdir ${R}/memory/husk`));
});

Deno.test("selfJoinFiles: v1's tasks (a thread moves itself), v2's cgroup.procs; one per hierarchy", () => {
  const { opts: hybrid } = machine({ mode: "hybrid" });
  const v1 = createCgroup("c1", {}, hybrid);
  deepEqual(v1.selfJoinFiles(), v1.paths.map((p) => `${p}/tasks`));
  const { opts: v2 } = machine({ mode: "v2" });
  deepEqual(createCgroup("c1", {}, v2).selfJoinFiles(), [`${R}/husk/c1/cgroup.procs`]);
});

Deno.test("v1 with cpu,cpuacct co-mounted: one directory for both", () => {
  const { opts } = machine({ mode: "v1", comountCpu: true });
  const cg = createCgroup("c1", { cpuShares: 512 }, opts);
  equal(cg.pathOf("cpu"), `${R}/cpu,cpuacct/husk/c1`);
  equal(cg.pathOf("cpuacct"), cg.pathOf("cpu"));
  equal(cg.paths.filter((p) => p.includes("cpu,cpuacct")).length, 1);
});

Deno.test("pure v2: one directory; controllers enabled in the root's and husk's subtree_control", () => {
  const { fs, opts } = machine({ mode: "v2" });
  const cg = createCgroup("c1", {
    memory: 64 * MiB,
    memorySwap: 96 * MiB,
    cpuQuota: 50000,
    cpuPeriod: 100000,
    cpuShares: 512,
    cpusetCpus: "1",
    pidsLimit: 30,
  }, opts);
  deepEqual(cg.paths, [`${R}/husk/c1`]);
  const enabled = (d: string) => fs.read(`${d}/cgroup.subtree_control`).split(" ").sort();
  deepEqual(enabled(R), ["cpu", "cpuset", "memory", "pids"]);
  deepEqual(enabled(`${R}/husk`), ["cpu", "cpuset", "memory", "pids"]);
  const f = (n: string) => fs.read(`${R}/husk/c1/${n}`);
  equal(f("memory.max"), String(64 * MiB));
  equal(f("memory.swap.max"), String(32 * MiB));
  equal(f("cpu.max"), "50000 100000");
  equal(f("cpu.weight"), "20");
  equal(f("cpuset.cpus"), "1");
  equal(f("pids.max"), "30");
  cg.join(4242);
  assertOnlyOwnCgroups(fs);
  // A second container: the parents are already set up.
  const before = fs.log.length;
  createCgroup("c2", {}, opts);
  deepEqual(fs.log.slice(before), [`mkdir ${R}/husk/c2`]);
});

Deno.test("a nested parent is made and enabled level by level", () => {
  const { fs, opts } = machine({ mode: "v2" });
  const cg = createCgroup("c1", { pidsLimit: 5 }, { ...opts, parent: "husk/tests" });
  deepEqual(cg.paths, [`${R}/husk/tests/c1`]);
  equal(fs.read(`${R}/husk/tests/cgroup.subtree_control`).includes("pids"), true);
  assertOnlyOwnCgroups(fs, "husk/tests");
});

Deno.test("a refused write names the file and the value, and nothing is left", () => {
  for (const mode of ["hybrid", "v2"] as const) {
    const { fs, opts } = machine({ mode });
    fs.failWrites.set("pids.max", "EINVAL");
    throws(() => createCgroup("c1", { memory: 32 * MiB, pidsLimit: 20 }, opts), (e: unknown) => {
      ok(e instanceof CgroupError, String(e));
      ok(e.message.includes(`"20"`) && e.message.includes("/husk/c1/pids.max"), e.message);
      equal(e.code, "EINVAL");
      return true;
    });
    equal(openCgroup("c1", opts), null, mode);
    deepEqual(listCgroups(opts), [], mode);
  }
});

Deno.test("a cpuset the kernel refuses: rolled back", () => {
  const { opts } = machine({ mode: "hybrid" });
  throws(() => createCgroup("c1", { cpusetCpus: "63" }, opts), /cannot write "63" to .*cpuset\.cpus/);
  equal(openCgroup("c1", opts), null);
});

Deno.test("an existing cgroup of that name is refused and left alone", () => {
  const { fs, opts } = machine({ mode: "v2" });
  const first = createCgroup("c1", {}, opts);
  first.join(77);
  throws(() => createCgroup("c1", { pidsLimit: 3 }, opts), /already exists/);
  ok(fs.exists(`${R}/husk/c1`));
  deepEqual(first.pids(), [77]);
});

Deno.test("names and parents that could escape husk's cgroup are refused before anything is made", () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  for (const name of ["../x", "a/b", "", ".hidden", "process_api", "x".repeat(200)]) {
    throws(() => createCgroup(name, {}, opts), CgroupError, name);
  }
  for (const parent of ["../memory", "/husk", "process_api", "husk/../process_api", "husk/", ""]) {
    throws(() => createCgroup("c1", {}, { ...opts, parent }), CgroupError, parent);
  }
  deepEqual(fs.log, []);
});

Deno.test("a limit whose controller the kernel lacks: an error before anything is made", () => {
  const { fs, opts } = machine({ mode: "hybrid", without: ["pids"] });
  throws(() => createCgroup("c1", { pidsLimit: 20 }, opts), /--pids-limit needs the pids cgroup controller/);
  deepEqual(fs.log, []);
  // Unlimited needs nothing.
  createCgroup("c2", { pidsLimit: -1 }, opts);
});

Deno.test("--memory-swap on a kernel without swap accounting", () => {
  for (const mode of ["hybrid", "v2"] as const) {
    const { opts } = machine({ mode, swap: false });
    throws(() => createCgroup("c1", { memory: 32 * MiB, memorySwap: 64 * MiB }, opts), /swap accounting/);
    equal(openCgroup("c1", opts), null);
    // Without --memory-swap: no swap limit, no error.
    createCgroup("c2", { memory: 32 * MiB }, opts);
  }
});

Deno.test("update on v1: the memory/memsw order adapts (the fake enforces memory <= memsw)", () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  const cg = createCgroup("c1", { memory: 32 * MiB, memorySwap: 32 * MiB }, opts);
  cg.update({ memory: 128 * MiB });
  equal(fs.read(`${R}/memory/husk/c1/memory.limit_in_bytes`), String(128 * MiB));
  equal(fs.read(`${R}/memory/husk/c1/memory.memsw.limit_in_bytes`), String(256 * MiB));
  cg.update({ memory: 16 * MiB, memorySwap: 16 * MiB });
  equal(fs.read(`${R}/memory/husk/c1/memory.limit_in_bytes`), String(16 * MiB));
  equal(fs.read(`${R}/memory/husk/c1/memory.memsw.limit_in_bytes`), String(16 * MiB));
  cg.update({ memory: 64 * MiB, memorySwap: -1 });
  equal(fs.read(`${R}/memory/husk/c1/memory.limit_in_bytes`), String(64 * MiB));
});

Deno.test("join refuses pid 1 and husk's own process", () => {
  const { opts } = machine({ mode: "v2" });
  const cg = createCgroup("c1", {}, opts);
  throws(() => cg.join(1), /refusing to move process 1/);
  throws(() => cg.join(Deno.pid), /refusing/);
  throws(() => cg.join(0), /refusing/);
});

Deno.test("killAll on v1: freeze, SIGKILL each process, thaw", async () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  const cg = createCgroup("c1", {}, opts);
  cg.join(101);
  cg.join(102);
  await cg.killAll();
  deepEqual(cg.pids(), []);
  const tail = fs.log.filter((l) => l.includes("freezer.state") || l.startsWith("kill"));
  deepEqual(tail, [
    `write ${R}/freezer/husk/c1/freezer.state FROZEN`,
    "kill 101",
    "kill 102",
    `write ${R}/freezer/husk/c1/freezer.state THAWED`,
  ]);
});

Deno.test("killAll on v2: cgroup.kill; without it (Linux < 5.14), cgroup.freeze", async () => {
  const { fs, opts } = machine({ mode: "v2" });
  const cg = createCgroup("c1", {}, opts);
  cg.join(101);
  await cg.killAll();
  deepEqual(cg.pids(), []);
  ok(fs.log.includes(`write ${R}/husk/c1/cgroup.kill 1`));
  const old = machine({ mode: "v2", cgroupKill: false });
  const cg2 = createCgroup("c1", {}, old.opts);
  cg2.join(101);
  await cg2.killAll();
  deepEqual(
    old.fs.log.filter((l) => l.includes("cgroup.freeze") || l.startsWith("kill")),
    [`write ${R}/husk/c1/cgroup.freeze 1`, "kill 101", `write ${R}/husk/c1/cgroup.freeze 0`],
  );
});

Deno.test("killAll gives up with an error when processes survive", async () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  const cg = createCgroup("c1", {}, opts);
  cg.join(101);
  fs.kill = (pid) => void fs.log.push(`kill ${pid}`); // an unkillable process
  await rejects(cg.killAll(50), /processes 101 survive SIGKILL/);
});

Deno.test("destroy: kills, removes every directory leaf first, is idempotent; the parent stays", async () => {
  for (const mode of ["hybrid", "v2", "v1"] as const) {
    const { fs, opts } = machine({ mode });
    const cg = createCgroup("c1", { pidsLimit: 10 }, opts);
    cg.join(101);
    await cg.destroy();
    for (const p of cg.paths) ok(!fs.exists(p), p);
    equal(openCgroup("c1", opts), null);
    await cg.destroy();
    ok(fs.exists(`${cg.paths[0].slice(0, cg.paths[0].lastIndexOf("/"))}`), "the parent stays");
    assertOnlyOwnCgroups(fs);
  }
});

Deno.test("destroy of an empty cgroup: its directories go at once, nothing is frozen or killed", async () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  const cg = createCgroup("c1", {}, opts);
  const before = fs.log.length;
  await cg.destroy();
  deepEqual(fs.log.slice(before), [...cg.paths].reverse().map((p) => `rmdir ${p}`));
});

Deno.test("removeStaleCgroups: removes the cgroups of containers that are gone, keeps the live ones", async () => {
  const { fs, opts } = machine({ mode: "hybrid" });
  createCgroup("live1", {}, opts).join(201);
  createCgroup("gone1", {}, opts).join(202);
  createCgroup("gone2", {}, opts);
  deepEqual(listCgroups(opts), ["gone1", "gone2", "live1"]);
  const result = await removeStaleCgroups(new Set(["live1"]), opts);
  deepEqual(result.removed, ["gone1", "gone2"]);
  deepEqual(result.failed, []);
  deepEqual(listCgroups(opts), ["live1"]);
  ok(fs.log.includes("kill 202"));
  ok(!fs.log.includes("kill 201"));
  deepEqual(openCgroup("live1", opts)!.pids(), [201]);
});

Deno.test("stats and OOM from the kernel's counters", () => {
  for (const mode of ["hybrid", "v2"] as const) {
    const { fs, opts } = machine({ mode });
    const cg = createCgroup("c1", { memory: 32 * MiB, pidsLimit: 20 }, opts);
    equal(cg.oomKilled(), false);
    const mem = cg.pathOf("memory")!;
    if (mode === "v2") fs.files.set(`${mem}/memory.events`, "oom 1\noom_kill 1\n");
    else fs.files.set(`${mem}/memory.oom_control`, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
    equal(cg.oomKilled(), true, mode);
    const s = cg.stats();
    equal(s.memoryLimit, 32 * MiB);
    equal(s.pidsLimit, 20);
    equal(s.oomKills, 1);
  }
});

Deno.test("oomKilled on an old v1 kernel without oom_kill: the memory+swap limit was hit", () => {
  const { fs, opts } = machine({ mode: "v1" });
  const cg = createCgroup("c1", { memory: 32 * MiB }, opts);
  fs.files.set(`${cg.pathOf("memory")}/memory.oom_control`, "oom_kill_disable 0\nunder_oom 0\n");
  equal(cg.oomKills(), null);
  equal(cg.oomKilled(), false);
  fs.files.set(`${cg.pathOf("memory")}/memory.memsw.failcnt`, "3\n");
  equal(cg.oomKilled(), true);
});
