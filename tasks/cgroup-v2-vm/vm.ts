/**
 * A real cgroup v2 kernel for the tests: Debian's stock kernel (linux-image-amd64, from apt) booted by QEMU
 * with software emulation (TCG), with an initramfs made here: a static busybox, bash, Deno and the sources
 * of lib/cgroups plus the scenario driver (driver.ts). The guest's /init mounts cgroup2 at /sys/fs/cgroup
 * (every controller), runs the driver, which prints one `HUSK-CHECK {json}` line per check, and powers off.
 *
 *   deno run -A tasks/cgroup-v2-vm/vm.ts          # build (cached) and run; exit 0 when every check passed
 *
 * Needs: qemu-system-x86 and cpio (apt), busybox-static, bash, apt-get download access to Debian's kernel
 * (or HUSK_VM_KERNEL=/path/to/vmlinuz). The kernel and the initramfs are cached outside the work tree (CACHE).
 */
import { dirname, join } from "node:path";

export const PROJECT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/**
 * Where the kernel and the initramfs are kept between runs: outside the work tree (they are 100 MB of
 * binaries that must never be committed), in HUSK_VM_CACHE or ~/.cache/husk/cgroup-v2-vm.
 */
export const CACHE = Deno.env.get("HUSK_VM_CACHE") ||
  `${Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME") || "/root"}/.cache`}/husk/cgroup-v2-vm`;

/** The project files the guest needs: the driver's module graph (`deno info`), so none is forgotten. */
function guestSources(): string[] {
  const info = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `${PROJECT}/tasks/cgroup-v2-vm/driver.ts`],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!info.success) throw new Error(`deno info: ${new TextDecoder().decode(info.stderr).trim()}`);
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(info.stdout)).modules;
  const prefix = `file://${PROJECT}/`;
  return modules.map((m) => m.specifier).filter((s) => s.startsWith(prefix)).map((s) =>
    s.slice(prefix.length)
  );
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VmResult {
  checks: Check[];
  /** The driver finished (printed HUSK-DONE) and the guest powered off. */
  completed: boolean;
  /** The guest's whole console output. */
  console: string;
  /** Seconds: building the image, and booting + running + powering off. */
  buildSeconds: number;
  runSeconds: number;
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const out = new Deno.Command(cmd, { args, cwd: opts.cwd, stdout: "piped", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

function which(cmd: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return `${dir}/${cmd}`;
    } catch {
      // not there
    }
  }
  return null;
}

/** What is missing on this machine to build and boot the VM (empty when nothing is). */
export function missingTools(): string[] {
  const missing: string[] = [];
  if (!which("qemu-system-x86_64")) missing.push("qemu-system-x86_64 (apt: qemu-system-x86)");
  if (!which("cpio")) missing.push("cpio (apt: cpio)");
  if (!which("bash")) missing.push("bash");
  if (!busyboxPath()) missing.push("a static busybox (apt: busybox-static)");
  if (!Deno.env.get("HUSK_VM_KERNEL") && !which("apt-get")) missing.push("apt-get (to download the kernel)");
  return missing;
}

function busyboxPath(): string | null {
  const candidates = [Deno.env.get("HUSK_BUSYBOX"), "/bin/busybox", "/usr/bin/busybox"];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch {
      // not there
    }
  }
  return null;
}

/**
 * Debian's kernel (vmlinuz only), downloaded once with `apt-get download` of the package that the
 * linux-image-amd64 metapackage depends on, and cached. HUSK_VM_KERNEL overrides it.
 */
