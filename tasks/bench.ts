/**
 * `deno task bench`: how long does `/bin/true` take in a fresh container, husk against its peers, all measured
 * in the same run on the same machine.
 *
 * Measured (medians, min, max):
 * 1. the husk CLI as a whole process: `deno run -A main.ts --root TMP run --rm --network none --rootfs ROOTFS
 *    /bin/true` (loopback only, as the peers' containers);
 * 2. the library API: many containers from one Deno process (`run()` of ../mod.ts, timed per container);
 *    then the CLI with bridge networking against --network none, both in a network namespace made for the run;
 * 3. util-linux `unshare -fpmuin --mount-proc -R ROOTFS /bin/true` (the floor for new namespaces);
 * 4. `runc run` of an OCI bundle made with `runc spec` (when runc is installed);
 * 5. crun and podman, when installed and working (otherwise skipped with the reason);
 * plus, for reference, `deno run` of an empty script (Deno's own start-up);
 * and the image benchmarks of bench_images.ts: `husk pull` against `skopeo copy`, layer extraction against
 * GNU tar (`--image-runs N`, default 15: a pull varies by 10 to 30 ms from one to the next).
 *
 * Whole processes are timed with hyperfine (`-N`, `--warmup 3`, `--export-json`) when it is installed, else with a
 * loop of Deno.Command. Targets: CLI median <= runc median; library median <= 1.5x unshare median; bridge
 * networking adds at most 10 ms to the CLI's median.
 * Results go to stdout (a table) and to bench-results/latest.json.
 *
 * Options: `--runs N` (whole-process runs, default 100), `--library-runs N` (default 3 x runs, so 300),
 * `--rootfs DIR` (default rootfs/default). Must run as root. Everything it makes (a temporary directory holding
 * the husk root, the OCI bundle and runtime state, and the cgroups under /husk-bench/<runtime>-<pid>) is removed
 * at the end, also after a failure or Ctrl-C.
 */
import { parseArgs } from "node:util";
import { FAR, imageBenchmarks } from "./bench_images.ts";
import { type BenchResult, commandLine, type Skipped, summarize } from "./bench_results.ts";
import { removeRootCgroups } from "../lib/runtime/cgroups.ts";
import { DEFAULT_ROOT, runDir, statePaths } from "../lib/state/paths.ts";
import { removeIfExists } from "../lib/files.ts";

// ---------------------------------------------------------------------------------------------------------------
// Pure parts (tested in bench_test.ts)
// ---------------------------------------------------------------------------------------------------------------

/** `a / b` as "1.23x", or "n/a" when either side is missing or not a positive number. */
export function formatRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(a >= 0) || !(b > 0) || !isFinite(a) || !isFinite(b)) {
    return "n/a";
  }
  return `${(a / b).toFixed(2)}x`;
}

/** Milliseconds with two decimals. */
export function formatMs(ms: number): string {
  return isFinite(ms) ? ms.toFixed(2) : "n/a";
}

/** A plain-text table: a header row, a rule, then the rows; columns padded, "right" ones right-aligned. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ("left" | "right")[] = [],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    widths.map((w, i) => {
      const cell = cells[i] ?? "";
      return align[i] === "right" ? cell.padStart(w) : cell.padEnd(w);
    }).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n") + "\n";
}

/** The results as table rows: name, method, median, min, max, p90, runs. */
export function resultsTable(results: readonly BenchResult[]): string {
  return renderTable(
    ["name", "method", "median ms", "min ms", "max ms", "p90 ms", "runs"],
    results.map((r) => [
      r.name,
      r.method,
      formatMs(r.median),
      formatMs(r.min),
      formatMs(r.max),
      formatMs(r.p90),
      String(r.runs),
    ]),
    ["left", "left", "right", "right", "right", "right", "right"],
  );
}

/**
 * A target: `subject` median divided by `baseline` median ("ratio"), or `subject` median minus `baseline`
 * median in ms ("extra"), must be at most `limit`.
 */
export interface Target {
  label: string;
  subject: string;
  baseline: string;
  measure: "ratio" | "extra";
  limit: number;
}

export interface TargetOutcome extends Target {
  /** The ratio or the extra milliseconds, or null when either side was not measured. */
  value: number | null;
  /** true / false, or null when it could not be decided. */
  met: boolean | null;
}

