/**
 * A container's cgroup: created under husk's own parent with an absolute path in every hierarchy that holds a
 * controller husk uses (`<mount>/<parent>/<name>`, never relative to the caller's own cgroup), limited, joined
 * by the container's process before it runs anything, read for stats and OOM kills, updated, emptied and
 * removed. v1, v2 and hybrid layouts are handled per controller (detect.ts).
 *
 * Safety: every directory made or removed and every file written is under `<mount>/<parent>/`; the only
 * exception is enabling controllers (`+memory ...`) in cgroup.subtree_control of the ancestors of the parent
 * on v2, which the kernel requires. Processes are only ever moved by `join(pid)`, with the pid the caller gives,
 * or move themselves through `selfJoinFiles()`.
 */
import type { Resources } from "../config/resources.ts";
import {
  type Controller,
  CONTROLLERS,
  detectLayout,
  type Layout,
  type Placement,
  placementOf,
} from "./detect.ts";
import { CgroupError, type CgroupFile, type CgroupFs, errnoOf, realFs, reasonOf } from "./fs.ts";
import { type Reader, type Stats, v1OomKills, v1Stats, v2OomKills, v2Stats } from "./stats.ts";
import { v1Bytes, v1Writes } from "./v1.ts";
import { subtreeControlValue, V2_CONTROLLERS, v2Writes, type Write } from "./v2.ts";

export const DEFAULT_ROOT = "/sys/fs/cgroup";
export const DEFAULT_PARENT = "husk";

export interface CgroupOptions {
  /** Where the cgroup filesystems are mounted (default /sys/fs/cgroup; a VM or a test may differ). */
  root?: string;
  /** husk's own cgroup, relative to each hierarchy's root (default "husk"; may be nested: "husk/tests"). */
  parent?: string;
  /** The file operations (default: the real ones; unit tests pass a fake cgroupfs). */
  fs?: CgroupFs;
  /** The layout (default: detected from /proc/self/mountinfo under `root`). */
  layout?: Layout;
  /** The controllers whose hierarchies are used (default: all husk knows); fewer is cheaper on v1. */
  controllers?: readonly Controller[];
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
/** Cgroups that belong to someone else and must never be touched, whatever the parent option says. */
const FORBIDDEN = new Set(["process_api"]);

/** Which controllers each Resources field needs. */
function neededControllers(r: Resources): Map<Controller, string> {
  const needs = new Map<Controller, string>();
  if (r.memory !== undefined) needs.set("memory", "--memory");
  if (r.memorySwap !== undefined && r.memorySwap !== -1) needs.set("memory", "--memory-swap");
  if (r.cpuQuota !== undefined) needs.set("cpu", "--cpus");
  if (r.cpuShares !== undefined) needs.set("cpu", "--cpu-shares");
  if (r.cpusetCpus !== undefined) needs.set("cpuset", "--cpuset-cpus");
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) needs.set("pids", "--pids-limit");
  return needs;
}

export interface Context {
  fs: CgroupFs;
  layout: Layout;
  parent: string;
  /** Each usable controller's placement. */
  placements: Map<Controller, Placement>;
}

function context(opts: CgroupOptions): Context {
  const fs = opts.fs ?? realFs;
  const parent = checkParent(opts.parent ?? DEFAULT_PARENT);
  const layout = opts.layout ?? detectLayout(fs, opts.root ?? DEFAULT_ROOT);
  const placements = new Map<Controller, Placement>();
  for (const c of opts.controllers ?? CONTROLLERS) {
    const p = placementOf(layout, c);
    if (p !== null) placements.set(c, p);
  }
  return { fs, layout, parent, placements };
}

function checkParent(parent: string): string {
  const parts = parent.split("/");
  if (parts.some((p) => !NAME.test(p) || FORBIDDEN.has(p))) {
    throw new CgroupError(`invalid cgroup parent "${parent}": expected names like husk or husk/tests`);
  }
  return parent;
}

