/**
 * Resource limits through `husk run`, on this machine's real cgroups (v1 controllers in a hybrid layout
 * here; the same scenarios run on a pure cgroup v2 kernel in cgroups_v2_vm_test.ts): observed in the
 * kernel's own counters from the host, and in what husk reports.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  cgroupsHolding,
  containerCgroups,
  husk,
  isAlive,
  readUntil,
  runningState,
  spawnHusk,
  waitFor,
  withRoot,
} from "./helpers.ts";

/** The file `file` of the only container's cgroup in the hierarchy holding `controller`. */
function cgroupFile(root: string, controller: string, file: string): string {
  const dir = containerCgroups(root).find((d) =>
    d.includes(`/${controller}/`) || d.includes(`/${controller},`)
  );
  if (!dir) throw new Error(`no ${controller} cgroup for the container`);
  return Deno.readTextFileSync(`${dir}/${file}`);
}

Deno.test("--pids-limit 20 holds a fork bomb: the kernel refuses forks, the host stays responsive", () =>
  withRoot(async (root) => {
    // The inner shell forks until the kernel refuses (then busybox's sh gives up); its children stay, and the
    // outer shell, PID 1, forks no more (echo is built in, sleep replaces it).
    const bomb = "sh -c 'while :; do sleep 30 & done' 2>/dev/null; echo spawned; exec sleep 30";
    const child = spawnHusk(root, ["run", "--rm", "--name", "bomb", "--pids-limit", "20", "sh", "-c", bomb]);
    await readUntil(child.stdout, /spawned/);
    const current = Number(cgroupFile(root, "pids", "pids.current"));
    ok(current <= 20 && current >= 15, `pids.current ${current}`);
    const refused = Number(cgroupFile(root, "pids", "pids.events").match(/^max (\d+)/m)![1]);
    ok(refused > 0, `pids.events max ${refused}`);
    // The host still forks at will.
    equal((await new Deno.Command("true").output()).code, 0);
    equal((await husk(root, ["kill", "bomb"])).code, 0);
    await child.status;
    await child.stderr.cancel();
  }));

Deno.test("a memory hog is OOM-killed under -m 32m: reported, exit 137, recorded", () =>
  withRoot(async (root) => {
    const r = await husk(root, [
      "run",
      "--name",
      "hog",
      "-m",
      "32m",
      "dd",
      "if=/dev/zero",
      "of=/dev/null",
      "bs=64M",
      "count=1",
    ]);
    equal(r.code, 137);
    match(r.stderr, /^husk: container was killed: out of memory \(limit 32 MiB\)\n$/);
    const [info] = JSON.parse((await husk(root, ["inspect", "hog"])).stdout);
    equal(info.State.OOMKilled, true);
    equal(info.State.ExitCode, 137);
    equal(containerCgroups(root).length, 0, "the cgroup is gone after the exit");
    await husk(root, ["rm", "hog"]);
  }, { keepRecords: true }));

Deno.test("--cpus 0.2 throttles a CPU hog (the kernel's nr_throttled rises); stats see it", () =>
  withRoot(async (root) => {
    const run = await husk(root, [
      "run",
      "-d",
      "--name",
      "spin",
      "--cpus",
      "0.2",
      "sh",
      "-c",
      "while :; do :; done",
    ]);
    equal(run.code, 0, run.stderr);
    await new Promise((r) => setTimeout(r, 1200));
    const throttled = Number(cgroupFile(root, "cpu", "cpu.stat").match(/^nr_throttled (\d+)/m)![1]);
    ok(throttled > 0, `nr_throttled ${throttled}`);
    const stats = JSON.parse((await husk(root, ["stats", "--no-stream", "--format", "json", "spin"])).stdout);
    const cpu = parseFloat(stats.CPUPerc);
    ok(cpu > 5 && cpu < 35, `CPU ${stats.CPUPerc} under --cpus 0.2`);
    equal(stats.PIDs, "1");
    match(stats.MemUsage, /^[\d.]+(B|KiB|MiB) \/ [\d.]+(MiB|GiB)$/);
    equal((await husk(root, ["update", "--cpus", "1", "spin"])).code, 0);
    match(cgroupFile(root, "cpu", "cpu.cfs_quota_us"), /^100000\n$/);
    equal((await husk(root, ["rm", "-f", "spin"])).code, 0);
  }));

