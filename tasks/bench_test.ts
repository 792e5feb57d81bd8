import assert from "node:assert/strict";
import {
  cgroupMountPoints,
  editRuncConfig,
  evaluateTargets,
  formatMs,
  formatRatio,
  formatTargets,
  hyperfineTimes,
  mountPointsUnder,
  parseHardLimits,
  parseMountInfo,
  parseOptions,
  renderTable,
  resultsTable,
} from "./bench.ts";
import { type BenchResult, commandLine, median, percentile, quoteArg, summarize } from "./bench_results.ts";

Deno.test("median: odd and even counts, unsorted input, empty", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("median does not reorder its input", () => {
  const values = [3, 1, 2];
  median(values);
  assert.deepEqual(values, [3, 1, 2]);
});

Deno.test("percentile interpolates between closest ranks", () => {
  const values = [10, 20, 30, 40, 50];
  assert.equal(percentile(values, 0), 10);
  assert.equal(percentile(values, 100), 50);
  assert.equal(percentile(values, 25), 20);
  assert.equal(percentile(values, 90), 46);
  assert.throws(() => percentile(values, 101), RangeError);
  assert.throws(() => percentile(values, NaN), RangeError);
});

Deno.test("summarize computes the statistics and keeps the times", () => {
  const r = summarize("x", "loop", "cmd", [5, 1, 3]);
  assert.equal(r.runs, 3);
  assert.equal(r.median, 3);
  assert.equal(r.min, 1);
  assert.equal(r.max, 5);
  assert.equal(r.mean, 3);
  assert.deepEqual(r.times, [5, 1, 3]);
  assert.throws(() => summarize("x", "loop", "cmd", []), /no runs/);
});

Deno.test("formatRatio and formatMs", () => {
  assert.equal(formatRatio(30, 20), "1.50x");
  assert.equal(formatRatio(1, 3), "0.33x");
  assert.equal(formatRatio(undefined, 20), "n/a");
  assert.equal(formatRatio(10, undefined), "n/a");
  assert.equal(formatRatio(10, 0), "n/a");
  assert.equal(formatRatio(NaN, 1), "n/a");
  assert.equal(formatMs(1.005), "1.00");
  assert.equal(formatMs(12.345), "12.35");
  assert.equal(formatMs(NaN), "n/a");
});

Deno.test("renderTable pads columns and right-aligns numbers", () => {
  const text = renderTable(["name", "ms"], [["a", "1.00"], ["longer", "10.50"]], ["left", "right"]);
  assert.equal(
    text,
    [
      "name       ms",
      "------  -----",
      "a        1.00",
      "longer  10.50",
      "",
    ].join("\n"),
  );
});

function result(name: string, median: number): BenchResult {
  return summarize(name, "hyperfine", name, [median]);
}

Deno.test("resultsTable lists every result with its statistics", () => {
  const text = resultsTable([summarize("husk CLI", "hyperfine", "c", [30, 32, 40])]);
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^name\s+method\s+median ms\s+min ms\s+max ms\s+p90 ms\s+runs$/);
  assert.match(lines[2], /^husk CLI\s+hyperfine\s+32\.00\s+30\.00\s+40\.00\s+38\.40\s+3$/);
});

Deno.test("evaluateTargets: CLI vs runc (<= 1x) and library vs unshare (<= 1.5x)", () => {
  const outcomes = evaluateTargets([
    result("husk CLI", 30),
    result("runc", 40),
    result("husk library", 5),
    result("unshare", 3),
  ]);
  assert.equal(outcomes.length, 6);
  assert.equal(outcomes[0].label, "CLI vs runc");
  assert.equal(outcomes[0].value, 0.75);
  assert.equal(outcomes[0].met, true);
  assert.equal(outcomes[1].label, "library vs unshare");
  assert.ok(Math.abs(outcomes[1].value! - 5 / 3) < 1e-9);
  assert.equal(outcomes[1].met, false);
  assert.equal(outcomes[3].label, "pull vs skopeo");
  assert.equal(outcomes[3].met, null, "not measured");
});

Deno.test("evaluateTargets: a ratio exactly at the limit is met; a missing side is undecided", () => {
  const [cli, lib] = evaluateTargets([
    result("husk library", 3),
    result("unshare", 2),
    result("husk CLI", 9),
  ]);
  assert.equal(lib.met, true);
  assert.equal(cli.value, null);
  assert.equal(cli.met, null);
});