export function kernel(): string {
  const override = Deno.env.get("HUSK_VM_KERNEL");
  if (override) return override;
  Deno.mkdirSync(CACHE, { recursive: true });
  const cached = [...Deno.readDirSync(CACHE)].find((e) => e.name.startsWith("vmlinuz-"));
  if (cached) return `${CACHE}/${cached.name}`;
  const kernelPackage = () => {
    try {
      return /Depends:\s*(linux-image-[0-9][^\s]*)/.exec(run("apt-cache", ["depends", "linux-image-amd64"]))
        ?.[1];
    } catch {
      return undefined;
    }
  };
  let pkg = kernelPackage();
  const tmp = Deno.makeTempDirSync({ dir: CACHE, prefix: ".kernel-" });
  try {
    try {
      if (!pkg) throw new Error("apt-cache knows no linux-image-amd64");
      run("apt-get", ["download", "-q", pkg], { cwd: tmp });
    } catch {
      // Missing or stale package lists (the kernel's version moved on): refresh them once and retry.
      run("apt-get", ["update", "-qq"]);
      pkg = kernelPackage();
      if (!pkg) throw new Error("apt-cache knows no linux-image-amd64 even after apt-get update");
      run("apt-get", ["download", "-q", pkg], { cwd: tmp });
    }
    const deb = [...Deno.readDirSync(tmp)].find((e) => e.name.endsWith(".deb"))!.name;
    run("sh", ["-c", `dpkg-deb --fsys-tarfile "${deb}" | tar -xf - --wildcards './boot/vmlinuz-*'`], {
      cwd: tmp,
    });
    const vmlinuz = [...Deno.readDirSync(`${tmp}/boot`)][0].name;
    Deno.renameSync(`${tmp}/boot/${vmlinuz}`, `${CACHE}/${vmlinuz}`);
    return `${CACHE}/${vmlinuz}`;
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

/** The shared libraries an ELF program needs (from ldd), including the loader. */
function sharedLibraries(program: string): string[] {
  const libs: string[] = [];
  for (const line of run("ldd", [program]).split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function copyInto(root: string, from: string, to = from): void {
  Deno.mkdirSync(join(root, dirname(to)), { recursive: true });
  Deno.copyFileSync(from, join(root, to));
  Deno.chmodSync(join(root, to), Deno.statSync(from).mode! & 0o7777);
}

function copyTree(root: string, rel: string): void {
  const from = `${PROJECT}/${rel}`;
  if (Deno.statSync(from).isFile) {
    copyInto(root, from, `/husk/${rel}`);
    return;
  }
  for (const e of Deno.readDirSync(from)) {
    if (e.name.endsWith("_test.ts")) continue;
    copyTree(root, `${rel}/${e.name}`);
  }
}

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /root /usr/sbin /usr/bin /sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "HUSK-VM kernel $(uname -r) cpus $(nproc) controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
export HOME=/root DENO_DIR=/tmp/deno PATH=/bin:/usr/bin NO_COLOR=1
start=$(date +%s)
/usr/bin/deno run -A --no-config /husk/tasks/cgroup-v2-vm/driver.ts
echo "HUSK-VM driver exit $? after $(( $(date +%s) - start )) s"
poweroff -f
`;

/** Builds the initramfs (an uncompressed newc cpio) from the current sources; returns its path. */
export function buildInitramfs(): string {
  Deno.mkdirSync(CACHE, { recursive: true });
  // The tree is staged outside the project (it holds copies of .ts sources that fmt/lint must not see).
  const root = Deno.makeTempDirSync({ prefix: "husk-vm-root-" });
  const out = `${CACHE}/initramfs.cpio`;
  try {
    copyInto(root, busyboxPath()!, "/bin/busybox");
    const deno = Deno.realPathSync(Deno.execPath());
    const bash = which("bash")!;
    copyInto(root, deno, "/usr/bin/deno");
    copyInto(root, bash, "/usr/bin/bash");
    for (const lib of new Set([...sharedLibraries(deno), ...sharedLibraries(bash)])) copyInto(root, lib);
    for (const rel of guestSources()) copyTree(root, rel);
    Deno.writeTextFileSync(`${root}/init`, INIT, { mode: 0o755 });
    run("sh", ["-c", `find . -mindepth 1 | cpio --quiet -o -H newc -R 0:0 > "${out}.tmp"`], { cwd: root });
    Deno.renameSync(`${out}.tmp`, out);
    return out;
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

/**
 * Boots the guest and collects its checks. The guest is killed after `timeoutMs` (then `completed` is false).
 */
export async function runVm(options: { timeoutMs?: number; memoryMiB?: number } = {}): Promise<VmResult> {
  const t0 = performance.now();
  const vmlinuz = kernel();
  const initrd = buildInitramfs();
  const t1 = performance.now();
  const qemu = new Deno.Command("qemu-system-x86_64", {
    args: [
      ...["-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", String(options.memoryMiB ?? 1024)],
      ...["-nographic", "-no-reboot", "-kernel", vmlinuz, "-initrd", initrd],
      ...["-append", "console=ttyS0 quiet panic=-1 rdinit=/init"],
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => qemu.kill("SIGKILL"), options.timeoutMs ?? 600_000);
  const out = await qemu.output();
  clearTimeout(timer);
  const t2 = performance.now();
  const text = new TextDecoder().decode(out.stdout).replaceAll("\r", "") +
    new TextDecoder().decode(out.stderr);
  const checks: Check[] = [];
  for (const line of text.split("\n")) {
    const m = /HUSK-CHECK (\{.*\})\s*$/.exec(line);
    if (m) checks.push(JSON.parse(m[1]));
  }
  return {
    checks,
    completed: /HUSK-DONE/.test(text),
    console: text,
    buildSeconds: (t1 - t0) / 1000,
    runSeconds: (t2 - t1) / 1000,
  };
}

if (import.meta.main) {
  const missing = missingTools();
  if (missing.length > 0) {
    console.error(`cgroup-v2-vm: missing: ${missing.join(", ")}`);
    Deno.exit(1);
  }
  const result = await runVm();
  if (Deno.args.includes("--console")) console.log(result.console);
  for (const c of result.checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  const failed = result.checks.filter((c) => !c.ok).length;
  console.log(
    `cgroup-v2-vm: ${result.checks.length - failed} passed, ${failed} failed; ` +
      `build ${result.buildSeconds.toFixed(1)} s, boot+run ${result.runSeconds.toFixed(1)} s` +
      (result.completed ? "" : " (the driver did not finish)"),
  );
  Deno.exit(failed === 0 && result.completed && result.checks.length > 0 ? 0 : 1);
}
