/**
 * Confinement, observed through escape attempts that must fail (and --privileged, which lifts them): the
 * capability sets, masked and read-only paths, a read-only root, no_new_privs and the seccomp filter.
 */
import { equal, match, notEqual } from "node:assert/strict";
import { husk, PROJECT, withRoot } from "./helpers.ts";
import { type ProbeCall, writeProbes, writeSequenceProbe } from "./probe.ts";

const EPERM = 1;
const run = (root: string, args: string[]) => husk(root, ["run", "--rm", ...args]);

/** A container's CapEff (hexadecimal) as it sees it. */
async function capEff(root: string, flags: string[]): Promise<string> {
  const r = await run(root, [...flags, "sh", "-c", "grep CapEff /proc/self/status"]);
  equal(r.code, 0, r.stderr);
  return r.stdout.trim().split(/\s+/)[1];
}

Deno.test("capabilities: Docker's 14 by default; --cap-add, --cap-drop, ALL; a non-root user has none", () =>
  withRoot(async (root) => {
    equal(await capEff(root, []), "00000000a80425fb");
    equal(await capEff(root, ["--cap-drop", "ALL", "--cap-add", "NET_RAW"]), "0000000000002000");
    equal(await capEff(root, ["--cap-add", "sys_time", "--cap-drop", "CAP_CHOWN"]), "00000000aa0425fa");
    equal(await capEff(root, ["-u", "1000"]), "0000000000000000");
    const r = await run(root, ["sh", "-c", "grep -E 'Cap(Bnd|Inh|Amb)' /proc/self/status"]);
    match(r.stdout, /CapInh:\s+0{16}\nCapBnd:\s+00000000a80425fb\nCapAmb:\s+0{16}/);
  }));

Deno.test("escapes refused: sysrq, remounting /proc/sys, a block device, a kernel module, raw sockets", () =>
  withRoot(async (root) => {
    const probes = await writeProbes({
      init_module: [175, 0, 0, 0],
      raw_socket: [41, 2, 3, 1], // socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
      keyctl: [250, 0, -3, 0], // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING)
      ptrace: [101, 16, 1, 0], // ptrace(PTRACE_ATTACH, 1)
    });
    try {
      const v = ["-v", `${probes}:/probe:ro`];
      // Devices are made on a tmpfs, not in the shared root filesystem.
      const r = await run(root, [
        ...v,
        "--tmpfs",
        "/tmp",
        "sh",
        "-c",
        [
          "echo h > /proc/sysrq-trigger 2>/dev/null && echo sysrq-written",
          "mount -o remount,rw /proc/sys 2>/dev/null && echo proc-sys-rw",
          "mknod /tmp/blk b 8 0 2>/dev/null && echo block-device-made",
          "mknod /tmp/chr c 1 3 && echo char-device-made",
          "/probe/init_module; echo init_module=$?",
          "/probe/raw_socket; echo raw_socket=$?",
          "/probe/keyctl; echo keyctl=$?",
          "/probe/ptrace; echo ptrace=$?",
        ].join("; "),
      ]);
      equal(
        r.stdout,
        ["char-device-made", "init_module=1", "raw_socket=0", "keyctl=1", "ptrace=1", ""].join("\n"),
      );
      const noRaw = await run(root, [...v, "--cap-drop", "NET_RAW", "/probe/raw_socket"]);
      equal(noRaw.code, EPERM, "a raw socket without NET_RAW");
      const unconfined = await run(root, [...v, "--security-opt", "seccomp=unconfined", "/probe/keyctl"]);
      notEqual(unconfined.code, EPERM, "keyctl is refused by the seccomp filter, not by anything else");
    } finally {
      await Deno.remove(probes, { recursive: true });
    }
  }));

Deno.test("masked and read-only paths; --read-only root; no_new_privs", () =>
  withRoot(async (root) => {
    const r = await run(root, [
      "sh",
      "-c",
      [
        "grep -E ' /proc/(sys|bus|fs|irq) ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1",
        "ls /sys/firmware | wc -l",
        "touch /proc/sys/kernel/hostname 2>/dev/null || echo proc-sys-read-only",
      ].join("; "),
    ]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /^\/proc\/sys ro$/m);
    match(r.stdout, /^0\nproc-sys-read-only\n$/m);
    const ro = await run(root, [
      "--read-only",
      "--tmpfs",
      "/scratch",
      "sh",
      "-c",
      "touch /x 2>&1; touch /scratch/y && echo tmpfs-ok",
    ]);
    match(ro.stdout, /Read-only file system\ntmpfs-ok\n$/);
    const nnp = await run(root, [
      "--security-opt",
      "no-new-privileges",
      "grep",
      "NoNewPrivs",
      "/proc/self/status",
    ]);
    match(nnp.stdout, /NoNewPrivs:\s+1/);
    const plain = await run(root, ["grep", "NoNewPrivs", "/proc/self/status"]);
    match(plain.stdout, /NoNewPrivs:\s+0/);
  }));