Deno.test("evaluateTargets: bridge networking is measured as extra milliseconds over --network none", () => {
  const [, , bridge] = evaluateTargets([
    result("husk CLI, bridge", 68.5),
    result("husk CLI, network none", 61),
  ]);
  assert.equal(bridge.value, 7.5);
  assert.equal(bridge.met, true);
  const [, , slow] = evaluateTargets([result("husk CLI, bridge", 80), result("husk CLI, network none", 61)]);
  assert.equal(slow.met, false);
  const text = formatTargets([slow], [result("husk CLI, bridge", 80), result("husk CLI, network none", 61)]);
  assert.equal(
    text,
    "bridge networking: +19.00 ms (husk CLI, bridge median - husk CLI, network none median; " +
      "target <= 10 ms: NOT met)\n",
  );
});

Deno.test("formatTargets states ratio, target and verdict", () => {
  const results = [result("husk CLI", 50), result("runc", 40), result("husk library", 3)];
  const text = formatTargets(evaluateTargets(results), results);
  assert.match(text, /^CLI vs runc: 1\.25x \(husk CLI median \/ runc median; target <= 1x: NOT met\)$/m);
  assert.match(text, /^library vs unshare: n\/a .*target <= 1\.5x: not measured \(unshare missing\)\)$/m);
});

Deno.test("quoteArg leaves plain words alone and single-quotes the rest", () => {
  assert.equal(quoteArg("/usr/bin/runc"), "/usr/bin/runc");
  assert.equal(quoteArg("-fpmuin"), "-fpmuin");
  assert.equal(quoteArg("--ulimit=nofile=1:2"), "--ulimit=nofile=1:2");
  assert.equal(quoteArg(""), "''");
  assert.equal(quoteArg("a b"), "'a b'");
  assert.equal(quoteArg("it's"), `'it'"'"'s'`);
  assert.equal(quoteArg("$HOME"), "'$HOME'");
  assert.equal(commandLine(["unshare", "-R", "/root fs", "/bin/true"]), "unshare -R '/root fs' /bin/true");
});

Deno.test("hyperfineTimes reads results[0].times in milliseconds", () => {
  const json = JSON.stringify({
    results: [{
      command: "x",
      mean: 0.002,
      median: 0.002,
      times: [0.001, 0.0025, 0.003],
      exit_codes: [0, 0, 0],
    }],
  });
  assert.deepEqual(hyperfineTimes(json), [1, 2.5, 3]);
  assert.throws(() => hyperfineTimes(JSON.stringify({ results: [] })), /no results/);
  assert.throws(() => hyperfineTimes(JSON.stringify({ results: [{ times: ["1"] }] })), /no results/);
});

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max processes             96365                96365                processes 
Max open files            1024                 20000                files     
Max locked memory         8388608              8388608              bytes     
Max realtime timeout      unlimited            unlimited            us        
`;

Deno.test("parseHardLimits maps /proc/self/limits to OCI names and hard values", () => {
  const limits = parseHardLimits(LIMITS);
  assert.equal(limits.get("RLIMIT_NOFILE"), 20000);
  assert.equal(limits.get("RLIMIT_NPROC"), 96365);
  assert.equal(limits.get("RLIMIT_STACK"), Infinity);
  assert.equal(limits.get("RLIMIT_MEMLOCK"), 8388608);
  assert.equal(limits.get("RLIMIT_RTTIME"), Infinity);
  assert.equal(limits.has("RLIMIT_AS"), false);
});

const SPEC = {
  ociVersion: "1.0.2-dev",
  process: {
    terminal: true,
    args: ["sh"],
    cwd: "/",
    rlimits: [
      { type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 },
      { type: "RLIMIT_NPROC", hard: 200000, soft: 200000 },
      { type: "RLIMIT_CORE", hard: 0, soft: 0 },
    ],
  },
  root: { path: "rootfs", readonly: true },
  linux: { namespaces: [{ type: "pid" }, { type: "mount" }] },
};

Deno.test("editRuncConfig sets rootfs, args, terminal, an absolute cgroupsPath, and keeps grantable rlimits", () => {
  const input = structuredClone(SPEC);
  const out = editRuncConfig(input, {
    rootfs: "/work/rootfs",
    args: ["/bin/true"],
    cgroupsPath: "/husk-bench/runc-42",
    hardLimits: parseHardLimits(LIMITS),
  });
  assert.deepEqual(out.root, { path: "/work/rootfs", readonly: false });
  assert.deepEqual(out.process.args, ["/bin/true"]);
  assert.equal(out.process.terminal, false);
  assert.equal(out.process.cwd, "/");
  assert.equal(out.linux.cgroupsPath, "/husk-bench/runc-42");
  assert.deepEqual(out.linux.namespaces, SPEC.linux.namespaces);
  // NPROC asks more than the hard limit; CORE is not in the limits list: both dropped.
  assert.deepEqual(out.process.rlimits, [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }]);
  assert.deepEqual(input, SPEC, "the input is left as it was");
});

Deno.test("editRuncConfig without hard limits drops every rlimit", () => {
  const out = editRuncConfig(SPEC, { rootfs: "/r", args: ["/bin/true"], cgroupsPath: "/husk-bench/x" });
  assert.deepEqual(out.process.rlimits, []);
});

Deno.test("editRuncConfig refuses a relative cgroupsPath or rootfs, and empty args", () => {
  const edit = { rootfs: "/r", args: ["/bin/true"], cgroupsPath: "/husk-bench/x" };
  assert.throws(() => editRuncConfig(SPEC, { ...edit, cgroupsPath: "husk-bench/x" }), /absolute/);
  assert.throws(
    () => editRuncConfig(SPEC, { ...edit, cgroupsPath: "/husk-bench/../process_api" }),
    /absolute/,
  );
  assert.throws(() => editRuncConfig(SPEC, { ...edit, rootfs: "rootfs" }), /absolute/);
  assert.throws(() => editRuncConfig(SPEC, { ...edit, args: [] }), /args/);
});

const MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 31 0:32 /process_api /mnt/cg rw,relatime - cgroup cgroup rw,memory
60 22 0:40 / /tmp/husk-bench-1/a\\040b rw - tmpfs tmpfs rw
61 60 0:41 / /tmp/husk-bench-1/a\\040b/c rw - proc proc rw
62 22 0:42 / /tmp/husk-bench-10 rw - tmpfs tmpfs rw
`;

