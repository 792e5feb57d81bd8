/**
 * `husk run`, observed from inside the container and from the host. Needs root (CI runs as root).
 * Every test uses a throwaway state root and checks that no record, mount or process is left behind.
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import {
  husk,
  isAlive,
  onlyState,
  PROJECT,
  readUntil,
  ROOTFS,
  runningState,
  sandboxOf,
  spawnHusk,
  waitFor,
  withRoot,
} from "./helpers.ts";

const run = (root: string, args: string[], options = {}) => husk(root, ["run", "--rm", ...args], options);

Deno.test("the command runs in the rootfs and its output reaches stdout", () =>
  withRoot(async (root) => {
    const r = await run(root, ["cat", "/etc/os-release"]);
    equal(r.code, 0, r.stderr);
    equal(r.stdout, Deno.readTextFileSync(`${ROOTFS}/etc/os-release`));
  }));

Deno.test("the hostname is the container's own", () =>
  withRoot(async (root) => {
    const host = Deno.hostname();
    const r = await run(root, [
      "--hostname",
      "box",
      "sh",
      "-c",
      "hostname; cat /etc/hostname; grep box /etc/hosts",
    ]);
    equal(r.code, 0, r.stderr);
    deepEqual(r.stdout.split("\n").slice(0, 2), ["box", "box"]);
    // Its own line in /etc/hosts: the address on its network, the hostname and the container's name.
    match(r.stdout, /^10\.88\.0\.2\tbox [a-z]+_[a-z]+$/m);
    equal(Deno.hostname(), host);
    const d = await run(root, ["hostname"]);
    match(d.stdout.trim(), /^[0-9a-f]{12}$/, "the default hostname is the short container id");
  }));

Deno.test("the command is PID 1 and sees only the container's processes", () =>
  withRoot(async (root) => {
    const r = await run(root, ["sh", "-c", "echo $$; ps -o pid,comm; true"]);
    equal(r.code, 0, r.stderr);
    const [pid, header, ...procs] = r.stdout.trim().split("\n");
    equal(pid, "1");
    match(header, /PID/);
    deepEqual(procs.map((l) => l.trim().split(/\s+/)[1]), ["sh", "ps"]);
  }));

Deno.test("every namespace differs from the host's", () =>
  withRoot(async (root) => {
    const kinds = ["ipc", "cgroup", "uts", "net", "mnt", "pid"];
    const r = await run(root, [
      "sh",
      "-c",
      `for k in ${kinds.join(" ")}; do readlink /proc/self/ns/$k; done`,
    ]);
    equal(r.code, 0, r.stderr);
    const inside = r.stdout.trim().split("\n");
    kinds.forEach((k, i) => notEqual(inside[i], Deno.readLinkSync(`/proc/self/ns/${k}`), `${k} namespace`));
  }));

Deno.test("a mount made inside is invisible on the host", () =>
  withRoot(async (root) => {
    // Mounting takes CAP_SYS_ADMIN, which containers do not get by default (as with Docker).
    const r = await run(root, [
      "--cap-add",
      "SYS_ADMIN",
      "sh",
      "-c",
      "mkdir -p /mnt/inside && mount -t tmpfs marker /mnt/inside && grep marker /proc/mounts",
    ]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /marker/);
    ok(!Deno.readTextFileSync("/proc/self/mountinfo").includes("/mnt/inside"));
    await Deno.remove(`${ROOTFS}/mnt/inside`);
  }));

Deno.test("--network none: the network namespace has only lo, and it is up", () =>
  withRoot(async (root) => {
    const r = await run(root, [
      "--network",
      "none",
      "sh",
      "-c",
      "ip -o link; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo pong",
    ]);
    equal(r.code, 0, r.stderr);
    const links = r.stdout.trim().split("\n").filter((l) => /^\d+:/.test(l));
    equal(links.length, 1, r.stdout);
    match(links[0], /^1: lo: <LOOPBACK,UP/);
    match(r.stdout, /pong/);
  }));

Deno.test("/proc, /sys, /dev and /dev/pts are the container's own", () =>
  withRoot(async (root) => {
    const r = await run(root, [
      "sh",
      "-c",
      "cat /proc/mounts; ls /dev; touch /sys/x 2>&1; echo > /dev/null && echo null-ok",
    ]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /^sysfs \/sys sysfs ro,/m);
    match(r.stdout, /^proc \/proc proc rw,nosuid,nodev,noexec/m);
    match(r.stdout, /^devpts \/dev\/pts devpts /m);
    match(r.stdout, /^shm \/dev\/shm tmpfs /m);
    for (const dev of ["null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm"]) {
      match(r.stdout, new RegExp(`^${dev}$`, "m"), `/dev/${dev}`);
    }
    match(r.stdout, /Read-only file system/);
    match(r.stdout, /null-ok/);
  }));

Deno.test("volumes: read-write shows on the host, :ro is really read-only", () =>
  withRoot(async (root) => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/in`, "from host");
      const r = await run(root, [
        "-v",
        `${dir}:/data`,
        "-v",
        `${dir}:/ro:ro`,
        "sh",
        "-c",
        "cat /data/in; echo written > /data/out; echo x > /ro/nope 2>&1 || echo ro-refused",
      ]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /^from host/);
      match(r.stdout, /ro-refused/);
      equal(Deno.readTextFileSync(`${dir}/out`), "written\n");
      ok(![...Deno.readDirSync(dir)].some((e) => e.name === "nope"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("a volume onto a symlink pointing outside stays inside the rootfs", () =>
  withRoot(async (root) => {
    const dir = await Deno.makeTempDir();
    const link = `${ROOTFS}/escape-link`;
    try {
      await Deno.symlink("/tmp/husk-escape-target", link);
      const r = await run(root, [
        "-v",
        `${dir}:/escape-link`,
        "sh",
        "-c",
        "grep husk-escape-target /proc/mounts",
      ]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /\/tmp\/husk-escape-target/);
      ok(!Deno.readTextFileSync("/proc/self/mountinfo").includes("husk-escape-target"));
    } finally {
      await Deno.remove(link);
      await Deno.remove(`${ROOTFS}/tmp/husk-escape-target`).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("--tmpfs mounts a writable tmpfs", () =>
  withRoot(async (root) => {
    const r = await run(root, [
      "--tmpfs",
      "/scratch",
      "sh",
      "-c",
      "echo hi > /scratch/f && cat /scratch/f && grep /scratch /proc/mounts",
    ]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /^hi\ntmpfs \/scratch tmpfs rw,nosuid,nodev,noexec/);
  }));

Deno.test("env: only PATH, HOSTNAME and what -e / --env-file give; the host's environment stays out", () =>
  withRoot(async (root) => {
    const envFile = await Deno.makeTempFile();
    try {
      await Deno.writeTextFile(envFile, "# comment\nFROM_FILE=1\n\nOVERRIDE=file\n");
      const r = await run(
        root,
        [
          "--hostname",
          "h",
          "--env-file",
          envFile,
          "-e",
          "OVERRIDE=flag",
          "-e",
          "PASSED",
          "-e",
          "UNSET_ON_HOST",
          "env",
        ],
        { env: { HUSK_TEST_SECRET: "leak", PASSED: "through" } },
      );
      equal(r.code, 0, r.stderr);
      deepEqual(r.stdout.trim().split("\n").sort(), [
        "FROM_FILE=1",
        "HOSTNAME=h",
        "OVERRIDE=flag",
        "PASSED=through",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ]);
    } finally {
      await Deno.remove(envFile);
    }
  }));

Deno.test("-w sets (and creates) the working directory; -u sets the user", () =>
  withRoot(async (root) => {
    const r = await run(root, [
      "-w",
      "/var/husk-workdir",
      "-u",
      "1000:1001",
      "sh",
      "-c",
      "pwd; id -u; id -g",
    ]);
    equal(r.code, 0, r.stderr);
    deepEqual(r.stdout.trim().split("\n"), ["/var/husk-workdir", "1000", "1001"]);
    await Deno.remove(`${ROOTFS}/var/husk-workdir`);
  }));

Deno.test("exit codes: the command's own, 126, 127", () =>
  withRoot(async (root) => {
    equal((await run(root, ["true"])).code, 0);
    equal((await run(root, ["sh", "-c", "exit 3"])).code, 3);
    const notFound = await run(root, ["no-such-command"]);
    equal(notFound.code, 127);
    equal(notFound.stderr, 'husk: exec: "no-such-command": executable file not found in $PATH\n');
    const noPath = await run(root, ["/bin/nope"]);
    equal(noPath.code, 127);
    equal(noPath.stderr, "husk: exec /bin/nope: no such file in the root filesystem\n");
    const notExecutable = await run(root, ["/etc/os-release"]);
    equal(notExecutable.code, 126);
    equal(notExecutable.stderr, "husk: exec /etc/os-release: permission denied\n");
  }));

Deno.test("exit code 128+N when the container is killed by signal N (137 for SIGKILL)", () =>
  withRoot(async (root) => {
    const child = spawnHusk(root, ["run", "--rm", "sh", "-c", "echo ready; exec sleep 60"]);
    await readUntil(child.stdout, /ready/);
    const pid = (await runningState(root)).pid;
    Deno.kill(pid, "SIGKILL");
    equal((await child.status).code, 137);
    await child.stderr.cancel();
  }));

Deno.test("signals sent to husk reach the container's process", async (t) => {
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"] as const) {
    await t.step(signal, () =>
      withRoot(async (root) => {
        const script = `trap 'echo got ${signal}; exit 7' ${
          signal.slice(3)
        }; echo ready; while :; do sleep 0.05; done`;
        const child = spawnHusk(root, ["run", "--rm", "sh", "-c", script]);
        await readUntil(child.stdout, /ready/);
        child.kill(signal);
        const status = await child.status;
        equal(status.code, 7);
        await child.stderr.cancel();
      }));
  }
});

Deno.test("if husk is killed, the container dies with it", () =>
  withRoot(async (root) => {
    const child = spawnHusk(root, ["run", "sh", "-c", "echo ready; exec sleep 60"]);
    await readUntil(child.stdout, /ready/);
    const pid = (await runningState(root)).pid;
    child.kill("SIGKILL");
    await child.status;
    await child.stderr.cancel();
    await waitFor(() => !isAlive(pid), "the container outlived husk");
  }, { keepRecords: true }));

Deno.test("-i passes stdin; without it stdin is /dev/null", () =>
  withRoot(async (root) => {
    equal((await run(root, ["-i", "cat"], { stdin: "piped in\n" })).stdout, "piped in\n");
    equal((await run(root, ["cat"], { stdin: "ignored\n" })).stdout, "");
    equal((await run(root, ["readlink", "/proc/self/fd/0"])).stdout, "/dev/null\n");
  }));

Deno.test("no host file descriptor beyond 0, 1 and 2 reaches the container", () =>
  withRoot(async (root) => {
    // fd 7 is opened by the shell without close-on-exec, so husk inherits it. husk runs in the test's network
    // sandbox (nsenter keeps the descriptor), with a bridge: no tool it runs leaves a descriptor either.
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        `exec 7</etc/hostname; exec nsenter --net="$3" "$0" run -A "$1" --root "$2" run --rm ls /proc/self/fd`,
        Deno.execPath(),
        `${PROJECT}/main.ts`,
        root,
        `/run/netns/${sandboxOf(root)}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // 3 is the directory ls itself opened to list /proc/self/fd.
    deepEqual(new TextDecoder().decode(out.stdout).trim().split("\n"), ["0", "1", "2", "3"]);
  }));

Deno.test("-t: a real terminal inside (/dev/pts/0) with the host's size; raw mode restored afterwards", () =>
  withRoot(async (root) => {
    // script(1) gives husk a terminal; its own stdin stays open (at end of file it would type into it).
    // husk runs in the test's network sandbox.
    const cmd =
      `stty rows 24 cols 80; stty -g; nsenter --net="$3" "$0" run -q -A "$1" --root "$2" run --rm -it ` +
      `sh -c 'tty; stty size; echo $TERM'; echo "exit=$?"; stty -g`;
    const child = new Deno.Command("script", {
      args: [
        "-qec",
        `sh -c '${cmd.replaceAll("'", "'\\''")}' ${Deno.execPath()} ${PROJECT}/main.ts ${root} ` +
        `/run/netns/${sandboxOf(root)}`,
        "/dev/null",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const output = new Response(child.stdout).text();
    await child.status;
    await child.stdin.close();
    const lines = (await output).split(/\r*\n/);
    const [before, tty, size, term, exit, after] = lines;
    equal(tty, "/dev/pts/0", lines.join("|"));
    equal(size, "24 80", "the host terminal's size");
    equal(term, "xterm");
    equal(exit, "exit=0");
    match(before, /^[0-9a-f:]+$/);
    equal(after, before, "the host terminal's mode was not restored");
  }));

Deno.test("--no-pivot runs the container through chroot", () =>
  withRoot(async (root) => {
    const r = await run(root, ["--no-pivot", "sh", "-c", "cat /etc/os-release; echo $$"]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /husk busybox rootfs|Alpine/);
    match(r.stdout, /\n1\n$/);
  }));

Deno.test("without --rm the exited container's record stays, with its exit code", () =>
  withRoot(async (root) => {
    const r = await husk(root, ["run", "--name", "kept", "sh", "-c", "exit 5"]);
    equal(r.code, 5);
    const state = onlyState(root);
    equal(state.status, "exited");
    equal(state.exitCode, 5);
    const clash = await husk(root, ["run", "--name", "kept", "true"]);
    equal(clash.code, 125);
    match(clash.stderr, /^husk: the container name "kept" is already in use by container [0-9a-f]{12}/);
  }, { keepRecords: true }));

Deno.test("200 consecutive runs: no failure, no hang, nothing left", () =>
  withRoot(async (root) => {
    for (let i = 0; i < 200; i++) {
      const r = await run(root, ["true"]);
      equal(r.code, 0, `run ${i}: ${r.stderr}`);
    }
  }));
