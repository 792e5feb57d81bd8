/**
 * Detached containers and the daily commands (ps, logs, stop, kill, rm, wait, inspect, start, restart,
 * exec, top, prune), observed through the CLI, from inside the containers and on the host.
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { containers, husk, processesInRootfs, waitFor, withRoot } from "./helpers.ts";

const ID = /^[0-9a-f]{64}\n$/;

async function runDetached(root: string, args: string[]): Promise<string> {
  const r = await husk(root, ["run", "-d", ...args]);
  equal(r.code, 0, r.stderr);
  match(r.stdout, ID);
  return r.stdout.trim();
}

async function state(root: string, ref: string): Promise<Record<string, unknown>> {
  const r = await husk(root, ["inspect", ref]);
  equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0].State;
}

function rssKiB(pid: number): number {
  return Number(Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+) kB$/m)![1]);
}

Deno.test("run -d returns the full ID at once; the container outlives husk; its exit is recorded", () =>
  withRoot(async (root) => {
    const id = await runDetached(root, ["--name", "bg", "sh", "-c", "echo started; sleep 0.5; exit 3"]);
    const running = await state(root, "bg");
    equal(running.Running, true);
    const pid = running.Pid as number;
    ok(Deno.readLinkSync(`/proc/${pid}/ns/pid`) !== Deno.readLinkSync("/proc/self/ns/pid"));
    const ps = await husk(root, ["ps"]);
    match(
      ps.stdout,
      new RegExp(`^${id.slice(0, 12)}\\s.*\\sUp (Less than a second|\\d+ seconds?)\\s+bg$`, "m"),
    );
    equal((await husk(root, ["wait", "bg"])).stdout, "3\n");
    const after = await husk(root, ["ps", "-a"]);
    match(after.stdout, /Exited \(3\) .* ago\s+bg$/m);
    equal((await state(root, id.slice(0, 5))).ExitCode, 3);
    equal((await husk(root, ["logs", "bg"])).stdout, "started\n");
    equal((await husk(root, ["rm", "bg"])).code, 0);
  }));

Deno.test("the monitor of a detached container is small and is the container's parent", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "mon", "sleep", "30"]);
    const pid = (await state(root, "mon")).Pid as number;
    const ppid = Number(Deno.readTextFileSync(`/proc/${pid}/status`).match(/^PPid:\s+(\d+)/m)![1]);
    equal(Deno.readTextFileSync(`/proc/${ppid}/comm`).trim(), "husk-monitor");
    const rss = rssKiB(ppid);
    console.log(`monitor RSS: ${rss} KiB`);
    ok(rss < 1024, `monitor RSS ${rss} KiB`);
    equal((await husk(root, ["rm", "-f", "mon"])).code, 0);
  }));

Deno.test("logs: stdout and stderr apart and in order, --tail, -t, -f until exit", () =>
  withRoot(async (root) => {
    await runDetached(root, [
      "--name",
      "talk",
      "sh",
      "-c",
      "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.1; done",
    ]);
    const followed = await husk(root, ["logs", "-f", "talk"]);
    equal(followed.stdout, "out1\nout2\nout3\n");
    equal(followed.stderr, "err1\nerr2\nerr3\n");
    // --tail counts lines of both streams together, as Docker's does.
    const tail = await husk(root, ["logs", "--tail", "2", "talk"]);
    deepEqual([tail.stdout, tail.stderr], ["out3\n", "err3\n"]);
    const stamped = (await husk(root, ["logs", "-t", "talk"])).stdout.trim().split("\n");
    for (const line of stamped) match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\d$/);
    const times = stamped.map((l) => l.split(" ")[0]);
    deepEqual([...times].sort(), times);
    equal((await husk(root, ["logs", "--since", "1h", "talk"])).stdout, "out1\nout2\nout3\n");
    equal((await husk(root, ["logs", "--since", "2099-01-01T00:00:00Z", "talk"])).stdout, "");
    await husk(root, ["rm", "talk"]);
  }));

Deno.test("logs are bounded: a container writing a lot keeps at most two files of max-size", () =>
  withRoot(async (root) => {
    const id = await runDetached(root, [
      "--log-opt",
      "max-size=64k",
      "sh",
      "-c",
      "i=0; while [ $i -lt 4000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done",
    ]);
    equal((await husk(root, ["wait", id])).stdout, "0\n");
    const dir = `${root}/containers/${id}`;
    const sizes = ["container.log", "container.log.1"].map((f) => Deno.statSync(`${dir}/${f}`).size);
    for (const size of sizes) ok(size <= 64 * 1024 + 65552, `log file of ${size} bytes`);
    const tail = (await husk(root, ["logs", "--tail", "1", id])).stdout;
    match(tail, /^line-3999-x+\n$/);
    await husk(root, ["rm", id]);
  }));

Deno.test("stop: SIGTERM first; a process that ignores it is killed after the grace period", () =>
  withRoot(async (root) => {
    await runDetached(root, [
      "--name",
      "polite",
      "sh",
      "-c",
      "trap 'exit 0' TERM; while :; do sleep 0.05; done",
    ]);
    const t0 = Date.now();
    equal((await husk(root, ["stop", "polite"])).stdout, "polite\n");
    ok(Date.now() - t0 < 5000);
    equal((await state(root, "polite")).ExitCode, 0);
    await runDetached(root, ["--name", "stubborn", "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"]);
    const t1 = Date.now();
    equal((await husk(root, ["stop", "-t", "1", "stubborn"])).code, 0);
    ok(Date.now() - t1 >= 1000, "stopped before the grace period");
    equal((await state(root, "stubborn")).ExitCode, 137);
    const again = await husk(root, ["stop", "stubborn"]);
    equal(again.code, 0, "stopping a stopped container is not an error (Docker)");
    await husk(root, ["rm", "polite", "stubborn"]);
  }));

Deno.test("kill -s delivers a signal; kill of a stopped container is an error", () =>
  withRoot(async (root) => {
    await runDetached(root, [
      "--name",
      "kk",
      "sh",
      "-c",
      "trap 'echo got USR1; exit 4' USR1; while :; do sleep 0.05; done",
    ]);
    await new Promise((r) => setTimeout(r, 200));
    equal((await husk(root, ["kill", "-s", "USR1", "kk"])).code, 0);
    equal((await husk(root, ["wait", "kk"])).stdout, "4\n");
    equal((await husk(root, ["logs", "kk"])).stdout, "got USR1\n");
    const stopped = await husk(root, ["kill", "kk"]);
    equal(stopped.code, 1);
    match(stopped.stderr, /^husk: cannot kill container [0-9a-f]{12}: it is not running\n$/);
    await husk(root, ["rm", "kk"]);
  }));

Deno.test("rm of a running container needs -f; rm -f leaves no process or record", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "busy", "sleep", "60"]);
    const refused = await husk(root, ["rm", "busy"]);
    equal(refused.code, 1);
    match(refused.stderr, /cannot remove container [0-9a-f]{12}: it is running; stop it first, or use rm -f/);
    equal(containers(root).length, 1);
    equal((await husk(root, ["rm", "-f", "busy"])).code, 0);
    equal(containers(root).length, 0);
    await waitFor(() => processesInRootfs().length === 0, "the container's processes are gone");
  }));

Deno.test("unknown and ambiguous references: Docker-like errors, exit 1", () =>
  withRoot(async (root) => {
    const unknown = await husk(root, ["stop", "nope"]);
    equal(unknown.code, 1);
    equal(unknown.stderr, "husk: no such container: nope\n");
    // 17 IDs cannot all start with different hex digits: two share a first digit.
    const ids: string[] = [];
    for (let i = 0; i < 17; i++) ids.push(await runDetached(root, ["true"]));
    const first = ids.map((id) => id[0]).find((c, i, all) => all.indexOf(c) !== i)!;
    const ambiguous = await husk(root, ["inspect", first]);
    equal(ambiguous.code, 1);
    match(
      ambiguous.stderr,
      new RegExp(`multiple containers match the prefix "${first}": [0-9a-f]{12}, [0-9a-f]{12}`),
    );
    for (const id of ids) await husk(root, ["wait", id]);
    const pruned = await husk(root, ["prune", "-f"]);
    equal(pruned.code, 0);
    match(pruned.stdout, /Total reclaimed: 17 containers/);
  }));

Deno.test("ps -a, -q, --format json; generated names are unique", () =>
  withRoot(async (root) => {
    const a = await runDetached(root, ["sleep", "30"]);
    const b = await runDetached(root, ["true"]);
    await husk(root, ["wait", b]);
    deepEqual((await husk(root, ["ps", "-q"])).stdout.trim().split("\n"), [a.slice(0, 12)]);
    equal((await husk(root, ["ps", "-a", "-q"])).stdout.trim().split("\n").length, 2);
    const json = (await husk(root, ["ps", "-a", "--format", "json"])).stdout.trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    deepEqual(json.map((j) => j.State).sort(), ["exited", "running"]);
    notEqual(json[0].Names, json[1].Names);
    for (const j of json) match(j.Names, /^[a-z]+_[a-z]+\d*$/);
    await husk(root, ["rm", "-f", a, b]);
  }));

Deno.test("inspect shows Docker's State fields", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "ii", "-e", "X=1", "-w", "/tmp", "sh", "-c", "exit 2"]);
    await husk(root, ["wait", "ii"]);
    const [info] = JSON.parse((await husk(root, ["inspect", "ii"])).stdout);
    equal(info.Name, "/ii");
    equal(info.State.Status, "exited");
    equal(info.State.Running, false);
    equal(info.State.ExitCode, 2);
    equal(info.State.OOMKilled, false);
    ok(Date.parse(info.State.FinishedAt) >= Date.parse(info.State.StartedAt));
    deepEqual(info.Config.Cmd, ["sh", "-c", "exit 2"]);
    equal(info.Config.WorkingDir, "/tmp");
    ok(info.Config.Env.includes("X=1"));
    await husk(root, ["rm", "ii"]);
  }));

Deno.test("start and restart run a stopped container again", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "again", "sh", "-c", "echo run; sleep 30"]);
    await husk(root, ["stop", "-t", "0", "again"]);
    equal((await state(root, "again")).Running, false);
    equal((await husk(root, ["start", "again"])).code, 0);
    equal((await state(root, "again")).Running, true);
    equal((await husk(root, ["restart", "-t", "0", "again"])).code, 0);
    equal((await state(root, "again")).Running, true);
    await waitFor(() => true, "");
    await husk(root, ["rm", "-f", "again"]);
  }));

Deno.test("--restart on-failure:2 restarts twice; always stops when stopped by hand", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "flaky", "--restart", "on-failure:2", "sh", "-c", "echo run; exit 1"]);
    await waitFor(
      () => {
        const s = JSON.parse(Deno.readTextFileSync(`${root}/containers/${containers(root)[0]}/state.json`));
        return s.restartCount === 2 && s.status === "exited";
      },
      "two restarts",
      15_000,
    );
    await new Promise((r) => setTimeout(r, 1000));
    equal((await husk(root, ["logs", "flaky"])).stdout, "run\nrun\nrun\n");
    await husk(root, ["rm", "flaky"]);
    const refused = await husk(root, ["run", "--rm", "--restart", "always", "true"]);
    equal(refused.code, 125);
    match(refused.stderr, /conflicting options: --restart and --rm/);
  }));

/** Host processes whose command line names `id`: a detached container's monitor, then its `husk cleanup`. */
function monitorsOf(id: string): number[] {
  return [...Deno.readDirSync("/proc")].map((e) => Number(e.name)).filter((pid) => {
    try {
      return pid > 0 && Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").includes(id);
    } catch {
      return false;
    }
  });
}

