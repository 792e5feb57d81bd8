/** `husk stats` (live, --no-stream, --format json) and `husk update`: a running container's cgroup. */
import { cpuPercent, hostCpuUsageNs, type Stats } from "../cgroups/mod.ts";
import { formatBytes, parseResourceUpdate, readHostFacts } from "../config/resources.ts";
import { InvalidInputError, StateError } from "../errors.ts";
import { openContainerCgroup } from "../runtime/cgroups.ts";
import { isRunning } from "../state/liveness.ts";
import { currentRecords } from "../runtime/status.ts";
import { containerDir, type StatePaths } from "../state/paths.ts";
import { type ContainerRecord, readRecord, withLock, writeAtomic } from "../state/store.ts";
import { type CommandModule, needArguments } from "./command.ts";
import { findContainer, forEachRef } from "./containers.ts";
import { renderTable } from "./table.ts";
import { RESOURCE_FLAGS, resourceFlags } from "./resources.ts";

interface Sample {
  record: ContainerRecord;
  stats: Stats;
  hostNs: number;
}

function sample(paths: StatePaths, records: readonly ContainerRecord[]): Sample[] {
  const hostNs = hostCpuUsageNs(Deno.readTextFileSync("/proc/stat"));
  return records.flatMap((record) => {
    const stats = openContainerCgroup(paths, record.config.id)?.stats();
    return stats ? [{ record, stats, hostNs }] : [];
  });
}

/** One row of Docker's stats columns, from two samples of the same container. */
export function statsRow(before: Sample, after: Sample, cpus: number): Record<string, string> {
  const cpu = cpuPercent(
    { cpuUsageNs: before.stats.cpuUsageNs, hostNs: before.hostNs },
    { cpuUsageNs: after.stats.cpuUsageNs, hostNs: after.hostNs },
    cpus,
  );
  const s = after.stats;
  const limit = s.memoryLimit ?? hostMemory();
  return {
    ID: after.record.config.id.slice(0, 12),
    Name: after.record.config.name,
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${formatBytes(s.memoryUsage)} / ${formatBytes(limit)}`,
    MemPerc: `${((s.memoryUsage / limit) * 100).toFixed(2)}%`,
    NetIO: "--",
    BlockIO: "--",
    PIDs: String(s.pids),
  };
}

function hostMemory(): number {
  const kb = Number(Deno.readTextFileSync("/proc/meminfo").match(/^MemTotal:\s+(\d+) kB/m)?.[1] ?? 0);
  return kb * 1024;
}

const HEADER = [
  "CONTAINER ID",
  "NAME",
  "CPU %",
  "MEM USAGE / LIMIT",
  "MEM %",
  "NET I/O",
  "BLOCK I/O",
  "PIDS",
];

export const stats: CommandModule = {
  interspersed: true,
  usage: "husk stats [OPTIONS] [CONTAINER...]",
  summary: "Show running containers' resource use (CPU %, memory, pids), live.",
  flags: [
    { name: "no-stream", help: "print one sample and exit" },
    { name: "format", value: "json|table", help: "output format (json: one object per line)" },
  ],
  main: async (paths, values, rest) => {
    const format = (values.format as string | undefined) ?? "table";
    if (format !== "json" && format !== "table") throw new InvalidInputError(`unknown --format "${format}"`);
    const pick = () =>
      rest.length > 0
        ? rest.map((ref) => findContainer(paths, ref)).filter(isRunning)
        : currentRecords(paths).filter(isRunning);
    if (rest.length > 0 && pick().length < rest.length) {
      throw new StateError("some of the containers are not running");
    }
    const cpus = readHostFacts().cpus.length;
    let before = sample(paths, pick());
    for (;;) {
      await new Promise((r) => setTimeout(r, values["no-stream"] ? 500 : 1000));
      const after = sample(paths, pick());
      const rows = after.flatMap((a) => {
        const b = before.find((s) => s.record.config.id === a.record.config.id);
        return b ? [statsRow(b, a, cpus)] : [];
      });
      if (format === "json") {
        rows.forEach((r) => console.log(JSON.stringify(r)));
      } else {
        if (!values["no-stream"]) console.log("\x1b[2J\x1b[H");
        console.log(renderTable(HEADER, rows.map((r) => Object.values(r))));
      }
      if (values["no-stream"]) return 0;
      before = after;
    }
  },
};

export const update: CommandModule = {
  interspersed: true,
  usage: "husk update [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Change the limits of containers.",
  flags: RESOURCE_FLAGS,
  main: (paths, values, rest) => {
    needArguments("update", rest, "container");
    const flags = resourceFlags(values);
    return forEachRef(rest, (ref) => {
      const record = findContainer(paths, ref);
      const resources = parseResourceUpdate(flags, readHostFacts(), record.config.resources);
      if (isRunning(record)) openContainerCgroup(paths, record.config.id)?.update(resources);
      withLock(paths, () => {
        const config = { ...readRecord(paths, record.config.id).config, resources };
        writeAtomic(`${containerDir(paths, config.id)}/config.json`, JSON.stringify(config, null, 2));
      });
      console.log(ref);
    });
  },
};