export const TARGETS: readonly Target[] = [
  { label: "CLI vs runc", subject: "husk CLI", baseline: "runc", measure: "ratio", limit: 1 },
  { label: "library vs unshare", subject: "husk library", baseline: "unshare", measure: "ratio", limit: 1.5 },
  {
    label: "bridge networking",
    subject: "husk CLI, bridge",
    baseline: "husk CLI, network none",
    measure: "extra",
    limit: 10,
  },
  { label: "pull vs skopeo", subject: "husk pull", baseline: "skopeo copy", measure: "ratio", limit: 1 },
  {
    label: `pull vs skopeo${FAR}`,
    subject: `husk pull${FAR}`,
    baseline: `skopeo copy${FAR}`,
    measure: "ratio",
    limit: 1,
  },
  {
    label: "extraction vs GNU tar",
    subject: "husk layer extraction",
    baseline: "GNU tar -xzf",
    measure: "ratio",
    limit: 1,
  },
];

export function evaluateTargets(results: readonly BenchResult[], targets = TARGETS): TargetOutcome[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  return targets.map((t) => {
    const s = byName.get(t.subject);
    const b = byName.get(t.baseline);
    const value = !s || !b
      ? null
      : t.measure === "extra"
      ? s.median - b.median
      : b.median > 0
      ? s.median / b.median
      : null;
    return { ...t, value, met: value === null ? null : value <= t.limit };
  });
}

/** One line per target: "CLI vs runc: 1.23x (... target <= 1x: NOT met)", "bridge: +4.20 ms (...)". */
export function formatTargets(outcomes: readonly TargetOutcome[], results: readonly BenchResult[]): string {
  const byName = new Map(results.map((r) => [r.name, r]));
  return outcomes.map((o) => {
    const verdict = o.met === null
      ? `not measured (${[o.subject, o.baseline].filter((n) => !byName.has(n)).join(", ")} missing)`
      : o.met
      ? "met"
      : "NOT met";
    if (o.measure === "extra") {
      const extra = o.value === null ? "n/a" : `${o.value >= 0 ? "+" : ""}${formatMs(o.value)} ms`;
      return `${o.label}: ${extra} (${o.subject} median - ${o.baseline} median; target <= ${o.limit} ms: ${verdict})`;
    }
    const ratio = formatRatio(byName.get(o.subject)?.median, byName.get(o.baseline)?.median);
    return `${o.label}: ${ratio} (${o.subject} median / ${o.baseline} median; target <= ${o.limit}x: ${verdict})`;
  }).join("\n") + "\n";
}

/** The run times (ms) of the first command in hyperfine's `--export-json` output. */
export function hyperfineTimes(json: string): number[] {
  const data = JSON.parse(json) as { results?: { times?: unknown }[] };
  const times = data.results?.[0]?.times;
  if (!Array.isArray(times) || times.some((t) => typeof t !== "number")) {
    throw new Error("hyperfine's JSON has no results[0].times");
  }
  return (times as number[]).map((s) => s * 1000);
}

/** The hard resource limits of /proc/self/limits, by OCI rlimit name (Infinity for "unlimited"). */
export function parseHardLimits(text: string): Map<string, number> {
  const names: Record<string, string> = {
    "Max cpu time": "RLIMIT_CPU",
    "Max file size": "RLIMIT_FSIZE",
    "Max data size": "RLIMIT_DATA",
    "Max stack size": "RLIMIT_STACK",
    "Max core file size": "RLIMIT_CORE",
    "Max resident set": "RLIMIT_RSS",
    "Max processes": "RLIMIT_NPROC",
    "Max open files": "RLIMIT_NOFILE",
    "Max locked memory": "RLIMIT_MEMLOCK",
    "Max address space": "RLIMIT_AS",
    "Max file locks": "RLIMIT_LOCKS",
    "Max pending signals": "RLIMIT_SIGPENDING",
    "Max msgqueue size": "RLIMIT_MSGQUEUE",
    "Max nice priority": "RLIMIT_NICE",
    "Max realtime priority": "RLIMIT_RTPRIO",
    "Max realtime timeout": "RLIMIT_RTTIME",
  };
  const limits = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m || !(m[1] in names)) continue;
    limits.set(names[m[1]], m[3] === "unlimited" ? Infinity : Number(m[3]));
  }
  return limits;
}

