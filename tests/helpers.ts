/**
 * Helpers for the privileged integration tests: run the real CLI as a separate process against a throwaway
 * state root, and check that nothing is left behind (state, mounts, processes).
 */
import { deepEqual, equal } from "node:assert/strict";
import { removeRootCgroups, rootCgroupDirs } from "../lib/runtime/cgroups.ts";
import { isSameProcess } from "../lib/state/liveness.ts";
import { runDir, statePaths } from "../lib/state/paths.ts";
import { listDirIfExists, readJsonIfExists, removeIfExists } from "../lib/files.ts";

export const PROJECT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const MAIN = `${PROJECT}/main.ts`;

/** The root filesystem the tests run in (made by `deno task rootfs`, which tasks/test.sh runs first). */
export const ROOTFS: string = (() => {
  try {
    return Deno.realPathSync(`${PROJECT}/rootfs/default`);
  } catch {
    throw new Error("no rootfs/default: run `deno task rootfs` first (tasks/test.sh does)");
  }
})();

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HuskOptions {
  stdin?: string;
  env?: Record<string, string>;
}

/** `deno run -A main.ts --root ROOT ARGS...`, waited for. */
export async function husk(root: string, args: string[], options: HuskOptions = {}): Promise<Result> {
  const child = spawnHusk(root, args, { ...options, stdin: options.stdin });
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Starts the CLI without waiting (stdout and stderr piped), inside the root's sandbox network namespace
 * (nsenter execs, so the child's pid is husk's own).
 */
export function spawnHusk(root: string, args: string[], options: HuskOptions = {}): Deno.ChildProcess {
  const sandbox = sandboxes.get(root);
  if (sandbox === undefined) throw new Error(`no sandbox for ${root}: run husk under withRoot`);
  return new Deno.Command("nsenter", {
    args: [`--net=/run/netns/${sandbox}`, Deno.execPath(), "run", "-q", "-A", MAIN, "--root", root, ...args],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
}

/** The container records under a state root. */
export function containers(root: string): string[] {
  return listDirIfExists(`${root}/containers`).filter((e) => e.isDirectory).map((e) => e.name);
}

/**
 * Host processes whose root directory is the test rootfs, or (given a state root) an image's overlay whose
 * upper directory lies under that root: containers still running. An image container's overlay is not
 * mounted on the host, so its root shows as "/": its own mount table names the upper directory.
 */
export function processesInRootfs(stateRoot?: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const root = Deno.readLinkSync(`/proc/${entry.name}/root`);
      if (
        root === ROOTFS || (stateRoot !== undefined && root === "/" && inOverlayOf(entry.name, stateRoot))
      ) {
        pids.push(Number(entry.name));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function inOverlayOf(pid: string, stateRoot: string): boolean {
  const rootMount = Deno.readTextFileSync(`/proc/${pid}/mountinfo`).split("\n")
    .find((line) => line.split(" ")[4] === "/");
  return rootMount?.includes(`upperdir=${stateRoot}/containers/`) ?? false;
}

/** Mounts in the host's mount namespace that involve the rootfs or the state root. */
export function hostMountsUnder(...paths: string[]): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .filter((line) => paths.some((p) => line.split(" ")[4]?.startsWith(p)));
}

/** Each state root's throwaway network namespace: husk's bridges, veths and firewall rules go there. */
const sandboxes = new Map<string, string>();

/** Runs a command; its stdout, or an error with its stderr. */
export function sh(command: string, ...args: string[]): string {
  const out = new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`${command} ${args.join(" ")}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

/** The network namespace husk runs in for `root` (made by withRoot), for a command from the sandbox's host side. */
export function sandboxOf(root: string): string {
  const sandbox = sandboxes.get(root);
  if (sandbox === undefined) throw new Error(`no sandbox for ${root}`);
  return sandbox;
}

/** Runs `command` in the root's sandbox namespace (as the host side of its bridges). */
export function inSandbox(root: string, command: string, ...args: string[]): Deno.CommandOutput {
  return new Deno.Command("nsenter", {
    args: [`--net=/run/netns/${sandboxOf(root)}`, command, ...args],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
}

/** Interfaces in the sandbox other than lo and the networks' bridges: veths left behind. */
function leftoverLinks(sandbox: string): string[] {
  return sh("ip", "-n", sandbox, "-o", "link", "show").split("\n").filter(Boolean)
    .map((l) => l.split(": ")[1].split("@")[0])
    .filter((name) => name !== "lo" && !name.startsWith("husk"));
}

/** Firewall rules of containers (published ports) left in the sandbox, in either iptables backend. */
function leftoverPortRules(sandbox: string): string[] {
  return ["nft", "legacy"].flatMap((backend) =>
    sh("ip", "netns", "exec", sandbox, `iptables-${backend}-save`, "-t", "nat").split("\n")
      .filter((l) => l.includes("-j DNAT"))
  );
}

/**
 * Runs `fn` with a fresh state root and its own network namespace, then checks that no container, mount,
 * process, cgroup, veth, port rule or address lease is left behind.
 */
export async function withRoot(fn: (root: string) => Promise<void>, opts: { keepRecords?: boolean } = {}) {
  const root = await Deno.makeTempDir({ prefix: "husk-test-" });
  const sandbox = `husk-test-${root.slice(-6)}`;
  sh("ip", "netns", "add", sandbox);
  sandboxes.set(root, sandbox);
  try {
    sh("ip", "-n", sandbox, "link", "set", "lo", "up");
    await fn(root);
    if (!opts.keepRecords) {
      deepEqual(containers(root), [], "container records left behind");
      deepEqual(listDirIfExists(`${runDir(statePaths(root))}/containers`), [], "run directories left behind");
    }
    if (!opts.keepRecords) {
      await waitFor(() => leftoverLinks(sandbox).length === 0, "veths left behind");
      deepEqual(leftoverPortRules(sandbox), [], "port rules left behind");
      deepEqual(leases(root), {}, "address leases left behind");
    }
    deepEqual(hostMountsUnder(ROOTFS, root), [], "mounts left behind on the host");
    await waitFor(() => processesInRootfs(root).length === 0, "container processes left behind");
    if (!opts.keepRecords) deepEqual(containerCgroups(root), [], "container cgroups left behind");
  } finally {
    // After a failed test: its containers and monitors must not outlive it (nor re-create its root).
    await killLeftovers(root);
    // The test's own parent cgroups, as the test made them (after a failure, with what was left in them).
    removeRootCgroups(statePaths(root));
    sandboxes.delete(root);
    sh("ip", "netns", "del", sandbox);
    await Deno.remove(root, { recursive: true });
    removeIfExists(runDir(statePaths(root)), { recursive: true });
  }
}

/**
 * SIGKILLs what a test under `root` started and left running: the containers and monitors in its records,
 * and any husk process of that root (a monitor's `husk cleanup`). Only processes of this root are touched.
 */
async function killLeftovers(root: string): Promise<void> {
  const pids = new Set<number>();
  for (const id of containers(root)) {
    try {
      const state = JSON.parse(Deno.readTextFileSync(`${root}/containers/${id}/state.json`));
      if (state.status === "running" && isSameProcess(state.pid, state.pidStartTime)) pids.add(state.pid);
    } catch {
      // A record being written or removed.
    }
  }
  const marker = `\0--root\0${root}\0`;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).includes(marker)) pids.add(Number(entry.name));
    } catch {
      // Gone meanwhile.
    }
  }
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  await waitFor(() => [...pids].every((pid) => !isSameProcess(pid, null)), "leftover processes die");
}

/** The address leases under a state root. */
export function leases(root: string): Record<string, unknown> {
  return readJsonIfExists<Record<string, unknown>>(`${root}/networks/leases.json`) ?? {};
}

/** The containers' cgroups still under this root's parent cgroup. */
export function containerCgroups(root: string): string[] {
  return rootCgroupDirs(statePaths(root)).flatMap((d) =>
    [...Deno.readDirSync(d)].filter((e) => e.isDirectory).map((e) => `${d}/${e.name}`)
  );
}

/** This root's container cgroups (one per hierarchy) whose cgroup.procs, read on the host, list `pid`. */
export function cgroupsHolding(root: string, pid: number): string[] {
  return containerCgroups(root).filter((dir) =>
    Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").includes(String(pid))
  );
}

/** Whether process `pid` exists (a zombie counts). */
export function isAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 10 ms for up to `ms`; fails with `what` when it never holds. */
export async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The state.json of the only container under `root`. */
export function onlyState(root: string): { status: string; pid: number; exitCode: number | null } {
  const ids = containers(root);
  equal(ids.length, 1, `expected one container, found ${ids.length}`);
  return JSON.parse(Deno.readTextFileSync(`${root}/containers/${ids[0]}/state.json`));
}

/** The only container's state once husk has recorded it as running (its output can come first). */
export async function runningState(root: string): Promise<{ status: string; pid: number }> {
  await waitFor(() => {
    try {
      return onlyState(root).status === "running";
    } catch {
      return false;
    }
  }, "the container is recorded as running");
  return onlyState(root);
}

/** Reads lines from a child's stdout until one matches. */
export async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
      text += value;
    }
    return text;
  } finally {
    reader.releaseLock();
  }
}