function checkName(name: string): string {
  if (!NAME.test(name) || FORBIDDEN.has(name)) {
    throw new CgroupError(`invalid cgroup name "${name}": expected [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  }
  return name;
}

/**
 * Creates the cgroup `<parent>/<name>` in every hierarchy of a controller husk uses and writes the limits.
 * On any failure, whatever was created is removed before the error (a CgroupError naming the file and the
 * value) is thrown. The parent itself is shared by all containers and stays.
 */
export function createCgroup(name: string, resources: Resources, opts: CgroupOptions = {}): Cgroup {
  checkName(name);
  const ctx = context(opts);
  for (const [controller, flag] of neededControllers(resources)) {
    if (!ctx.placements.has(controller)) {
      throw new CgroupError(
        `${flag} needs the ${controller} cgroup controller, which this kernel does not offer`,
      );
    }
  }
  const cgroup = new Cgroup(name, ctx);
  try {
    cgroup.create();
    cgroup.update(resources);
  } catch (e) {
    cgroup.rollback();
    throw e;
  }
  return cgroup;
}

/** The cgroup `<parent>/<name>` as it would be made, with nothing read or written (for --dry-run). */
export function plannedCgroup(name: string, opts: CgroupOptions = {}): Cgroup {
  return new Cgroup(checkName(name), context(opts));
}

/** The existing cgroup `<parent>/<name>` (for a later command: stats, update, kill, remove), or null. */
export function openCgroup(name: string, opts: CgroupOptions = {}): Cgroup | null {
  checkName(name);
  const cgroup = new Cgroup(name, context(opts));
  return cgroup.paths.some((p) => cgroup.ctx.fs.exists(p)) ? cgroup : null;
}

/** The names of the cgroups under the parent, in any hierarchy husk uses. */
export function listCgroups(opts: CgroupOptions = {}): string[] {
  const ctx = context(opts);
  const names = new Set<string>();
  for (const mount of mountsOf(ctx)) {
    for (const n of ctx.fs.subdirs(`${mount}/${ctx.parent}`)) if (NAME.test(n)) names.add(n);
  }
  return [...names].sort();
}

/**
 * Removes the cgroups under the parent whose name is not in `live` (containers that husk, killed, could not
 * clean up): their processes are killed first. Call it with the state locked and with every container that
 * has a record counted as live, so that a container being created is never taken for a stale one.
 */
export async function removeStaleCgroups(
  live: Set<string>,
  opts: CgroupOptions = {},
): Promise<{ removed: string[]; failed: { name: string; error: Error }[] }> {
  const removed: string[] = [];
  const failed: { name: string; error: Error }[] = [];
  for (const name of listCgroups(opts)) {
    if (live.has(name)) continue;
    try {
      await openCgroup(name, opts)?.destroy();
      removed.push(name);
    } catch (e) {
      failed.push({ name, error: e as Error });
    }
  }
  return { removed, failed };
}

/** The hierarchies (mount points) the controllers husk uses live in, v2 first. */
function mountsOf(ctx: Context): string[] {
  const mounts: string[] = [];
  for (const p of [...ctx.placements.values()].sort((a, b) => b.version - a.version)) {
    if (!mounts.includes(p.mount)) mounts.push(p.mount);
  }
  return mounts;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Parent cgroups this process has created or checked, per file system (the real one, or a test's fake). */
const readyParents = new WeakMap<CgroupFs, Set<string>>();

/** One container's cgroup, in every hierarchy it uses. */
export class Cgroup {
  /** The cgroup's directory in each hierarchy (absolute; one per hierarchy). */
  readonly paths: string[];
  readonly #byMount = new Map<string, string>();
  /** The leaf directories create() made (rollback removes only these, never a directory it found). */
  readonly #created: string[] = [];

  /** @internal use createCgroup / openCgroup. */
  constructor(readonly name: string, readonly ctx: Context) {
    for (const mount of mountsOf(ctx)) this.#byMount.set(mount, `${mount}/${ctx.parent}/${name}`);
    this.paths = [...this.#byMount.values()];
  }

  get layout(): Layout {
    return this.ctx.layout;
  }

  /** The directory of `controller`'s cgroup, or null when the kernel has no such controller. */
  pathOf(controller: Controller): string | null {
    const p = this.ctx.placements.get(controller);
    return p === undefined ? null : this.#byMount.get(p.mount)!;
  }

  #version(mount: string): 1 | 2 {
    return mount === this.ctx.layout.unified ? 2 : 1;
  }

  /**
   * v1's devices controller: deny every device, then allow `rules` ("c 1:3 rwm", "c *:* m"). False where the
   * kernel has no such hierarchy (v2 filters devices with an eBPF program instead).
   */
  restrictDevices(rules: readonly string[]): boolean {
    const dir = this.pathOf("devices");
    if (dir === null) return false;
    this.#write(`${dir}/devices.deny`, "a");
    this.#write(`${dir}/devices.allow`, ...rules);
    return true;
  }

  /** @internal makes the directories (parents as needed), v1 cpuset values copied from the parent. */
  create(): void {
    const { fs } = this.ctx;
    // The parents, once made ready by this process, are taken to be there (a library starts many): should
    // one have gone meanwhile, the leaf's mkdir says so, and the parents are made again.
    const ready = readyParents.get(fs) ?? new Set<string>();
    readyParents.set(fs, ready);
    for (const [mount, leaf] of this.#byMount) {
      const top = this.#readyParent(mount, ready);
      this.#assertOwned(leaf);
      try {
        try {
          fs.mkdir(leaf);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
          ready.delete(top);
          this.#readyParent(mount, ready);
          fs.mkdir(leaf);
        }
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw this.#mkdirError(leaf, e);
        throw new CgroupError(
          `cgroup ${leaf} already exists (another container's, or a stale one)`,
          leaf,
          "EEXIST",
        );
      }
      this.#created.push(leaf);
    }
  }

  /** Makes husk's parent in `mount` ready (made, controllers enabled, cpuset set) unless it is; its path. */
  #readyParent(mount: string, ready: Set<string>): string {
    const { fs, parent } = this.ctx;
    const v2 = this.#version(mount) === 2;
    const chain = [mount, ...parent.split("/").map((_, i, a) => `${mount}/${a.slice(0, i + 1).join("/")}`)];
    const top = chain[chain.length - 1];
    if (ready.has(top)) return top;
    for (let i = 0; i < chain.length; i++) {
      if (i > 0 && !fs.exists(chain[i])) this.#mkdir(chain[i], true);
      if (v2) this.#enableControllers(chain[i]);
      else if (i > 0 && this.#isCpuset(mount)) this.#inheritCpuset(chain[i], chain[i - 1]);
    }
    // v1 cpuset: the kernel copies the parent's cpus and mems into each new container cgroup.
    if (!v2 && this.#isCpuset(mount)) this.#write(`${top}/cgroup.clone_children`, "1");
    ready.add(top);
    return top;
  }

  #isCpuset(mount: string): boolean {
    return this.ctx.placements.get("cpuset")?.mount === mount;
  }

  /** v1 cpuset: a new cgroup has empty cpuset.cpus/mems and refuses processes until they are set. */
  #inheritCpuset(dir: string, parentDir: string): void {
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (this.ctx.fs.read(`${dir}/${file}`).trim() !== "") continue;
      this.#write(`${dir}/${file}`, this.ctx.fs.read(`${parentDir}/${file}`).trim());
    }
  }

  /** v2: enable the controllers husk uses in `dir`'s cgroup.subtree_control (dir is an ancestor of the leaf). */
  #enableControllers(dir: string): void {
    const { fs, placements, layout } = this.ctx;
    const wanted = V2_CONTROLLERS.filter((c) => placements.get(c)?.mount === layout.unified);
    const value = subtreeControlValue(
      fs.read(`${dir}/cgroup.controllers`),
      fs.read(`${dir}/cgroup.subtree_control`),
      wanted,
    );
    if (value === null) return;
    this.#assertAncestor(dir);
    this.#rawWrite(`${dir}/cgroup.subtree_control`, value);
  }

  #assertAncestor(dir: string): void {
    const mount = this.ctx.layout.unified!;
    const leafParent = `${mount}/${this.ctx.parent}`;
    if (dir !== mount && !(leafParent + "/").startsWith(dir + "/")) {
      throw new CgroupError(
        `refusing to enable controllers in ${dir}: not an ancestor of ${leafParent}`,
        dir,
      );
    }
  }

  /** Throws unless `path` is `<mount>/<parent>` or below it, in a hierarchy husk uses, without "..". */
  #assertOwned(path: string): void {
    const ok = !path.split("/").some((p) => p === ".." || p === ".") &&
      [...this.#byMount.keys()].some((m) => {
        const base = `${m}/${this.ctx.parent.split("/")[0]}`;
        return path === base || path.startsWith(base + "/");
      });
    if (!ok) throw new CgroupError(`refusing to touch ${path}: it is not under husk's own cgroup`, path);
  }

  #mkdir(path: string, mayExist: boolean): void {
    this.#assertOwned(path);
    try {
      this.ctx.fs.mkdir(path);
    } catch (e) {
      if (mayExist && e instanceof Deno.errors.AlreadyExists) return; // another husk made it meanwhile
      throw this.#mkdirError(path, e);
    }
  }

  #mkdirError(path: string, e: unknown): CgroupError {
    return new CgroupError(`cannot create cgroup ${path}: ${reasonOf(e)}`, path, errnoOf(e));
  }

  #write(path: string, ...values: string[]): void {
    this.#assertOwned(path);
    this.#rawWrite(path, ...values);
  }

  /** Each value with a write(2) of its own, on one descriptor. */
  #rawWrite(path: string, ...values: string[]): void {
    const failed = (value: string, e: unknown) =>
      new CgroupError(`cannot write "${value}" to ${path}: ${reasonOf(e)}`, path, errnoOf(e));
    let file: CgroupFile;
    try {
      file = this.ctx.fs.open(path);
    } catch (e) {
      throw failed(values[0], e);
    }
    try {
      for (const value of values) {
        try {
          file.write(value);
        } catch (e) {
          throw failed(value, e);
        }
      }
    } finally {
      file.close();
    }
  }

  #read(controller: Controller, file: string): string | null {
    const dir = this.pathOf(controller);
    if (dir === null) return null;
    try {
      return this.ctx.fs.read(`${dir}/${file}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  #has(controller: Controller, file: string): boolean {
    const dir = this.pathOf(controller);
    return dir !== null && this.ctx.fs.exists(`${dir}/${file}`);
  }

  /**
   * Applies `resources` (the fields that are present; absent ones are left as they are). Used at creation and
   * by `husk update`. A write the kernel refuses throws a CgroupError naming the file and the value.
   */
  update(resources: Resources): void {
    for (const [controller, flag] of neededControllers(resources)) {
      if (this.pathOf(controller) === null) {
        throw new CgroupError(
          `${flag} needs the ${controller} cgroup controller, which this kernel does not offer`,
        );
      }
    }
    for (const w of this.plan(resources)) this.#write(`${this.pathOf(w.controller)}/${w.file}`, w.value);
  }

  /** The writes `update(resources)` would make, in order (each controller by the version that serves it). */
  plan(resources: Resources): Write[] {
    const memory = this.ctx.placements.get("memory")?.version;
    const withoutMemory = { ...resources, memory: undefined, memorySwap: undefined };
    let v1: Write[] = [];
    // The current limit (it orders the two memory writes) is read only when memory is to be limited.
    if (memory === 1 && (resources.memory !== undefined || resources.memorySwap !== undefined)) {
      const current = this.#read("memory", "memory.limit_in_bytes");
      const swap = this.#has("memory", "memory.memsw.limit_in_bytes");
      v1 = v1Writes(resources, { swap }, current === null ? Infinity : v1Bytes(current) ?? Infinity);
    } else {
      v1 = v1Writes(withoutMemory, { swap: false });
    }
    const v2 = memory === 2
      ? v2Writes(resources, { swap: this.#has("memory", "memory.swap.max") })
      : v2Writes(withoutMemory, { swap: false });
    const versionOf = (w: Write) => this.ctx.placements.get(w.controller)?.version;
    return [...v1.filter((w) => versionOf(w) === 1), ...v2.filter((w) => versionOf(w) === 2)];
  }

  /** Moves process `pid` (the container's, before it runs anything) into the cgroup in every hierarchy. */
  join(pid: number): void {
    if (!Number.isSafeInteger(pid) || pid <= 1 || pid === Deno.pid) {
      throw new CgroupError(`refusing to move process ${pid} into cgroup ${this.name}`);
    }
    for (const dir of this.paths) this.#write(`${dir}/cgroup.procs`, String(pid));
  }

  /**
   * The files through which a process moves itself into the cgroup by writing "0" to each: v1's `tasks` and
   * v2's `cgroup.procs`. On v1 a thread moving only itself spares the kernel the lock that makes every
   * cgroup.procs write wait for an RCU grace period (15-25 ms for a fresh process here, against well under
   * one); the container's process is a single thread until its execve, so moving that thread moves it all.
   */
  selfJoinFiles(): string[] {
    return [...this.#byMount].map(([mount, dir]) =>
      `${dir}/${this.#version(mount) === 2 ? "cgroup.procs" : "tasks"}`
    );
  }

  /** The processes now in the cgroup (in any of its hierarchies). */
  pids(): number[] {
    const pids = new Set<number>();
    for (const dir of this.paths) {
      let text = "";
      try {
        text = this.ctx.fs.read(`${dir}/cgroup.procs`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      for (const line of text.split("\n")) if (/^\d+$/.test(line.trim())) pids.add(Number(line));
    }
    return [...pids].sort((a, b) => a - b);
  }

  /**
   * How many processes the kernel's OOM killer killed in this cgroup (v2 memory.events oom_kill, v1
   * memory.oom_control oom_kill); null when the kernel does not count them.
   */
  oomKills(): number | null {
    const read: Reader = (c, f) => this.#read(c, f);
    return this.#statsVersion() === 2 ? v2OomKills(read) : v1OomKills(read);
  }

  /**
   * Whether the kernel killed a process of the container for memory. Old v1 kernels without an oom_kill
   * counter: whether the memory limit was hit (memory.failcnt or memory.memsw.failcnt above 0).
   */
  oomKilled(): boolean {
    const kills = this.oomKills();
    if (kills !== null) return kills > 0;
    const failcnt = (f: string) => Number(this.#read("memory", f)?.trim() ?? 0);
    return failcnt("memory.failcnt") > 0 || failcnt("memory.memsw.failcnt") > 0;
  }

  /** Usage from the kernel's counters: CPU time, memory, processes, throttling. */
  stats(): Stats {
    const read: Reader = (c, f) => this.#read(c, f);
    const pick = (c: Controller) => this.ctx.placements.get(c)?.version;
    if (this.#statsVersion() === 2) {
      const s = v2Stats(read);
      return pick("pids") === 1 ? { ...s, ...pidsOnly(v1Stats(read)) } : s;
    }
    const s = v1Stats(read);
    return pick("pids") === 2 ? { ...s, ...pidsOnly(v2Stats(read)) } : s;
  }

  /** The version whose files the stats come from: memory's, else the layout's. */
  #statsVersion(): 1 | 2 {
    const memory = this.ctx.placements.get("memory");
    return memory?.version === 2 || (memory === undefined && this.ctx.layout.mode === "v2") ? 2 : 1;
  }

  /**
   * Kills every process in the cgroup and waits until it is empty: cgroup.kill on v2 (Linux 5.14+), else the
   * freezer (v2 cgroup.freeze, v1 freezer.state) so that nothing forks or exits while being killed, then
   * SIGKILL to each process and thaw. Throws a CgroupError if processes remain after `timeoutMs`.
   */
  async killAll(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    while (this.pids().length > 0) {
      if (Date.now() > deadline) {
        throw new CgroupError(
          `cannot empty cgroup ${this.name}: processes ${this.pids().join(", ")} survive SIGKILL`,
          this.paths[0],
        );
      }
      await this.#killRound();
      for (let i = 0; i < 5 && this.pids().length > 0; i++) {
        await sleep(delay);
        delay = Math.min(delay * 2, 50);
      }
    }
  }

  async #killRound(): Promise<void> {
    const { fs, layout } = this.ctx;
    const unified = layout.unified === null ? undefined : this.#byMount.get(layout.unified);
    if (unified !== undefined && fs.exists(`${unified}/cgroup.kill`)) {
      this.#write(`${unified}/cgroup.kill`, "1");
      if (this.paths.length === 1) return;
    }
    const freezer = this.pathOf("freezer");
    const v2 = freezer !== null && this.ctx.placements.get("freezer")!.version === 2;
    const file = v2 ? "cgroup.freeze" : "freezer.state";
    const canFreeze = freezer !== null && fs.exists(`${freezer}/${file}`);
    if (canFreeze) {
      this.#write(`${freezer}/${file}`, v2 ? "1" : "FROZEN");
      // Wait (briefly) until every task is frozen: v1 passes through FREEZING, v2 reports "frozen 1".
      const isFrozen = () =>
        v2
          ? /^frozen 1$/m.test(fs.read(`${freezer}/cgroup.events`))
          : fs.read(`${freezer}/${file}`).trim() === "FROZEN";
      for (let i = 0; i < 100 && !isFrozen(); i++) await sleep(1);
    }
    try {
      for (const pid of this.pids()) fs.kill(pid);
    } finally {
      if (canFreeze) this.#write(`${freezer}/${file}`, v2 ? "0" : "THAWED");
    }
  }

  /** @internal after a failed creation: removes the directories create() made (nothing has joined them). */
  rollback(): void {
    try {
      this.#removeDirs(this.#created);
    } catch {
      // The original error matters more; a leftover is removed as stale later.
    }
  }

  #removeDirs(dirs: string[]): void {
    for (const dir of [...dirs].reverse()) {
      this.#assertOwned(dir);
      try {
        this.ctx.fs.rmdir(dir);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw new CgroupError(`cannot remove cgroup ${dir}: ${reasonOf(e)}`, dir, errnoOf(e));
      }
    }
  }

  /**
   * Kills what is left in the cgroup and removes its directories. Idempotent. The kernel may answer EBUSY
   * for a moment after the last process died: retried for up to `timeoutMs`.
   */
  async destroy(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Most often nothing is left (a container's processes end with its first one, which takes its PID
    // namespace along): the directories go at once, and only a busy cgroup is searched and killed.
    for (let delay = 1;; delay = Math.min(delay * 2, 50)) {
      try {
        this.#removeDirs(this.paths);
        return;
      } catch (e) {
        if (!(e instanceof CgroupError && e.code === "EBUSY") || Date.now() > deadline) throw e;
        if (this.pids().length > 0) await this.killAll(Math.max(0, deadline - Date.now()));
        else await sleep(delay);
      }
    }
  }
}

function pidsOnly(s: Stats): Pick<Stats, "pids" | "pidsLimit" | "pidsRefused"> {
  return { pids: s.pids, pidsLimit: s.pidsLimit, pidsRefused: s.pidsRefused };
}
