import { deepEqual, equal, throws } from "node:assert/strict";
import { v1Bytes, v1Writes } from "./v1.ts";
import { sharesToWeight, subtreeControlValue, v2Writes, type Write } from "./v2.ts";
import { CgroupError } from "./fs.ts";

const MiB = 2 ** 20;
const files = (ws: Write[]) => ws.map((w) => `${w.file}=${w.value}`);

Deno.test("v2Writes: every resource in its file", () => {
  deepEqual(
    files(v2Writes({
      memory: 64 * MiB,
      memorySwap: 96 * MiB,
      cpuQuota: 20000,
      cpuPeriod: 100000,
      cpuShares: 1024,
      cpusetCpus: "0-1",
      pidsLimit: 20,
    }, { swap: true })),
    [
      `memory.max=${64 * MiB}`,
      `memory.swap.max=${32 * MiB}`,
      "cpu.max=20000 100000",
      "cpu.weight=39",
      "cpuset.cpus=0-1",
      "pids.max=20",
    ],
  );
  deepEqual(v2Writes({}, { swap: true }), []);
});

Deno.test("v2Writes: swap defaults and unlimited values", () => {
  deepEqual(files(v2Writes({ memory: 32 * MiB }, { swap: true })), [
    `memory.max=${32 * MiB}`,
    `memory.swap.max=${32 * MiB}`,
  ]);
  deepEqual(files(v2Writes({ memory: 32 * MiB }, { swap: false })), [`memory.max=${32 * MiB}`]);
  deepEqual(files(v2Writes({ memory: 32 * MiB, memorySwap: -1 }, { swap: true }))[1], "memory.swap.max=max");
  deepEqual(
    files(v2Writes({ memory: 32 * MiB, memorySwap: 32 * MiB }, { swap: true }))[1],
    "memory.swap.max=0",
  );
  deepEqual(files(v2Writes({ memory: 32 * MiB, memorySwap: -1 }, { swap: false })), [
    `memory.max=${32 * MiB}`,
  ]);
  throws(() => v2Writes({ memory: 32 * MiB, memorySwap: 64 * MiB }, { swap: false }), (e: unknown) => {
    return e instanceof CgroupError && /memory\.swap\.max/.test(e.message) && /--memory-swap/.test(e.message);
  });
  deepEqual(files(v2Writes({ pidsLimit: -1, cpuQuota: -1, cpuPeriod: 100000 }, { swap: true })), [
    "cpu.max=max 100000",
    "pids.max=max",
  ]);
});

Deno.test("sharesToWeight: runc's conversion", () => {
  equal(sharesToWeight(2), 1);
  equal(sharesToWeight(1024), 39);
  equal(sharesToWeight(262144), 10000);
});

Deno.test("subtreeControlValue: only what is offered and not yet enabled", () => {
  equal(
    subtreeControlValue("cpuset cpu io memory pids", "", ["memory", "pids", "cpu", "cpuset"]),
    "+memory +pids +cpu +cpuset",
  );
  equal(subtreeControlValue("cpu io memory pids", "memory", ["memory", "pids", "cpuset"]), "+pids");
  equal(subtreeControlValue("memory pids", "memory pids", ["memory", "pids"]), null);
});

Deno.test("v1Writes: every resource in its file, memory before memory+swap for a new cgroup", () => {
  deepEqual(
    files(v1Writes({
      memory: 64 * MiB,
      memorySwap: 96 * MiB,
      cpuQuota: 20000,
      cpuPeriod: 100000,
      cpuShares: 512,
      cpusetCpus: "1",
      pidsLimit: 20,
    }, { swap: true })),
    [
      `memory.limit_in_bytes=${64 * MiB}`,
      `memory.memsw.limit_in_bytes=${96 * MiB}`,
      "cpu.shares=512",
      "cpu.cfs_period_us=100000",
      "cpu.cfs_quota_us=20000",
      "cpuset.cpus=1",
      "pids.max=20",
    ],
  );
});

Deno.test("v1Writes: the memory/memsw order follows the current limit", () => {
  // Current limit 32 MiB, new memory 128 MiB with memsw 256 MiB: memsw first (it is above the current limit).
  deepEqual(files(v1Writes({ memory: 128 * MiB }, { swap: true }, 32 * MiB)), [
    `memory.memsw.limit_in_bytes=${256 * MiB}`,
    `memory.limit_in_bytes=${128 * MiB}`,
  ]);
  // Current 256 MiB, new 16 MiB with memsw 32 MiB: memory first.
  deepEqual(files(v1Writes({ memory: 16 * MiB }, { swap: true }, 256 * MiB)), [
    `memory.limit_in_bytes=${16 * MiB}`,
    `memory.memsw.limit_in_bytes=${32 * MiB}`,
  ]);
  deepEqual(
    files(v1Writes({ memory: 16 * MiB, memorySwap: -1 }, { swap: true }, 8 * MiB))[0],
    "memory.memsw.limit_in_bytes=-1",
  );
  deepEqual(files(v1Writes({ memory: 16 * MiB }, { swap: false })), [`memory.limit_in_bytes=${16 * MiB}`]);
  throws(() => v1Writes({ memory: 16 * MiB, memorySwap: 32 * MiB }, { swap: false }), /swapaccount=1/);
  deepEqual(files(v1Writes({ pidsLimit: -1, cpuQuota: -1 }, { swap: true })), [
    "cpu.cfs_quota_us=-1",
    "pids.max=max",
  ]);
});

Deno.test("v1Bytes: the unlimited value", () => {
  equal(v1Bytes("9223372036854771712\n"), null);
  equal(v1Bytes("33554432\n"), 33554432);
  equal(v1Bytes("-1"), null);
});