Deno.test("rm and rm -f return once the container's monitor is gone; rm during a restart delay ends it", () =>
  withRoot(async (root) => {
    const running = await runDetached(root, ["sleep", "30"]);
    equal(monitorsOf(running).length, 1, "a running container has its monitor");
    equal((await husk(root, ["rm", "-f", running])).code, 0);
    deepEqual(monitorsOf(running), []);
    // Four quick failures put the monitor in a 1.6 s restart delay (0.1 s, doubled each time).
    const flaky = await runDetached(root, ["--restart", "always", "sh", "-c", "exit 1"]);
    const stateFile = `${root}/containers/${flaky}/state.json`;
    await waitFor(
      () => {
        const s = JSON.parse(Deno.readTextFileSync(stateFile));
        return s.status === "exited" && s.restartCount === 4;
      },
      "four restarts",
      10_000,
    );
    const removed = await husk(root, ["rm", flaky]);
    equal(removed.code, 0, removed.stderr);
    deepEqual(monitorsOf(flaky), [], "the monitor ended with the removal");
    deepEqual(containers(root), [], "no restart brought the container back");
  }));

Deno.test("exec joins the running container: namespaces, env, user, workdir, exit code", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "host", "--hostname", "inside", "-e", "FROM_RUN=1", "sleep", "30"]);
    const r = await husk(root, [
      "exec",
      "-e",
      "EXTRA=2",
      "-w",
      "/tmp",
      "-u",
      "1000:1000",
      "host",
      "sh",
      "-c",
      "hostname; echo $FROM_RUN$EXTRA; pwd; id -u; ps -o pid,comm | grep -c sleep; exit 9",
    ]);
    equal(r.code, 9, r.stderr);
    deepEqual(r.stdout.trim().split("\n"), ["inside", "12", "/tmp", "1000", "1"]);
    const top = await husk(root, ["top", "host"]);
    match(top.stdout.trim(), /^UID\s+PID\s+PPID\s+CMD\n0\s+\d+\s+\d+\s+sleep 30$/);
    await husk(root, ["stop", "-t", "0", "host"]);
    const stopped = await husk(root, ["exec", "host", "true"]);
    equal(stopped.code, 1);
    match(stopped.stderr, /is not running: start it before exec/);
    await husk(root, ["rm", "host"]);
  }));