export interface RuncConfigEdit {
  /** Absolute path of the root filesystem. */
  rootfs: string;
  args: readonly string[];
  /** ABSOLUTE cgroup path from each hierarchy's root, e.g. "/husk-bench/runc-123". */
  cgroupsPath: string;
  /** The machine's hard rlimits (see parseHardLimits): entries asking for more are dropped. Absent: drop all. */
  hardLimits?: ReadonlyMap<string, number>;
}

/**
 * `runc spec`'s config.json edited for the benchmark: our rootfs (writable), our command, no terminal, an
 * absolute cgroups path, and only the rlimits this machine can grant. The input is not modified.
 */
// deno-lint-ignore no-explicit-any
export function editRuncConfig(config: any, edit: RuncConfigEdit): any {
  if (!edit.rootfs.startsWith("/")) throw new Error(`rootfs must be an absolute path, got "${edit.rootfs}"`);
  if (!edit.cgroupsPath.startsWith("/") || edit.cgroupsPath.split("/").includes("..")) {
    // A relative path would be created under this process's own cgroup (here /memory/process_api/...).
    throw new Error(`cgroupsPath must be an absolute path without "..", got "${edit.cgroupsPath}"`);
  }
  if (edit.args.length === 0) throw new Error("args must not be empty");
  const out = structuredClone(config);
  out.root = { ...(out.root ?? {}), path: edit.rootfs, readonly: false };
  out.process = { ...(out.process ?? {}), args: [...edit.args], terminal: false };
  const limits = edit.hardLimits;
  // deno-lint-ignore no-explicit-any
  out.process.rlimits = limits === undefined ? [] : (out.process.rlimits ?? []).filter((r: any) => {
    const hard = limits.get(r.type);
    return hard !== undefined && r.hard <= hard && r.soft <= r.hard;
  });
  out.linux = { ...(out.linux ?? {}), cgroupsPath: edit.cgroupsPath };
  return out;
}

/** One line of /proc/self/mountinfo. */
export interface MountInfo {
  /** The mount's root within its filesystem. */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string;
}

/** Undoes mountinfo's octal escapes (\040 for a space, ...). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    if (left.length < 5 || right.length < 3) continue;
    mounts.push({
      root: unescapeMount(left[3]),
      mountPoint: unescapeMount(left[4]),
      fsType: right[0],
      superOptions: right[2],
    });
  }
  return mounts;
}

/** Mount points of the cgroup hierarchies (v1 "cgroup" and v2 "cgroup2") whose root is the hierarchy's root. */
export function cgroupMountPoints(mounts: readonly MountInfo[]): string[] {
  return mounts.filter((m) => (m.fsType === "cgroup" || m.fsType === "cgroup2") && m.root === "/")
    .map((m) => m.mountPoint);
}

/** Mount points at or below `dir` (deepest first), so that nothing mounted is deleted through. */
export function mountPointsUnder(mounts: readonly MountInfo[], dir: string): string[] {
  const base = dir.replace(/\/+$/, "");
  return mounts.map((m) => m.mountPoint)
    .filter((p) => p === base || p.startsWith(base + "/"))
    .sort((a, b) => b.length - a.length);
}

export interface Options {
  runs: number;
  imageRuns: number;
  libraryRuns: number;
  rootfs?: string;
  /** Time processes with a Deno.Command loop even when hyperfine is installed. */
  loop: boolean;
  help: boolean;
}

export const USAGE = `usage: deno task bench [--runs N] [--library-runs N] [--rootfs DIR] [--loop]

  --runs N          runs per whole-process benchmark (husk CLI, unshare, runc, ...), default 100
  --library-runs N  containers started by the library benchmark, default 3 x runs (300)
  --image-runs N    pulls per pull benchmark (3 x N layer extractions), default 15
  --rootfs DIR      root filesystem to run /bin/true in, default rootfs/default
  --loop            time processes with a Deno.Command loop even when hyperfine is installed
`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: "string" },
      "library-runs": { type: "string" },
      "image-runs": { type: "string" },
      rootfs: { type: "string" },
      loop: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  const count = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
    return n;
  };
  const runs = count("runs", values.runs, 100);
  return {
    runs,
    libraryRuns: count("library-runs", values["library-runs"], 3 * runs),
    imageRuns: count("image-runs", values["image-runs"], 15),
    rootfs: values.rootfs,
    loop: values.loop === true,
    help: values.help === true,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------------------------

const WARMUP = 3;
const PROJECT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const CGROUP_PARENT = "husk-bench";

/** Set by SIGINT/SIGTERM: stop measuring, clean up, exit. */
let interrupted = false;

class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

function checkInterrupted(): void {
  if (interrupted) throw new Interrupted();
}

/** `command -v NAME`: the executable's path on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const path = `${dir}/${name}`;
    try {
      const st = Deno.statSync(path);
      if (st.isFile && (st.mode ?? 0) & 0o111) return path;
    } catch {
      // not there
    }
  }
  return null;
}

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function capture(argv: readonly string[], cwd = PROJECT): Promise<Output> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** The first non-empty line of a tool's output, for messages. */
function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
}

