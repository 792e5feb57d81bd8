/**
 * An in-memory cgroupfs for unit tests: the hierarchies of a v1, hybrid or pure v2 machine under a root path,
 * with the kernel's behaviours that matter to lib/cgroups (control files appear with a directory, v1's
 * memory <= memory+swap rule, v1 cpuset's empty cpus/mems refusing processes, v2's subtree_control and
 * no-internal-process rules, cgroup.kill, the freezers, EBUSY on rmdir of a populated cgroup). Every
 * mutation is logged, so tests can check order and that nothing outside husk's parent is touched.
 * It never signals a real process: kill() only removes the pid from the fake cgroups.
 */
import type { CgroupFile, CgroupFs } from "./fs.ts";

export interface FakeOptions {
  mode: "v1" | "hybrid" | "v2";
  root?: string;
  /** Swap accounting (v1 memory.memsw.*, v2 memory.swap.*). Default true. */
  swap?: boolean;
  /** v2 cgroup.kill (Linux 5.14+). Default true. */
  cgroupKill?: boolean;
  /** v1: cpu and cpuacct co-mounted as "cpu,cpuacct" (the usual systemd layout). Default false. */
  comountCpu?: boolean;
  /** Controllers missing from the machine. */
  without?: string[];
}

function osError(kind: keyof typeof Deno.errors, code: string, message: string): Error {
  const Ctor = Deno.errors[kind] as unknown as new (m: string) => Error;
  const e = new Ctor(`${message} (os error): ${code}`);
  Object.assign(e, { code });
  return e;
}

const V1_UNLIMITED = "9223372036854771712";

export class FakeCgroupFs implements CgroupFs {
  readonly root: string;
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>();
  /** "mkdir PATH", "rmdir PATH", "write PATH VALUE", "kill PID", in order. */
  readonly log: string[] = [];
  /** Writes to a path ending with a key fail with that errno ("EINVAL", "EBUSY", ...). */
  readonly failWrites = new Map<string, string>();
  /** Each mount point and what it is: "cgroup2" or the v1 controllers ("cpu,cpuacct"). */
  readonly mounts = new Map<string, string>();
  readonly #opts: Required<FakeOptions>;