Deno.test("--init reaps orphaned zombies that a plain PID 1 leaves", () =>
  withRoot(async (root) => {
    const orphan = `sh -c 'sleep 0.1 & exec true'; exec sleep 30`;
    const zombies = async (name: string) => {
      await new Promise((r) => setTimeout(r, 600));
      const r = await husk(root, ["exec", name, "ps", "-o", "stat,comm"]);
      return r.stdout.split("\n").filter((l) => /^Z/.test(l)).length;
    };
    await runDetached(root, ["--name", "plain", "sh", "-c", orphan]);
    await runDetached(root, ["--name", "reaped", "--init", "sh", "-c", orphan]);
    equal(await zombies("plain"), 1, "without --init the orphan stays a zombie");
    equal(await zombies("reaped"), 0, "tini reaps it");
    const [info] = JSON.parse((await husk(root, ["inspect", "reaped"])).stdout);
    deepEqual(info.Config.Cmd.slice(0, 2), ["/dev/init", "--"]);
    await husk(root, ["rm", "-f", "plain", "reaped"]);
  }));

Deno.test("crash safety: a killed monitor, a killed husk; ps tells the truth and rm -f cleans up", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "orphaned", "sleep", "30"]);
    const pid = (await state(root, "orphaned")).Pid as number;
    const monitor = Number(Deno.readTextFileSync(`/proc/${pid}/status`).match(/^PPid:\s+(\d+)/m)![1]);
    Deno.kill(monitor, "SIGKILL");
    match((await husk(root, ["ps"])).stdout, /Up .*orphaned$/m);
    Deno.kill(pid, "SIGKILL");
    await waitFor(() => !processesInRootfs().includes(pid), "the container died");
    match((await husk(root, ["ps", "-a"])).stdout, /Exited \(unknown\) .*orphaned$/m);
    equal((await husk(root, ["rm", "-f", "orphaned"])).code, 0);
    equal(containers(root).length, 0);
  }));