function failure(what: string, out: Output): Error {
  const detail = firstLine(out.stderr) || firstLine(out.stdout) || `exit code ${out.code}`;
  return new Error(`${what} failed: ${detail}`);
}

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

/** Times a whole process with hyperfine (`-N`, warm-up, JSON export). */
async function hyperfineBench(
  hyperfine: string,
  name: string,
  argv: readonly string[],
  runs: number,
  tmp: string,
  cwd: string,
): Promise<BenchResult> {
  const json = `${tmp}/hyperfine-${name.replace(/[^a-z0-9]+/gi, "-")}.json`;
  const command = commandLine(argv);
  const out = await capture([
    hyperfine,
    "-N",
    "--warmup",
    String(WARMUP),
    "--runs",
    String(runs),
    "--style",
    "none",
    "--export-json",
    json,
    "--command-name",
    name,
    command,
  ], cwd);
  checkInterrupted();
  if (out.code !== 0) throw failure(`hyperfine of ${name}`, out);
  return summarize(name, "hyperfine", command, hyperfineTimes(Deno.readTextFileSync(json)));
}

/** Times a whole process with a loop of Deno.Command (wall time from spawn to exit status). */
async function loopBench(
  name: string,
  argv: readonly string[],
  runs: number,
  cwd: string,
): Promise<BenchResult> {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    checkInterrupted();
    const start = performance.now();
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const out = await child.output();
    const elapsed = performance.now() - start;
    if (out.code !== 0) {
      throw failure(name, { code: out.code, stdout: "", stderr: new TextDecoder().decode(out.stderr) });
    }
    if (i >= WARMUP) times.push(elapsed);
  }
  return summarize(name, "loop", commandLine(argv), times);
}

interface Timer {
  process(name: string, argv: readonly string[], runs: number, cwd?: string): Promise<BenchResult>;
}

function makeTimer(hyperfine: string | null, tmp: string): Timer {
  return {
    process: (name, argv, runs, cwd = PROJECT) =>
      hyperfine ? hyperfineBench(hyperfine, name, argv, runs, tmp, cwd) : loopBench(name, argv, runs, cwd),
  };
}

/** Many containers from one Deno process: run() of mod.ts, timed per container. */
async function libraryBench(huskRoot: string, rootfs: string, runs: number): Promise<BenchResult> {
  const { defaultRunOptions, run, statePaths } = await import("../mod.ts");
  const paths = statePaths(huskRoot);
  const options = { ...defaultRunOptions(), command: ["/bin/true"], rm: true, rootfs, network: "none" };
  const times: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    checkInterrupted();
    const start = performance.now();
    const { exitCode } = await run(paths, options);
    const elapsed = performance.now() - start;
    if (exitCode !== 0) throw new Error(`husk library: /bin/true exited with ${exitCode}`);
    if (i >= WARMUP) times.push(elapsed);
  }
  return summarize(
    "husk library",
    "in-process",
    `run(statePaths(root), {command: ["/bin/true"], rm: true, network: "none"})`,
    times,
  );
}

/** An OCI bundle for runc/crun: `runc spec`, edited (see editRuncConfig). */
async function makeBundle(runc: string, dir: string, rootfs: string, cgroupsPath: string): Promise<string> {
  Deno.mkdirSync(dir, { recursive: true });
  const out = await capture([runc, "spec"], dir);
  if (out.code !== 0) throw failure("runc spec", out);
  const config = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
  const hardLimits = parseHardLimits(Deno.readTextFileSync("/proc/self/limits"));
  const edited = editRuncConfig(config, { rootfs, args: ["/bin/true"], cgroupsPath, hardLimits });
  Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify(edited, null, 2) + "\n");
  return dir;
}