  constructor(options: FakeOptions) {
    this.#opts = {
      root: "/fake/cgroup",
      swap: true,
      cgroupKill: true,
      comountCpu: false,
      without: [],
      ...options,
    };
    this.root = this.#opts.root;
    const has = (c: string) => !this.#opts.without.includes(c);
    if (options.mode !== "v2") {
      const groups = this.#opts.comountCpu
        ? ["cpu,cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio"]
        : ["cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio"];
      for (const g of groups) if (g.split(",").every(has)) this.mounts.set(`${this.root}/${g}`, g);
      if (options.mode === "hybrid") this.mounts.set(`${this.root}/unified`, "cgroup2");
    } else {
      this.mounts.set(this.root, "cgroup2");
    }
    this.dirs.add(this.root);
    for (const [mount, what] of this.mounts) this.#makeDir(mount, what, true);
  }

  /** /proc/self/mountinfo as the kernel would show it (plus unrelated mounts). */
  mountinfo(): string {
    const lines = [
      "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
      "23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw",
    ];
    let id = 30;
    for (const [mount, what] of this.mounts) {
      lines.push(
        what === "cgroup2"
          ? `${id} 23 0:${id} / ${mount} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate`
          : `${id} 23 0:${id} / ${mount} rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,${what}`,
      );
      id++;
    }
    return lines.join("\n") + "\n";
  }

  #mountOf(path: string): [string, string] {
    let best: [string, string] | null = null;
    for (const [m, what] of this.mounts) {
      if ((path === m || path.startsWith(m + "/")) && (best === null || m.length > best[0].length)) {
        best = [m, what];
      }
    }
    if (best === null) throw osError("NotFound", "ENOENT", `no cgroupfs at ${path}`);
    return best;
  }

  #makeDir(dir: string, what: string, isRoot: boolean): void {
    this.dirs.add(dir);
    const set = (f: string, v: string) => this.files.set(`${dir}/${f}`, v);
    set("cgroup.procs", "");
    if (what === "cgroup2") {
      const controllers = isRoot
        ? "cpuset cpu io memory hugetlb pids rdma misc".split(" ").filter((c) =>
          !this.#opts.without.includes(c)
        )
        : this.#words(`${dir.slice(0, dir.lastIndexOf("/"))}/cgroup.subtree_control`);
      if (this.mounts.get(dir) === "cgroup2" && this.#opts.mode === "hybrid") {
        controllers.splice(0, Infinity, "hugetlb");
      }
      set("cgroup.controllers", controllers.join(" "));
      set("cgroup.subtree_control", "");
      set("cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
      if (isRoot) return;
      set("cgroup.events", "populated 0\nfrozen 0\n");
      set("cgroup.freeze", "0");
      if (this.#opts.cgroupKill) set("cgroup.kill", "");
      if (controllers.includes("memory")) {
        set("memory.max", "max");
        set("memory.current", "0");
        set("memory.stat", "anon 0\nfile 0\ninactive_file 0\n");
        set("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        if (this.#opts.swap) set("memory.swap.max", "max");
      }
      if (controllers.includes("pids")) {
        set("pids.max", "max");
        set("pids.current", "0");
        set("pids.events", "max 0\n");
      }
      if (controllers.includes("cpu")) {
        set("cpu.max", "max 100000");
        set("cpu.weight", "100");
        set(
          "cpu.stat",
          "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
        );
      }
      if (controllers.includes("cpuset")) {
        set("cpuset.cpus", "");
        set("cpuset.mems", "");
        set("cpuset.cpus.effective", "0-1");
      }
      return;
    }
    const controllers = what.split(",");
    if (controllers.includes("memory")) {
      set("memory.limit_in_bytes", V1_UNLIMITED);
      set("memory.usage_in_bytes", "0");
      set("memory.failcnt", "0");
      set("memory.stat", "cache 0\nrss 0\ntotal_inactive_file 0\n");
      set("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
      if (this.#opts.swap) {
        set("memory.memsw.limit_in_bytes", V1_UNLIMITED);
        set("memory.memsw.failcnt", "0");
      }
    }
    if (controllers.includes("cpu")) {
      set("cpu.shares", "1024");
      set("cpu.cfs_period_us", "100000");
      set("cpu.cfs_quota_us", "-1");
      set("cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
    }
    if (controllers.includes("cpuacct")) {
      set("cpuacct.usage", "0");
      set("cpuacct.usage_user", "0");
      set("cpuacct.usage_sys", "0");
    }
    if (controllers.includes("cpuset")) {
      // A parent's cgroup.clone_children makes a new cgroup start with its cpus and mems.
      const parent = dir.slice(0, dir.lastIndexOf("/"));
      const cloned = !isRoot && this.files.get(`${parent}/cgroup.clone_children`) === "1";
      const inherit = (f: string) => cloned ? this.files.get(`${parent}/${f}`)! : "";
      set("cpuset.cpus", isRoot ? "0-1" : inherit("cpuset.cpus"));
      set("cpuset.mems", isRoot ? "0" : inherit("cpuset.mems"));
      set("cgroup.clone_children", "0");
    }
    if (controllers.includes("pids") && !isRoot) {
      set("pids.max", "max");
      set("pids.current", "0");
      set("pids.events", "max 0\n");
    }
    if (controllers.includes("freezer") && !isRoot) set("freezer.state", "THAWED");
    if (controllers.includes("devices")) {
      set("devices.deny", "");
      set("devices.allow", "");
      set("devices.list", "a *:* rwm");
    }
  }

  #words(path: string): string[] {
    return (this.files.get(path) ?? "").trim().split(/\s+/).filter((w) => w !== "");
  }

  read(path: string): string {
    if (path === "/proc/self/mountinfo") return this.mountinfo();
    const v = this.files.get(path);
    if (v === undefined) throw osError("NotFound", "ENOENT", `No such file or directory: ${path}`);
    return v;
  }

  open(path: string): CgroupFile {
    if (!this.files.has(path)) throw osError("NotFound", "ENOENT", `No such file or directory: ${path}`);
    return { write: (value) => this.#write(path, value), close: () => {} };
  }

  #write(path: string, value: string): void {
    this.log.push(`write ${path} ${value}`);
    if (!this.files.has(path)) throw osError("NotFound", "ENOENT", `No such file or directory: ${path}`);
    for (const [suffix, code] of this.failWrites) {
      if (path.endsWith(suffix)) throw osError(code === "EBUSY" ? "Busy" : "InvalidData", code, `refused`);
    }
    const dir = path.slice(0, path.lastIndexOf("/"));
    const file = path.slice(dir.length + 1);
    const [mount, what] = this.#mountOf(dir);
    const get = (f: string) => this.files.get(`${dir}/${f}`);
    const einval = () => osError("InvalidData", "EINVAL", "Invalid argument");
    switch (file) {
      case "cgroup.procs": {
        const pid = value.trim();
        if (what !== "cgroup2" && get("cpuset.cpus") === "") {
          throw osError("InvalidData", "ENOSPC", "No space");
        }
        if (what === "cgroup2" && dir !== mount && get("cgroup.subtree_control") !== "") {
          throw osError("Busy", "EBUSY", "Device or resource busy");
        }
        for (const d of this.dirs) {
          if (d === mount || d.startsWith(mount + "/")) this.#removePid(d, pid);
        }
        this.files.set(path, (this.files.get(path) + `${pid}\n`).replace(/^\n/, ""));
        return;
      }
      case "cgroup.subtree_control": {
        const available = this.#words(`${dir}/cgroup.controllers`);
        const enabled = new Set(this.#words(path));
        for (const w of value.trim().split(/\s+/)) {
          const c = w.slice(1);
          if (!available.includes(c)) throw osError("NotFound", "ENOENT", "No such file or directory");
          if (w.startsWith("+")) enabled.add(c);
          else enabled.delete(c);
        }
        this.files.set(path, [...enabled].join(" "));
        return;
      }
      case "cgroup.kill":
        for (const pid of this.#words(`${dir}/cgroup.procs`)) this.kill(Number(pid));
        return;
      case "cgroup.freeze":
        this.files.set(path, value.trim());
        this.files.set(`${dir}/cgroup.events`, `populated 0\nfrozen ${value.trim()}\n`);
        return;
      case "memory.limit_in_bytes": {
        const memsw = get("memory.memsw.limit_in_bytes");
        if (memsw !== undefined && Number(value) > Number(memsw)) throw einval();
        break;
      }
      case "memory.memsw.limit_in_bytes": {
        const v = Number(value) === -1 ? Number(V1_UNLIMITED) : Number(value);
        if (v < Number(get("memory.limit_in_bytes"))) throw einval();
        this.files.set(path, String(v === Number(V1_UNLIMITED) ? V1_UNLIMITED : v));
        return;
      }
      case "cpuset.cpus":
        if (!/^[0-9,-]*$/.test(value) || /(^|[,-])([2-9]|\d\d+)/.test(value)) throw einval();
        break;
    }
    this.files.set(path, value);
  }

  #removePid(dir: string, pid: string): void {
    const procs = `${dir}/cgroup.procs`;
    const left = this.#words(procs).filter((p) => p !== pid);
    if (this.files.has(procs)) this.files.set(procs, left.map((p) => p + "\n").join(""));
  }

  mkdir(path: string): void {
    this.log.push(`mkdir ${path}`);
    if (this.dirs.has(path)) throw osError("AlreadyExists", "EEXIST", `File exists: ${path}`);
    if (!this.dirs.has(path.slice(0, path.lastIndexOf("/")))) throw osError("NotFound", "ENOENT", path);
    const [, what] = this.#mountOf(path);
    this.#makeDir(path, what, false);
  }

  rmdir(path: string): void {
    this.log.push(`rmdir ${path}`);
    if (!this.dirs.has(path)) throw osError("NotFound", "ENOENT", path);
    const children = [...this.dirs].some((d) => d.startsWith(path + "/"));
    if (children || this.#words(`${path}/cgroup.procs`).length > 0) {
      throw osError("Busy", "EBUSY", "Device or resource busy");
    }
    this.dirs.delete(path);
    for (const f of [...this.files.keys()]) if (f.startsWith(path + "/")) this.files.delete(f);
  }

  exists(path: string): boolean {
    return this.dirs.has(path) || this.files.has(path);
  }

  subdirs(path: string): string[] {
    const out: string[] = [];
    for (const d of this.dirs) {
      if (d.startsWith(path + "/") && !d.slice(path.length + 1).includes("/")) {
        out.push(d.slice(path.length + 1));
      }
    }
    return out.sort();
  }

  kill(pid: number): void {
    this.log.push(`kill ${pid}`);
    for (const d of this.dirs) this.#removePid(d, String(pid));
  }

  /** The mutations of the log (mkdir, rmdir, write), for safety checks. */
  mutations(): { op: string; path: string; value: string }[] {
    return this.log.filter((l) => !l.startsWith("kill ")).map((l) => {
      const [op, path, ...rest] = l.split(" ");
      return { op, path, value: rest.join(" ") };
    });
  }
}
