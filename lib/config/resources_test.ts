import { deepEqual, equal, ok } from "node:assert/strict";

import {
  DEFAULT_PIDS_LIMIT,
  formatBytes,
  formatCpuList,
  parseBytes,
  parseCpuList,
  parseResources,
  parseResourceUpdate,
  readHostFacts,
} from "./resources.ts";
import { throwsInvalid } from "../testing/errors.ts";

const HOST = { cpus: [0, 1] };
const MiB = 1024 * 1024;

Deno.test("parseBytes: Docker's units, binary multiples, case-insensitive", () => {
  equal(parseBytes("1024"), 1024);
  equal(parseBytes("100b"), 100);
  equal(parseBytes("4k"), 4096);
  equal(parseBytes("4K"), 4096);
  equal(parseBytes("4kb"), 4096);
  equal(parseBytes("4KiB"), 4096);
  equal(parseBytes("32m"), 32 * MiB);
  equal(parseBytes("32MB"), 32 * MiB);
  equal(parseBytes("1g"), 1024 * MiB);
  equal(parseBytes("1.5g"), 1536 * MiB);
  equal(parseBytes("2t"), 2 * 1024 ** 4);
  equal(parseBytes("10 m"), 10 * MiB);
  for (const bad of ["", "m", "10x", "-1", "1.2.3m", "10ib", "1e3", "0x10", "ten"]) {
    equal(parseBytes(bad), null, bad);
  }
});

Deno.test("formatBytes and CPU lists", () => {
  equal(formatBytes(32 * MiB), "32MiB");
  equal(formatBytes(1536 * MiB), "1.5GiB");
  equal(formatBytes(512), "512B");
  equal(formatBytes(32 * MiB, " "), "32 MiB");
  deepEqual(parseCpuList("0-2,4"), [0, 1, 2, 4]);
  deepEqual(parseCpuList("3,1,1\n"), [1, 3]);
  equal(parseCpuList("2-1"), null);
  equal(parseCpuList("0,,1"), null);
  equal(parseCpuList("a"), null);
  equal(parseCpuList(""), null);
  equal(formatCpuList([4, 0, 1, 2]), "0-2,4");
  equal(formatCpuList([1]), "1");
});

Deno.test("parseResources: nothing given gives the default pids limit only", () => {
  deepEqual(parseResources({}, HOST), { pidsLimit: DEFAULT_PIDS_LIMIT });
  equal(DEFAULT_PIDS_LIMIT, 4096);
});

Deno.test("parseResources: every flag", () => {
  deepEqual(
    parseResources({
      memory: "32m",
      memorySwap: "64m",
      cpus: "0.2",
      cpuShares: "512",
      cpusetCpus: "1",
      pidsLimit: "20",
    }, HOST),
    {
      memory: 32 * MiB,
      memorySwap: 64 * MiB,
      cpuQuota: 20000,
      cpuPeriod: 100000,
      cpuShares: 512,
      cpusetCpus: "1",
      pidsLimit: 20,
    },
  );
});

Deno.test("parseResources: --memory", () => {
  equal(parseResources({ memory: "6m" }, HOST).memory, 6 * MiB);
  equal(
    parseResources({ memory: "1g" }, HOST).memorySwap,
    undefined,
    "Docker's default swap is left to the cgroup",
  );
  throwsInvalid(() => parseResources({ memory: "10x" }, HOST), "--memory", `"10x"`, "512m");
  throwsInvalid(() => parseResources({ memory: "1k" }, HOST), "--memory", `"1k"`, "minimum is 6m");
  throwsInvalid(() => parseResources({ memory: "-1" }, HOST), "--memory", `"-1"`);
});

Deno.test("parseResources: --memory-swap", () => {
  equal(parseResources({ memory: "32m", memorySwap: "-1" }, HOST).memorySwap, -1);
  equal(parseResources({ memory: "32m", memorySwap: "32m" }, HOST).memorySwap, 32 * MiB);
  throwsInvalid(() => parseResources({ memorySwap: "64m" }, HOST), "--memory-swap needs --memory");
  throwsInvalid(() => parseResources({ memorySwap: "-1" }, HOST), "--memory-swap needs --memory");
  throwsInvalid(
    () => parseResources({ memory: "64m", memorySwap: "32m" }, HOST),
    "--memory-swap",
    "32MiB",
    "at least --memory (64MiB)",
  );
  throwsInvalid(
    () => parseResources({ memory: "64m", memorySwap: "lots" }, HOST),
    "--memory-swap",
    `"lots"`,
    "-1",
  );
});

