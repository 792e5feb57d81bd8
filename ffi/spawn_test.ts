/** The start routine itself, without namespaces (no root needed): step semantics observed from outside. */
import { deepEqual, equal } from "node:assert/strict";
import { closeFds, pipe, readFull } from "./fd.ts";
import { waitPid } from "./process.ts";
import { type RawStep, spawn, Stack, utf8Length } from "./spawn.ts";

const SIGCHLD = 17n, CLONE_VM = 0x100, ENOENT = 2, EEXIST = 17;

/** Runs `steps` in a child; returns its exit status, its error report and what it wrote to `out`. */
async function runSteps(steps: (out: number) => RawStep[]) {
  const [errRead, errWrite] = pipe();
  const [outRead, outWrite] = pipe();
  const { pid, memory } = spawn(SIGCHLD, steps(outWrite), errWrite);
  closeFds(errWrite, outWrite);
  const report = new Uint8Array(8);
  const got = await readFull(errRead, report);
  const output = new Uint8Array(4096);
  const n = await readFull(outRead, output);
  closeFds(errRead, outRead);
  const status = await waitPid(pid);
  void memory;
  const view = new DataView(report.buffer);
  return {
    status,
    error: got === 8 ? { step: view.getUint32(0, true), errno: view.getUint32(4, true) } : null,
    output: new TextDecoder().decode(output.subarray(0, n)),
    bytes: output.subarray(0, n),
  };
}

Deno.test("steps run in order and execve ends the list", async () => {
  const r = await runSteps((out) => [
    { call: "write", args: [out, "one ", 4] },
    { call: "dup3", args: [out, 1, 0] },
    { call: "execve", args: ["/bin/echo", ["echo", "two"], []] },
  ]);
  deepEqual(r.status, { exited: true, code: 0 });
  equal(r.error, null);
  equal(r.output, "one two\n");
});

Deno.test("a failing step reports its index and errno, and the child exits 127", async () => {
  const r = await runSteps((out) => [
    { call: "write", args: [out, "x", 1] },
    { call: "execve", args: ["/nonexistent", ["x"], []] },
    { call: "write", args: [out, "never", 5] },
  ]);
  deepEqual(r.status, { exited: true, code: 127 });
  deepEqual(r.error, { step: 1, errno: ENOENT });
  equal(r.output, "x");
});

Deno.test("an accepted errno lets the list go on; positive fails on 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ok = await runSteps((out) => [
      { call: "mkdirat", args: [-100, dir, 0o755], okErrno: EEXIST },
      { call: "write", args: [out, "went on", 7] },
    ]);
    equal(ok.output, "went on");
    // A pipe without writers: read returns 0 (end of file), which a positive step counts as a failure.
    const [emptyRead, emptyWrite] = pipe();
    closeFds(emptyWrite);
    const zero = await runSteps(
      () => [{ call: "read", args: [emptyRead, new Uint8Array(1), 1], positive: true }],
    );
    closeFds(emptyRead);
    deepEqual(zero.error, { step: 0, errno: 0 });
    deepEqual(zero.status, { exited: true, code: 127 });
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("save / useSaved pass a new descriptor to later steps", async () => {
  const r = await runSteps((out) => [
    { call: "dup3", args: [out, 50, 0], save: true },
    { call: "write", args: [null, "via saved fd", 12], useSaved: true },
  ]);
  equal(r.output, "via saved fd");
});

Deno.test("a fork inside the list: both sides run their own steps; storeSaved hands over the pid", async () => {
  const slot = new Uint8Array(8);
  const r = await runSteps((out) => [
    { call: "clone", args: [SIGCHLD | BigInt(CLONE_VM), new Stack(), 0, 0, 0], parentContinuesAt: 3 },
    { call: "write", args: [out, "grandchild ", 11] },
    { call: "exit_group", args: [0] },
    { call: "wait4", args: [-1, null, 0, null] },
    { call: "write", args: [out, slot, 8], storeSaved: true },
    { call: "write", args: [out, "parent", 6] },
  ]);
  equal(r.error, null);
  deepEqual(r.status, { exited: true, code: 0 });
  equal(r.bytes.length, 11 + 8 + 6);
  equal(r.output.slice(0, 11), "grandchild ");
  equal(r.output.slice(-6), "parent");
  const pid = new DataView(r.bytes.buffer, r.bytes.byteOffset).getBigUint64(11, true);
  equal(pid > 1n && pid < 1n << 22n, true, `the grandchild's pid: ${pid}`);
});

Deno.test("loadArg0 passes the integer its first argument points to (a received descriptor)", async () => {
  const r = await runSteps((out) => {
    const slot = new Uint8Array(24);
    new DataView(slot.buffer).setInt32(16, out, true);
    return [{ call: "write", args: [slot.subarray(16), "loaded", 6], loadArg0: true }];
  });
  equal(r.error, null);
  equal(r.output, "loaded");
});

Deno.test("utf8Length: the length TextEncoder gives, without encoding", () => {
  const samples = [
    "",
    "/bin/sh",
    "é",
    "日本",
    "🐳 whale",
    "a\u{10FFFF}b",
    "\ud800",
    "x\udc00y",
    "\ud800\ud800",
    "€\ud83d",
  ];
  for (const s of samples) equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
});
