import { equal, notEqual, ok } from "node:assert/strict";
import { isMonitorOf, isSameProcess, parseStartTime, processStartTime, waitWhile } from "./liveness.ts";

/** A /proc/PID/stat line: pid, (comm), then fields 3 to 52, each a distinct number but field 22 given. */
function statLine(pid: number, comm: string, startTime: number, state = "S"): string {
  const fields: (string | number)[] = [state];
  for (let n = 4; n <= 52; n++) fields.push(n === 22 ? startTime : 1000 + n);
  return `${pid} (${comm}) ${fields.join(" ")}\n`;
}

Deno.test("parseStartTime: field 22 of a real /proc/PID/stat line", () => {
  // /proc/1/stat of a systemd host; starttime (field 22) is 12.
  const line = "1 (systemd) S 0 1 1 0 -1 4194560 51738 2183867 110 1337 67 84 5613 3163 20 0 1 0 12 " +
    "172978176 3296 18446744073709551615 1 1 0 0 0 0 671173123 4096 1260 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
  equal(parseStartTime(line), 12);
});

Deno.test("parseStartTime: a command name with spaces and parentheses", () => {
  equal(parseStartTime(statLine(1234, "my (weird) proc", 987654321)), 987654321);
  equal(parseStartTime(statLine(1234, "a) b) c", 42)), 42);
  equal(parseStartTime(statLine(7, ") S 1 2 3", 5)), 5);
  equal(parseStartTime(statLine(7, "", 77)), 77);
  equal(parseStartTime(statLine(7, "x", 31337).trimEnd()), 31337);
});

Deno.test("parseStartTime: the neighbours of field 22 are not taken for it", () => {
  const line = statLine(99, "sleep", 555);
  equal(parseStartTime(line), 555);
  ok(line.includes(" 1021 555 1023 "), line); // fields 21, 22, 23
});

Deno.test("parseStartTime: a truncated or empty line has no start time", () => {
  equal(parseStartTime("1234 (sh) S 1 2 3"), null);
  equal(parseStartTime(""), null);
});

Deno.test("processStartTime: this process has a stable start time", () => {
  const start = processStartTime(Deno.pid);
  ok(typeof start === "number" && Number.isInteger(start) && start >= 0, `start time ${start}`);
  equal(processStartTime(Deno.pid), start);
  equal(parseStartTime(Deno.readTextFileSync(`/proc/${Deno.pid}/stat`)), start);
});

Deno.test("processStartTime: no process", () => {
  equal(processStartTime(0), null);
  equal(processStartTime(-1), null);
  equal(processStartTime(NaN), null);
  equal(processStartTime(noSuchPid()), null);
});

Deno.test("isSameProcess: this process, with and without its start time", () => {
  const start = processStartTime(Deno.pid)!;
  equal(isSameProcess(Deno.pid, start), true);
  equal(isSameProcess(Deno.pid, null), true);
  equal(isSameProcess(Deno.pid, start + 1), false);
  equal(isSameProcess(Deno.pid, start - 1), false);
});

Deno.test("isSameProcess: a pid that does not exist", () => {
  equal(isSameProcess(noSuchPid(), null), false);
  equal(isSameProcess(noSuchPid(), 1), false);
  equal(isSameProcess(0, null), false);
});

Deno.test("isSameProcess: a child while it runs, and after it was reaped", async () => {
  const child = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn();
  try {
    const start = processStartTime(child.pid);
    ok(start !== null);
    ok(start >= processStartTime(Deno.pid)!, "a child starts after its parent");
    equal(isSameProcess(child.pid, start), true);
    equal(isSameProcess(child.pid, start + 100), false);
    child.kill("SIGKILL");
    await child.status;
    equal(isSameProcess(child.pid, start), false);
    equal(processStartTime(child.pid), null);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already reaped.
    }
    await child.status;
  }
});

Deno.test("isSameProcess: a zombie is not running", async () => {
  // The background sleep exits after its parent has exec'd a sleep of its own, which never reaps it.
  const parent = new Deno.Command("sh", {
    args: ["-c", "sleep 0.2 & echo $!; exec sleep 30"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = parent.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    const zombie = Number(text.trim());
    ok(zombie > 0, `pid ${JSON.stringify(text)}`);
    const stat = await waitFor(() => {
      const s = Deno.readTextFileSync(`/proc/${zombie}/stat`);
      return s.slice(s.lastIndexOf(")") + 2).startsWith("Z") ? s : null;
    });
    const start = parseStartTime(stat);
    notEqual(start, null);
    equal(processStartTime(zombie), start);
    equal(isSameProcess(zombie, start), false);
    equal(isSameProcess(zombie, null), false);
    equal(isSameProcess(parent.pid, null), true);
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
    await parent.stdout.cancel().catch(() => {});
  }
});

/** A pid above the kernel's limit, which no process can have. */
function noSuchPid(): number {
  return Number(Deno.readTextFileSync("/proc/sys/kernel/pid_max").trim()) + 1;
}

async function waitFor<T>(probe: () => T | null, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("isMonitorOf: a live process with the ID among its arguments; not once it has been reaped", async () => {
  const id = "c0ffee".repeat(10) + "0123";
  const child = new Deno.Command("sh", { args: ["-c", "read line", "monitor", id], stdin: "piped" }).spawn();
  try {
    // Until the child's exec completes, its command line is still this process's (seen under load).
    equal(await waitFor(() => isMonitorOf(child.pid, id) || null), true);
    equal(isMonitorOf(child.pid, id.slice(0, 12)), false, "a whole argument, not a prefix");
    equal(isMonitorOf(Deno.pid, id), false, "another process");
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  await waitWhile(() => isMonitorOf(child.pid, id), 1);
  equal(isMonitorOf(child.pid, id), false);
});