Deno.test("--privileged: every capability husk has, no filter, nothing masked, /sys writable", () =>
  withRoot(async (root) => {
    const own = Deno.readTextFileSync("/proc/self/status").match(/^CapPrm:\s*([0-9a-f]+)$/m)![1];
    equal(await capEff(root, ["--privileged"]), own);
    const r = await run(root, [
      "--privileged",
      "sh",
      "-c",
      "grep -c ' /proc/sys ' /proc/mounts; grep ' /sys ' /proc/mounts",
    ]);
    match(r.stdout, /^0\nsysfs \/sys sysfs rw,/);
  }));

Deno.test("bad confinement flags: one clear error, nothing created", () =>
  withRoot(async (root) => {
    const cases: [string[], RegExp][] = [
      [["--cap-add", "FLY"], /^husk: --cap-add: unknown capability "FLY"/],
      [["--security-opt", "apparmor=x"], /^husk: invalid --security-opt "apparmor=x"/],
      [
        ["--security-opt", "seccomp=/nonexistent.json"],
        /^husk: cannot read seccomp profile \/nonexistent.json/,
      ],
    ];
    const invalid = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(invalid, '{"defaultAction": "SCMP_ACT_SOMETIMES", "syscalls": []}');
    cases.push([
      ["--security-opt", `seccomp=${invalid}`],
      /^husk: invalid seccomp profile .*SCMP_ACT_SOMETIMES/,
    ]);
    try {
      for (const [flags, message] of cases) {
        const r = await run(root, [...flags, "true"]);
        equal(r.code, 125, r.stderr);
        match(r.stderr, message);
      }
    } finally {
      await Deno.remove(invalid);
    }
  }));

Deno.test("devices cgroup (v1): a device node outside the standard ones can be made but not opened", () =>
  withRoot(async (root) => {
    const script = "mknod /tmp/kmsg c 1 11 && head -c1 /tmp/kmsg | wc -c";
    const confined = await run(root, ["--tmpfs", "/tmp:dev", "sh", "-c", script]);
    match(confined.stderr, /head: \/tmp\/kmsg: Operation not permitted/);
    const standard = await run(root, [
      "sh",
      "-c",
      "head -c1 /dev/zero | wc -c; echo x > /dev/null && echo null-ok",
    ]);
    equal(standard.stdout, "1\nnull-ok\n");
    const privileged = await run(root, ["--privileged", "--tmpfs", "/tmp:dev", "sh", "-c", script]);
    equal(privileged.stdout, "1\n", privileged.stderr);
  }));

Deno.test("the classic chroot escape leads back to the container's root, not the host's", () =>
  withRoot(async (root) => {
    const dir = await Deno.makeTempDir({ prefix: "husk-probe-" });
    try {
      // mkdir x; chroot x; chdir .. (ten times); chroot .; open a file only the host has.
      const hostOnly = `${PROJECT}/deno.json`;
      const calls: ProbeCall[] = [
        [83, "x", 0o755],
        [161, "x"],
        ...Array.from({ length: 10 }, (): ProbeCall => [80, ".."]),
        [161, "."],
        [2, hostOnly, 0],
      ];
      const probe = await writeSequenceProbe(dir, "escape", calls);
      // The probe works: on the host (a plain chroot, no pivot_root) the trick escapes.
      const work = await Deno.makeTempDir();
      const onHost = await new Deno.Command(probe, { cwd: work }).output();
      await Deno.remove(work, { recursive: true });
      equal(onHost.code, 0, "the trick escapes a plain chroot");
      const inside = await run(root, [
        "-v",
        `${dir}:/probe:ro`,
        "--tmpfs",
        "/tmp",
        "-w",
        "/tmp",
        "/probe/escape",
      ]);
      equal(
        inside.code,
        100 + calls.length - 1,
        "every step but the last ran; the host's file was not reached",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));