Deno.test("limits reach the kernel's files; cgroup namespace: the container sees its cgroup as /", () =>
  withRoot(async (root) => {
    const child = spawnHusk(root, [
      "run",
      "--rm",
      "--name",
      "limited",
      "-m",
      "48m",
      "--cpu-shares",
      "512",
      "--cpuset-cpus",
      "0",
      "sh",
      "-c",
      "grep -v ':/$' /proc/self/cgroup; echo ready; sleep 30",
    ]);
    const out = await readUntil(child.stdout, /ready/);
    equal(out, "ready\n", "every cgroup line inside is the container's own root");
    // From the host: the process moved itself into its cgroup in every hierarchy husk uses.
    const pid = (await runningState(root)).pid;
    const hierarchies = containerCgroups(root);
    ok(hierarchies.length >= 5, `container cgroups: ${hierarchies}`);
    deepEqual(cgroupsHolding(root, pid), hierarchies);
    // An exec'd process moves itself into the same cgroup: inside, it too sees that cgroup as its root.
    const exec = await husk(root, ["exec", "limited", "sh", "-c", "grep -v ':/$' /proc/self/cgroup; true"]);
    equal(exec.code, 0, exec.stderr);
    equal(exec.stdout, "", "every cgroup line of the exec'd process is the container's own root");
    equal(cgroupFile(root, "memory", "memory.limit_in_bytes"), `${48 * 1024 * 1024}\n`);
    equal(cgroupFile(root, "cpu", "cpu.shares"), "512\n");
    equal(cgroupFile(root, "cpuset", "cpuset.cpus"), "0\n");
    equal(cgroupFile(root, "pids", "pids.max"), "4096\n", "the default pids limit");
    equal((await husk(root, ["kill", "limited"])).code, 0);
    await child.status;
    await child.stderr.cancel();
  }));

Deno.test("if husk is SIGKILLed, the next command removes the container's cgroup", () =>
  withRoot(async (root) => {
    const child = spawnHusk(root, ["run", "--pids-limit", "50", "sh", "-c", "echo ready; exec sleep 30"]);
    await readUntil(child.stdout, /ready/);
    ok(containerCgroups(root).length > 0);
    const pid = (await runningState(root)).pid;
    child.kill("SIGKILL");
    await child.status;
    await child.stderr.cancel();
    await waitFor(() => !isAlive(pid), "the container died with husk");
    match((await husk(root, ["ps", "-a"])).stdout, /Exited \(unknown\)/);
    equal(containerCgroups(root).length, 0, "ps collected the stale cgroup");
    await husk(root, ["rm", "-f", onlyStateId(root)]);
  }));

function onlyStateId(root: string): string {
  return [...Deno.readDirSync(`${root}/containers`)][0].name;
}

Deno.test("bad limits are refused before anything is created", () =>
  withRoot(async (root) => {
    for (
      const [flags, message] of [
        [["--memory", "10x"], /invalid --memory "10x"/],
        [["--memory", "1k"], /--memory/],
        [["--cpus", "0"], /invalid --cpus "0"/],
        [["--cpus", "64"], /invalid --cpus "64"/],
        [["--pids-limit", "-5"], /invalid --pids-limit "-5"/],
        [["--cpuset-cpus", "63"], /invalid --cpuset-cpus "63"/],
      ] as const
    ) {
      const r = await husk(root, ["run", "--rm", ...flags, "true"]);
      equal(r.code, 125, r.stderr);
      match(r.stderr, message);
      match(r.stderr, /^husk: [^\n]+\n$/);
      equal(containerCgroups(root).length, 0);
    }
  }));
