import { deepEqual, equal, ok } from "node:assert/strict";
import { installMonitor } from "../elf.ts";
import { MONITOR_X86_64 } from "./monitor.ts";
import { exitCodeFromStatus, readExitSync } from "../../lib/logs/exit.ts";
import { LOG_FILE, type LogRecord, parseRecords, ROTATED_LOG_FILE } from "../../lib/logs/record.ts";

const decoder = new TextDecoder();

async function run(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stderr: "inherit" }).output();
  equal(out.code, 0, `${cmd} failed`);
  return decoder.decode(out.stdout);
}

Deno.test("the embedded monitor is the assembly of monitor.S, entered at offset 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = new URL("./monitor.S", import.meta.url).pathname;
    await run("as", "--64", "-o", `${dir}/monitor.o`, src);
    await run("objcopy", "-O", "binary", "-j", ".text", `${dir}/monitor.o`, `${dir}/monitor.bin`);
    const bytes = await Deno.readFile(`${dir}/monitor.bin`);
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
    equal(MONITOR_X86_64, hex);
    const nm = await run("nm", `${dir}/monitor.o`);
    ok(/^0000000000000000 T _start$/m.test(nm), nm);
    // Only .text: the executable has no other segment to put data in.
    const sections = await run("objdump", "-h", `${dir}/monitor.o`);
    for (const name of [".data", ".bss", ".rodata"]) {
      ok(!new RegExp(`\\${name}\\s+0*[1-9a-f]`).test(sections), `${name} is not empty`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- The monitor at work. A shell plays the runtime: it starts the "container" (a background subshell, so
// its child) writing into FIFOs, then execs into the monitor with the FIFOs' read ends as descriptors 3 and 4
// and the container's directory as descriptor 5.

const SCRIPT = `
d=$1; m=$2; shift 2
if [ "$STREAMS" = 2 ]; then
  ( eval "$CONTAINER" ) <&- >"$d/out" 2>"$d/err" 3>&- 4>&- 5>&- &
  exec 3<"$d/out" 4<"$d/err" 5<"$d/ctr" "$m" "$@"
else
  ( eval "$CONTAINER" ) <&- >"$d/out" 2>&1 3>&- 4>&- 5>&- &
  exec 3<"$d/out" 4<&- 5<"$d/ctr" "$m" "$@"
fi`;

interface MonitorRun {
  /** The container's directory. */
  ctr: string;
  /** How the monitor's process ended (the exit command's code, if it has one). */
  code: number;
  stderr: string;
  started: bigint;
  ended: bigint;
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

async function runMonitor(
  root: string,
  options: {
    container: string;
    streams?: 1 | 2;
    max?: number;
    exitCommand?: string[];
    whileRunning?: (pid: number, ctr: string) => Promise<void>;
  },
): Promise<MonitorRun> {
  const monitor = installMonitor(root);
  const ctr = `${root}/ctr`;
  await Deno.mkdir(ctr);
  await run("mkfifo", `${root}/out`, `${root}/err`);
  const started = nowNs();
  const child = new Deno.Command("sh", {
    args: ["-c", SCRIPT, "sh", root, monitor, String(options.max ?? 100000), ...options.exitCommand ?? []],
    env: { CONTAINER: options.container, STREAMS: String(options.streams ?? 2) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const collected = (async () => {
    let text = "";
    for (let r = await stderr.read(); !r.done; r = await stderr.read()) text += r.value;
    return text;
  })();
  if (options.whileRunning) {
    // Once the shell has become the monitor.
    for (let i = 0; (await Deno.readLink(`/proc/${child.pid}/exe`).catch(() => "")) !== monitor; i++) {
      ok(i < 200, "the monitor did not start");
      await sleep(10);
    }
    await options.whileRunning(child.pid, ctr);
  }
  const { code } = await child.status;
  return { ctr, code, stderr: await collected, started, ended: nowNs() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function records(path: string): Promise<LogRecord[]> {
  const bytes = await Deno.readFile(path);
  const parsed = parseRecords(bytes);
  equal(parsed.consumed, bytes.length, `${path} ends with a whole record`);
  equal(parsed.corrupt, false);
  return parsed.records;
}

const brief = (rs: LogRecord[]) => rs.map((r) => [r.stream, decoder.decode(r.data)]);

async function withRoot(fn: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "husk-monitor-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function procStatus(pid: number, field: string): string {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return status.match(new RegExp(`^${field}:\\s*(.*)$`, "m"))![1];
}

/** utime + stime of `pid`, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

Deno.test("monitor: logs both streams in order, records the exit, runs the exit command", async () => {
  await withRoot(async (root) => {
    let rssKb = 0, idleTicks = -1;
    const result = await runMonitor(root, {
      container: `printf out1; sleep 0.1; printf err1 >&2; sleep 0.1; printf 'out2\\nout3'; sleep 0.1
        printf 'err2\\n' >&2; sleep 0.8; exit 3`,
      exitCommand: ["/bin/sh", "-c", 'echo exit-command-ran > "$0/marker"; exit 7', `${root}/ctr`],
      whileRunning: async (pid, ctr) => {
        // Once the four records are in, the monitor waits in poll() for the container's end.
        for (let i = 0; i < 300; i++) {
          const bytes = await Deno.readFile(`${ctr}/${LOG_FILE}`).catch(() => new Uint8Array());
          if (parseRecords(bytes).records.length === 4) break;
          await sleep(10);
        }
        const ticks = cpuTicks(pid);
        await sleep(300);
        idleTicks = cpuTicks(pid) - ticks;
        rssKb = parseInt(procStatus(pid, "VmRSS"));
        console.log(`monitor: VmRSS ${procStatus(pid, "VmRSS")}, VmSize ${procStatus(pid, "VmSize")}`);
      },
    });
    equal(result.stderr, "");
    equal(result.code, 7, "the monitor became the exit command");
    equal(await Deno.readTextFile(`${result.ctr}/marker`), "exit-command-ran\n");

    const log = await records(`${result.ctr}/${LOG_FILE}`);
    deepEqual(brief(log), [["stdout", "out1"], ["stderr", "err1"], ["stdout", "out2\nout3"], [
      "stderr",
      "err2\n",
    ]]);
    for (let i = 0; i < log.length; i++) {
      ok(log[i].time >= result.started - 1_000_000n && log[i].time <= result.ended, "a time of this run");
      if (i > 0) ok(log[i].time >= log[i - 1].time, "in the order they were read");
    }

    const exit = (readExitSync(result.ctr))!;
    equal(exit.status, 3 << 8);
    equal(exitCodeFromStatus(exit.status), 3);
    ok(exit.finishedAtNs >= log[3].time + 500_000_000n && exit.finishedAtNs <= result.ended);
    deepEqual((await Array.fromAsync(Deno.readDir(result.ctr))).map((e) => e.name).sort(), [
      "container.log",
      "exit",
      "marker",
    ]);

    ok(rssKb > 0 && rssKb < 1024, `VmRSS ${rssKb} kB`);
    ok(idleTicks >= 0 && idleTicks <= 1, `the waiting monitor used ${idleTicks} ticks of CPU`);
  });
});

Deno.test("monitor: a single stream (fd 4 not open); no exit command: exit 0", async () => {
  await withRoot(async (root) => {
    const result = await runMonitor(root, {
      container: "echo a; sleep 0.1; echo b >&2; sleep 0.1; printf c",
      streams: 1,
    });
    equal(result.stderr, "");
    equal(result.code, 0);
    deepEqual(brief(await records(`${result.ctr}/${LOG_FILE}`)), [["stdout", "a\n"], ["stdout", "b\n"], [
      "stdout",
      "c",
    ]]);
    equal((readExitSync(result.ctr))!.status, 0);
  });
});

Deno.test("monitor: a container killed by a signal; an exit command that cannot run: exit 1", async () => {
  await withRoot(async (root) => {
    const result = await runMonitor(root, {
      container: `exec sh -c 'printf bye; kill -KILL $$'`,
      exitCommand: [`${root}/missing`, "arg"],
    });
    equal(result.code, 1);
    deepEqual(brief(await records(`${result.ctr}/${LOG_FILE}`)), [["stdout", "bye"]]);
    const exit = (readExitSync(result.ctr))!;
    equal(exit.status, 9);
    equal(exitCodeFromStatus(exit.status), 137);
  });
});

Deno.test("monitor: a container without output still gets an (empty) log", async () => {
  await withRoot(async (root) => {
    const result = await runMonitor(root, { container: "exit 0" });
    equal(result.code, 0);
    equal((await Deno.stat(`${result.ctr}/${LOG_FILE}`)).size, 0);
    equal((readExitSync(result.ctr))!.status, 0);
  });
});

Deno.test("monitor: rotates container.log into container.log.1 past the maximum size", async () => {
  await withRoot(async (root) => {
    const max = 1000;
    // 20 writes of 250 bytes each ("000...0<i>"), apart so that each is one read and one record of 266 bytes.
    const result = await runMonitor(root, {
      container: `i=0; while [ $i -lt 20 ]; do printf '%0250d' $i; sleep 0.02; i=$((i + 1)); done`,
      max,
    });
    equal(result.code, 0);
    const current = await records(`${result.ctr}/${LOG_FILE}`);
    const rotated = await records(`${result.ctr}/${ROTATED_LOG_FILE}`);
    for (const [name, rs] of [["container.log", current], ["container.log.1", rotated]] as const) {
      const size = rs.reduce((n, r) => n + 16 + r.data.length, 0);
      ok(rs.length > 0, `${name} has records`);
      ok(size <= max || rs.length === 1, `${name} (${size} bytes in ${rs.length} records) exceeds ${max}`);
    }
    // Together they are the end of the output, in order.
    const all = Array.from({ length: 20 }, (_, i) => String(i).padStart(250, "0")).join("");
    const kept = [...rotated, ...current].map((r) => decoder.decode(r.data)).join("");
    ok(kept.length > max - 100 && all.endsWith(kept), "the log files hold the end of the output");
    ok(current.every((r) => r.stream === "stdout"));
  });
});

Deno.test({
  name: "monitor: a terminal (pty master as fd 3): the output until the slave closes (EIO), then the exit",
  ignore: !(await new Deno.Command("python3", { args: ["-c", "import pty"] }).output().then(
    (o) => o.success,
    () => false,
  )),
  fn: () =>
    withRoot(async (root) => {
      const monitor = installMonitor(root);
      const ctr = `${root}/ctr`;
      await Deno.mkdir(ctr);
      // The container's process is the child of the python process that then becomes the monitor.
      const python = `
import fcntl, os, pty, sys, time
monitor, ctr = sys.argv[1], sys.argv[2]
master, slave = pty.openpty()
if os.fork() == 0:
    os.setsid()
    os.dup2(slave, 1); os.dup2(slave, 2)
    os.write(1, b"hello\\n"); time.sleep(0.1); os.write(2, b"world\\n"); time.sleep(0.1)
    os._exit(5)
os.close(slave)
d = os.open(ctr, os.O_RDONLY | os.O_DIRECTORY)
m, dd = fcntl.fcntl(master, fcntl.F_DUPFD, 10), fcntl.fcntl(d, fcntl.F_DUPFD, 10)
os.close(master); os.close(d)
os.dup2(m, 3); os.dup2(dd, 5); os.close(m); os.close(dd); os.closerange(4, 5)
os.execv(monitor, [monitor, "100000"])`;
      const out = await new Deno.Command("python3", {
        args: ["-c", python, monitor, ctr],
        stdin: "null",
        stdout: "null",
      }).output();
      equal(decoder.decode(out.stderr), "");
      equal(out.code, 0);
      const log = await records(`${ctr}/${LOG_FILE}`);
      ok(log.every((r) => r.stream === "stdout"));
      equal(log.map((r) => decoder.decode(r.data)).join(""), "hello\r\nworld\r\n");
      equal((readExitSync(ctr))!.status, 5 << 8);
    }),
});