Deno.test("crash safety: what a removal cut short leaves is cleaned by the next run", () =>
  withRoot(async (root) => {
    const id = await runDetached(root, ["true"]);
    equal((await husk(root, ["wait", id])).stdout, "0\n");
    // A removal killed half-way has deleted config.json but not the rest of the directory.
    Deno.removeSync(`${root}/containers/${id}/config.json`);
    equal((await husk(root, ["ps", "-a", "-q"])).stdout, "", "a half-removed container is not listed");
    equal((await husk(root, ["run", "--rm", "true"])).code, 0);
    equal(containers(root).length, 0, "the next run removed the remains");
  }));

Deno.test("exec -i passes stdin to the command", () =>
  withRoot(async (root) => {
    await runDetached(root, ["--name", "cat", "sleep", "30"]);
    const r = await husk(root, ["exec", "-i", "cat", "sh", "-c", "cat; echo done"], {
      stdin: "through exec\n",
    });
    equal(r.code, 0, r.stderr);
    equal(r.stdout, "through exec\ndone\n");
    equal((await husk(root, ["rm", "-f", "cat"])).code, 0);
  }));

Deno.test("run -dit: a detached shell keeps its terminal; its output is logged; exec reaches it", () =>
  withRoot(async (root) => {
    await runDetached(root, ["-it", "--name", "shell", "sh"]);
    await new Promise((r) => setTimeout(r, 300));
    equal((await state(root, "shell")).Running, true, "the shell waits on its terminal");
    const fds = await husk(root, ["exec", "shell", "readlink", "/proc/1/fd/0"]);
    equal(fds.stdout, "/dev/pts/0\n");
    await runDetached(root, ["-t", "--name", "printer", "sh", "-c", "tty; echo out; echo err >&2"]);
    equal((await husk(root, ["wait", "printer"])).stdout, "0\n");
    // One stream, as a terminal delivers it (with its carriage returns).
    equal((await husk(root, ["logs", "printer"])).stdout, "/dev/pts/0\r\nout\r\nerr\r\n");
    equal((await husk(root, ["rm", "-f", "shell", "printer"])).code, 0);
  }));

Deno.test("concurrency: 20 parallel run -d, a contested name, 20 parallel rm -f", () =>
  withRoot(async (root) => {
    const runs = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => husk(root, ["run", "-d", "--name", i < 5 ? "contested" : `c${i}`, "sleep", "30"]),
      ),
    );
    const won = runs.filter((r, i) => i < 5 && r.code === 0);
    equal(won.length, 1, "exactly one run gets the contested name");
    for (const r of runs.slice(0, 5)) if (r.code !== 0) match(r.stderr, /name "contested" is already in use/);
    ok(runs.slice(5).every((r) => r.code === 0));
    equal(containers(root).length, 16);
    const names = JSON.parse((await husk(root, ["inspect", ...containers(root)])).stdout).map((
      i: { Name: string },
    ) => i.Name);
    equal(new Set(names).size, 16);
    const removals = await Promise.all(containers(root).map((id) => husk(root, ["rm", "-f", id])));
    ok(removals.every((r) => r.code === 0), removals.map((r) => r.stderr).join(""));
    equal(containers(root).length, 0);
  }));