Deno.test("parseResources: --cpus is fractional, from 0.01 to the host's CPUs", () => {
  deepEqual(parseResources({ cpus: "1.5" }, HOST), { cpuQuota: 150000, cpuPeriod: 100000, pidsLimit: 4096 });
  equal(parseResources({ cpus: ".5" }, HOST).cpuQuota, 50000);
  equal(parseResources({ cpus: "0.01" }, HOST).cpuQuota, 1000);
  equal(parseResources({ cpus: "2" }, HOST).cpuQuota, 200000);
  equal(parseResources({ cpus: "2.000" }, HOST).cpuQuota, 200000);
  throwsInvalid(() => parseResources({ cpus: "0" }, HOST), "--cpus", `"0"`, "0.01 to 2", "2 CPUs");
  throwsInvalid(() => parseResources({ cpus: "0.001" }, HOST), "--cpus", "0.01 to 2");
  throwsInvalid(() => parseResources({ cpus: "2.5" }, HOST), "--cpus", `"2.5"`, "this host has 2 CPUs");
  equal(parseResources({ cpus: "1" }, { cpus: [0] }).cpuQuota, 100000);
  throwsInvalid(() => parseResources({ cpus: "1.01" }, { cpus: [0] }), "--cpus", "this host has 1 CPU)");
  throwsInvalid(() => parseResources({ cpus: "-1" }, HOST), "--cpus", `"-1"`);
  throwsInvalid(() => parseResources({ cpus: "abc" }, HOST), "--cpus", `"abc"`);
  throwsInvalid(() => parseResources({ cpus: "." }, HOST), "--cpus");
  throwsInvalid(() => parseResources({ cpus: "0.1234567891" }, HOST), "--cpus", "too precise");
});

Deno.test("parseResources: --cpu-shares", () => {
  equal(parseResources({ cpuShares: "2" }, HOST).cpuShares, 2);
  equal(parseResources({ cpuShares: "262144" }, HOST).cpuShares, 262144);
  for (const bad of ["1", "0", "262145", "-5", "1.5", "many"]) {
    throwsInvalid(() => parseResources({ cpuShares: bad }, HOST), "--cpu-shares", `"${bad}"`, "2 to 262144");
  }
});

Deno.test("parseResources: --cpuset-cpus must name the host's online CPUs", () => {
  equal(parseResources({ cpusetCpus: "0-1" }, HOST).cpusetCpus, "0-1");
  equal(parseResources({ cpusetCpus: "1,0" }, HOST).cpusetCpus, "0-1");
  equal(parseResources({ cpusetCpus: "0-2,4" }, { cpus: [0, 1, 2, 3, 4] }).cpusetCpus, "0-2,4");
  throwsInvalid(
    () => parseResources({ cpusetCpus: "0-3" }, HOST),
    "--cpuset-cpus",
    `"0-3"`,
    "no CPU 2, 3",
    "0-1",
  );
  throwsInvalid(() => parseResources({ cpusetCpus: "1-0" }, HOST), "--cpuset-cpus", "0-2,4");
  throwsInvalid(() => parseResources({ cpusetCpus: "x" }, HOST), "--cpuset-cpus", `"x"`);
});

Deno.test("parseResources: --pids-limit", () => {
  equal(parseResources({ pidsLimit: "20" }, HOST).pidsLimit, 20);
  equal(parseResources({ pidsLimit: "-1" }, HOST).pidsLimit, -1);
  equal(parseResources({ pidsLimit: "0" }, HOST).pidsLimit, -1);
  for (const bad of ["-5", "1.5", "x", ""]) {
    throwsInvalid(() => parseResources({ pidsLimit: bad }, HOST), "--pids-limit", `"${bad}"`, "-1");
  }
});

Deno.test("parseResourceUpdate: merges what is given over the current resources", () => {
  const current = parseResources({ memory: "64m", memorySwap: "128m", pidsLimit: "20" }, HOST);
  deepEqual(parseResourceUpdate({ cpus: "1" }, HOST, current), {
    ...current,
    cpuQuota: 100000,
    cpuPeriod: 100000,
  });
  // A new memory limit without --memory-swap goes back to Docker's default swap.
  deepEqual(parseResourceUpdate({ memory: "256m" }, HOST, current), { memory: 256 * MiB, pidsLimit: 20 });
  equal(parseResourceUpdate({ memorySwap: "1g" }, HOST, current).memorySwap, 1024 * MiB);
  throwsInvalid(() => parseResourceUpdate({ memorySwap: "32m" }, HOST, current), "--memory-swap", "64MiB");
  throwsInvalid(() => parseResourceUpdate({ memorySwap: "1g" }, HOST, { pidsLimit: 20 }), "needs --memory");
  throwsInvalid(() => parseResourceUpdate({}, HOST, current), "one or more");
});

Deno.test("readHostFacts: the online CPUs of this machine", () => {
  const { cpus } = readHostFacts();
  ok(cpus.length >= 1);
  ok(cpus.includes(0));
});