/** Removes the cgroup directories below /husk-bench/<leaf> in every hierarchy, then /husk-bench if empty. */
function removeBenchCgroups(leaf: string): string[] {
  const problems: string[] = [];
  const removeTree = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const entry of entries) if (entry.isDirectory) removeTree(`${dir}/${entry.name}`);
    try {
      Deno.removeSync(dir); // rmdir: a cgroup directory goes with its control files
    } catch (e) {
      problems.push(`${dir}: ${(e as Error).message}`);
    }
  };
  const mounts = cgroupMountPoints(parseMountInfo(Deno.readTextFileSync("/proc/self/mountinfo")));
  for (const mount of mounts) {
    removeTree(`${mount}/${CGROUP_PARENT}/${leaf}`);
    try {
      Deno.removeSync(`${mount}/${CGROUP_PARENT}`);
    } catch {
      // absent, or still holds another run's cgroups
    }
  }
  return problems;
}

/** Times `runc run` (or crun, which takes the same command line) of a bundle, then removes its cgroups. */
async function ociRuntimeBench(
  timer: Timer,
  name: string,
  binary: string,
  runc: string,
  tmp: string,
  rootfs: string,
  runs: number,
): Promise<BenchResult | Skipped> {
  const leaf = `${name}-${Deno.pid}`;
  const state = `${tmp}/${name}-state`;
  try {
    const bundle = await makeBundle(runc, `${tmp}/${name}-bundle`, rootfs, `/${CGROUP_PARENT}/${leaf}`);
    const argv = [binary, "--root", state, "run", "--bundle", bundle, `bench-${name}`];
    const probe = await capture(argv, tmp);
    checkInterrupted();
    if (probe.code !== 0) return { name, reason: failure(`${name} run`, probe).message };
    return await timer.process(name, argv, runs, tmp);
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    return { name, reason: (e as Error).message };
  } finally {
    // runc run deletes the container when it exits; make sure after a failure too.
    const list = await capture([binary, "--root", state, "list", "-q"], tmp).catch(() => null);
    for (const id of list?.code === 0 ? list.stdout.split("\n").filter((l) => l.trim()) : []) {
      await capture([binary, "--root", state, "delete", "-f", id.trim()], tmp).catch(() => null);
    }
    for (const problem of removeBenchCgroups(leaf)) progress(`could not remove cgroup ${problem}`);
  }
}

/** podman with --rootfs, its state in the temporary directory (best effort: skipped when it does not work). */
async function podmanBench(
  timer: Timer,
  podman: string,
  tmp: string,
  rootfs: string,
  runs: number,
): Promise<BenchResult | Skipped> {
  const name = "podman";
  const leaf = `${name}-${Deno.pid}`;
  const dir = `${tmp}/podman`;
  const global = [
    podman,
    "--root",
    `${dir}/root`,
    "--runroot",
    `${dir}/run`,
    "--tmpdir",
    `${dir}/tmp`,
    "--storage-driver",
    "vfs",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
  ];
  const limits = parseHardLimits(Deno.readTextFileSync("/proc/self/limits"));
  const ulimit = (flag: string, key: string, fallback: number) => {
    const hard = Math.min(limits.get(key) ?? fallback, fallback);
    return ["--ulimit", `${flag}=${hard}:${hard}`];
  };
  const argv = [
    ...global,
    "run",
    "--rm",
    "--network",
    "none",
    "--cgroup-parent",
    `/${CGROUP_PARENT}/${leaf}`,
    ...ulimit("nofile", "RLIMIT_NOFILE", 1048576),
    ...ulimit("nproc", "RLIMIT_NPROC", 32768),
    "--rootfs",
    rootfs,
    "/bin/true",
  ];
  try {
    Deno.mkdirSync(dir, { recursive: true });
    const probe = await capture(argv, tmp);
    checkInterrupted();
    if (probe.code !== 0) return { name, reason: failure("podman run", probe).message };
    return await timer.process(name, argv, runs, tmp);
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    return { name, reason: (e as Error).message };
  } finally {
    await capture([...global, "rm", "-a", "-f"], tmp).catch(() => null);
    for (const problem of removeBenchCgroups(leaf)) progress(`could not remove cgroup ${problem}`);
  }
}

/** The first line of `TOOL --version`, or null. */
async function version(argv: readonly string[]): Promise<string | null> {
  try {
    const out = await capture(argv);
    return out.code === 0 ? firstLine(out.stdout) || null : null;
  } catch {
    return null;
  }
}