Deno.test("parseMountInfo reads root, mount point (unescaped) and type", () => {
  const mounts = parseMountInfo(MOUNTINFO);
  assert.equal(mounts.length, 9);
  assert.deepEqual(mounts[1], {
    root: "/",
    mountPoint: "/sys/fs/cgroup/cpu",
    fsType: "cgroup",
    superOptions: "rw,cpu",
  });
  assert.equal(mounts[6].mountPoint, "/tmp/husk-bench-1/a b");
});

Deno.test("cgroupMountPoints lists v1 and v2 hierarchies mounted at their root", () => {
  assert.deepEqual(cgroupMountPoints(parseMountInfo(MOUNTINFO)), [
    "/sys/fs/cgroup/cpu",
    "/sys/fs/cgroup/memory",
    "/sys/fs/cgroup/systemd",
    "/sys/fs/cgroup/unified",
  ]);
});

Deno.test("mountPointsUnder finds mounts inside a directory, deepest first, not its namesakes", () => {
  const mounts = parseMountInfo(MOUNTINFO);
  assert.deepEqual(mountPointsUnder(mounts, "/tmp/husk-bench-1"), [
    "/tmp/husk-bench-1/a b/c",
    "/tmp/husk-bench-1/a b",
  ]);
  assert.deepEqual(mountPointsUnder(mounts, "/tmp/husk-bench-1/"), [
    "/tmp/husk-bench-1/a b/c",
    "/tmp/husk-bench-1/a b",
  ]);
  assert.deepEqual(mountPointsUnder(mounts, "/tmp/husk-bench-2"), []);
});

Deno.test("parseOptions: defaults, --runs scales the library runs, explicit values, bad input", () => {
  assert.deepEqual(parseOptions([]), {
    runs: 100,
    libraryRuns: 300,
    imageRuns: 15,
    rootfs: undefined,
    loop: false,
    help: false,
  });
  assert.deepEqual(parseOptions(["--runs", "10"]), {
    runs: 10,
    libraryRuns: 30,
    imageRuns: 15,
    rootfs: undefined,
    loop: false,
    help: false,
  });
  assert.deepEqual(parseOptions(["--runs=20", "--library-runs", "7", "--rootfs", "/r"]), {
    runs: 20,
    libraryRuns: 7,
    imageRuns: 15,
    rootfs: "/r",
    loop: false,
    help: false,
  });
  assert.equal(parseOptions(["-h"]).help, true);
  assert.equal(parseOptions(["--loop"]).loop, true);
  assert.throws(() => parseOptions(["--runs", "0"]), /positive integer/);
  assert.throws(() => parseOptions(["--runs", "1.5"]), /positive integer/);
  assert.throws(() => parseOptions(["--runs", "x"]), /positive integer/);
  assert.throws(() => parseOptions(["--bogus"]));
  assert.throws(() => parseOptions(["extra"]));
});