/** Removes the temporary directory, unless something is still mounted in it (then it says so and keeps it). */
function removeTmp(tmp: string): void {
  const mounted = mountPointsUnder(parseMountInfo(Deno.readTextFileSync("/proc/self/mountinfo")), tmp);
  if (mounted.length > 0) {
    progress(`NOT removing ${tmp}: still mounted inside it: ${mounted.join(", ")}`);
    return;
  }
  Deno.removeSync(tmp, { recursive: true });
}

/** Containers left in the husk root (there should be none: every run used --rm). */
function leftoverContainers(huskRoot: string): string[] {
  try {
    return [...Deno.readDirSync(`${huskRoot}/containers`)].map((e) => e.name);
  } catch {
    return [];
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (Deno.uid() !== 0) {
    console.error("bench: must run as root (containers need namespaces and mounts)");
    return 1;
  }
  let rootfs: string;
  try {
    rootfs = Deno.realPathSync(options.rootfs ?? `${PROJECT}/rootfs/default`);
  } catch {
    console.error(
      options.rootfs === undefined
        ? "bench: no rootfs/default: run `deno task rootfs` first, or pass --rootfs DIR"
        : `bench: root filesystem ${options.rootfs} does not exist`,
    );
    return 1;
  }

  const onSignal = () => {
    interrupted = true;
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const hyperfine = options.loop ? null : which("hyperfine");
  const runc = which("runc");
  const crun = which("crun");
  const podman = which("podman");
  const unshare = which("unshare");
  const tmp = Deno.makeTempDirSync({ prefix: "husk-bench-" });
  // The husk root lives where the default root does: creating a file (a state record) in this machine's
  // /tmp has cost up to 0.3 ms, against 0.04 ms in /var/lib.
  const huskRoot = Deno.makeTempDirSync({
    dir: DEFAULT_ROOT.slice(0, DEFAULT_ROOT.lastIndexOf("/")),
    prefix: "husk-bench-",
  });
  const sandbox = `husk-bench-${Deno.pid}`;
  let sandboxMade = false;
  const timer = makeTimer(hyperfine, tmp);
  const results: BenchResult[] = [];
  const imageResults: BenchResult[] = [];
  const skipped: Skipped[] = [];
  const record = (r: BenchResult | Skipped) => {
    if ("reason" in r) {
      skipped.push(r);
      progress(`skipped ${r.name}: ${r.reason}`);
    } else {
      results.push(r);
    }
  };
  const attempt = async (name: string, fn: () => Promise<BenchResult | Skipped>) => {
    checkInterrupted();
    progress(`measuring ${name}`);
    try {
      record(await fn());
    } catch (e) {
      if (e instanceof Interrupted) throw e;
      record({ name, reason: (e as Error).message });
    }
  };
  let leftovers: string[] = [];
  let code = 0;
  try {
    progress(
      `rootfs ${rootfs}; ${options.runs} runs per process benchmark, ${options.libraryRuns} for the library; ` +
        (hyperfine
          ? `timing processes with ${hyperfine}`
          : `timing processes with a Deno.Command loop${
            options.loop ? "" : " (hyperfine is not installed)"
          }`),
    );
    const empty = `${tmp}/empty.ts`;
    Deno.writeTextFileSync(empty, "");
    await attempt(
      "deno (empty script)",
      () => timer.process("deno (empty script)", [Deno.execPath(), "run", "-A", empty], options.runs),
    );
    // Like the peers' containers, with loopback only: bridge networking is measured on its own, below.
    const huskRun = (...flags: string[]) => [
      Deno.execPath(),
      "run",
      "-A",
      `${PROJECT}/main.ts`,
      "--root",
      huskRoot,
      "run",
      "--rm",
      "--rootfs",
      rootfs,
      ...flags,
      "/bin/true",
    ];
    await attempt("husk CLI", () => timer.process("husk CLI", huskRun("--network", "none"), options.runs));
    await attempt("husk library", () => libraryBench(huskRoot, rootfs, options.libraryRuns));
    // Bridge networking against --network none, both in a network namespace made for the benchmark, so that
    // its bridge, veths and firewall rules never touch the machine's own network.
    const nsenter = which("nsenter");
    const made = nsenter && which("ip") ? await capture(["ip", "netns", "add", sandbox]) : null;
    if (made && made.code === 0) {
      sandboxMade = true;
      await capture(["ip", "-n", sandbox, "link", "set", "lo", "up"]);
      const inSandbox = (argv: string[]) => [nsenter!, `--net=/run/netns/${sandbox}`, ...argv];
      const variants: [string, string[]][] = [
        ["husk CLI, network none", ["--network", "none"]],
        ["husk CLI, bridge", []],
      ];
      for (const [name, flags] of variants) {
        await attempt(name, () => timer.process(name, inSandbox(huskRun(...flags)), options.runs));
      }
    } else {
      record({
        name: "husk CLI, bridge",
        reason: made ? `ip netns add: ${firstLine(made.stderr)}` : "nsenter or ip is not installed",
      });
    }
    leftovers = leftoverContainers(huskRoot);
    if (unshare) {
      await attempt(
        "unshare",
        () =>
          timer.process(
            "unshare",
            [unshare, "-fpmuin", "--mount-proc", "-R", rootfs, "/bin/true"],
            options.runs,
          ),
      );
    } else {
      record({ name: "unshare", reason: "unshare (util-linux) is not installed" });
    }
    if (runc) {
      await attempt("runc", () => ociRuntimeBench(timer, "runc", runc, runc, tmp, rootfs, options.runs));
    } else {
      record({ name: "runc", reason: "runc is not installed" });
    }
    if (crun && runc) {
      await attempt("crun", () => ociRuntimeBench(timer, "crun", crun, runc, tmp, rootfs, options.runs));
    } else {
      record({
        name: "crun",
        reason: crun
          ? "making its bundle needs `runc spec`, and runc is not installed"
          : "crun is not installed",
      });
    }
    if (podman) {
      await attempt("podman", () => podmanBench(timer, podman, tmp, rootfs, options.runs));
    } else {
      record({ name: "podman", reason: "podman is not installed" });
    }
    checkInterrupted();
    try {
      for (const r of await imageBenchmarks(tmp, options.imageRuns, which, progress)) {
        if ("reason" in r) record(r);
        else imageResults.push(r);
      }
    } catch (e) {
      record({ name: "image benchmarks", reason: (e as Error).message });
    }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    progress("interrupted: cleaning up");
    code = 130;
  } finally {
    leftovers = [...new Set([...leftovers, ...leftoverContainers(huskRoot)])];
    // Its bridge, veths and firewall rules go with it.
    if (sandboxMade) await capture(["ip", "netns", "del", sandbox]);
    removeTmp(tmp);
    removeTmp(huskRoot);
    removeIfExists(runDir(statePaths(huskRoot)), { recursive: true });
    try {
      removeRootCgroups(statePaths(huskRoot));
    } catch (e) {
      progress(`NOT removing the husk root's cgroups: ${(e as Error).message}`);
    }
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  if (code !== 0) return code;

  const outcomes = evaluateTargets([...results, ...imageResults]);
  console.log("\n/bin/true in a fresh container (wall time per container, ms)\n");
  console.log(resultsTable(results));
  if (imageResults.length > 0) {
    console.log(
      "Images: one pull of a 4-layer image from a local registry; extraction of its largest layer (ms)\n",
    );
    console.log(resultsTable(imageResults));
  }
  for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`);
  if (skipped.length > 0) console.log();
  console.log(formatTargets(outcomes, [...results, ...imageResults]));
  if (leftovers.length > 0) {
    console.log(`WARNING: husk left ${leftovers.length} container record(s) behind\n`);
  }

  const report = {
    date: new Date().toISOString(),
    machine: {
      kernel: Deno.osRelease(),
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
    },
    tools: {
      hyperfine: hyperfine ? await version([hyperfine, "--version"]) : null,
      unshare: unshare ? await version([unshare, "--version"]) : null,
      runc: runc ? await version([runc, "--version"]) : null,
      crun: crun ? await version([crun, "--version"]) : null,
      podman: podman ? await version([podman, "--version"]) : null,
    },
    options: {
      runs: options.runs,
      libraryRuns: options.libraryRuns,
      imageRuns: options.imageRuns,
      warmup: WARMUP,
      rootfs,
    },
    results,
    imageResults,
    skipped,
    targets: outcomes,
    leftoverContainers: leftovers,
  };
  const dir = `${PROJECT}/bench-results`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/latest.json`, JSON.stringify(report, null, 2) + "\n");
  console.log(`results written to ${dir}/latest.json`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
