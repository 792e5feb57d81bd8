/** `husk ps` and `husk inspect`: what containers there are, with Docker's columns and JSON shapes. */
import type { ContainerConfig } from "../config/types.ts";
import { currentRecords } from "../runtime/status.ts";
import { collectStale } from "../runtime/status.ts";
import type { ContainerRecord } from "../state/store.ts";
import { type CommandModule, needArguments, refuseArguments } from "./command.ts";
import { findContainer, inspectEach } from "./containers.ts";
import { InvalidInputError } from "../errors.ts";
import { commandColumn, humanDuration, renderTable } from "./table.ts";
import { DEFAULT_NETWORK } from "../network/names.ts";
import { formatPorts } from "../network/ports.ts";
import { type Lease, readLeases } from "../network/store.ts";

/** The STATUS column: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created". */
export function statusColumn(record: ContainerRecord, now: Date): string {
  const s = record.state;
  if (s.status === "running") return `Up ${humanDuration(now.getTime() - Date.parse(s.startedAt!))}`;
  if (s.status === "exited") {
    const code = s.exitCode === null ? "unknown" : String(s.exitCode);
    return `Exited (${code}) ${humanDuration(now.getTime() - Date.parse(s.finishedAt!))} ago`;
  }
  return "Created";
}

/** What a container runs from: its image, as the user named it, or its root filesystem. */
function imageColumn(config: ContainerConfig): string {
  return config.image?.name ?? config.root.path;
}

/** The PORTS column: a running container's published ports. */
function portsColumn(lease: Lease | null): string {
  return formatPorts(lease?.ports ?? []);
}

/** One `ps --format json` object, with Docker's keys. */
export function psJson(
  record: ContainerRecord,
  now: Date,
  lease: Lease | null = null,
): Record<string, string> {
  return {
    ID: record.config.id.slice(0, 12),
    Image: imageColumn(record.config),
    Command: commandColumn(record.config.process.args, true),
    CreatedAt: record.config.created,
    RunningFor: humanDuration(now.getTime() - Date.parse(record.config.created)),
    Status: statusColumn(record, now),
    State: record.state.status,
    Ports: portsColumn(lease),
    Names: record.config.name,
  };
}

export const ps: CommandModule = {
  interspersed: true,
  usage: "husk ps [OPTIONS]",
  summary: "List containers (running ones; -a for all).",
  flags: [
    { name: "all", short: "a", help: "show all containers, not only running ones" },
    { name: "quiet", short: "q", help: "only display container IDs" },
    { name: "no-trunc", help: "do not truncate IDs and commands" },
    { name: "format", value: "json|table", help: "output format (json: one object per line)" },
  ],
  main: async (paths, values, rest) => {
    refuseArguments("ps", rest);
    await collectStale(paths);
    const format = (values.format as string | undefined) ?? "table";
    if (format !== "json" && format !== "table") {
      throw new InvalidInputError(`unknown --format "${format}": use json or table`);
    }
    const now = new Date();
    const full = values["no-trunc"] === true;
    const records = currentRecords(paths)
      .filter((r) => values.all === true || r.state.status === "running")
      .sort((a, b) => Date.parse(b.config.created) - Date.parse(a.config.created));
    const id = (r: ContainerRecord) => (full ? r.config.id : r.config.id.slice(0, 12));
    const leases = readLeases(paths);
    const lease = (r: ContainerRecord) => leases[r.config.id] ?? null;
    if (values.quiet) {
      records.forEach((r) => console.log(id(r)));
    } else if (format === "json") {
      records.forEach((r) => console.log(JSON.stringify({ ...psJson(r, now, lease(r)), ID: id(r) })));
    } else {
      console.log(renderTable(
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
        records.map((r) => [
          id(r),
          imageColumn(r.config),
          commandColumn(r.config.process.args, full),
          `${humanDuration(now.getTime() - Date.parse(r.config.created))} ago`,
          statusColumn(r, now),
          portsColumn(lease(r)),
          r.config.name,
        ]),
      ));
    }
    return 0;
  },
};

/** The bind mounts the user asked for (not the generated /etc files). */
function userBinds(config: ContainerConfig) {
  // Volumes are recursive binds ("rbind"); husk's own (the /etc files, --init's binary) are plain binds.
  return config.mounts.filter((m) => m.type === "bind" && m.options.includes("rbind"));
}

/** Docker's NetworkSettings: the container's address and published ports while it runs. */
export function networkSettings(config: ContainerConfig, lease: Lease | null): Record<string, unknown> {
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const exposed of config.network.exposedPorts) ports[exposed] = null;
  for (const p of lease?.ports ?? []) {
    (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({
      HostIp: p.hostIp || "0.0.0.0",
      HostPort: String(p.hostPort),
    });
  }
  const network = config.network.mode === "bridge"
    ? config.network.network ?? DEFAULT_NETWORK
    : config.network.mode;
  const endpoint = {
    IPAddress: lease?.address ?? "",
    IPPrefixLen: lease?.prefix ?? 0,
    Gateway: lease?.gateway ?? "",
  };
  return {
    ...endpoint,
    Ports: ports,
    Networks: config.network.mode === "container" ? {} : { [network]: { NetworkID: "", ...endpoint } },
  };
}

/** Docker's `inspect` shape, from what husk records. */
export function inspectJson(record: ContainerRecord, lease: Lease | null = null): Record<string, unknown> {
  const { config, state } = record;
  const running = state.status === "running";
  return {
    Id: config.id,
    Created: config.created,
    Path: config.process.args[0],
    Args: config.process.args.slice(1),
    Image: config.image?.id ?? "",
    State: {
      Status: state.status,
      Running: running,
      Paused: false,
      Restarting: false,
      OOMKilled: state.oomKilled,
      Dead: false,
      Pid: running ? state.pid : 0,
      ExitCode: state.exitCode ?? (running || state.status === "created" ? 0 : -1),
      Error: "",
      StartedAt: state.startedAt ?? "0001-01-01T00:00:00Z",
      FinishedAt: state.finishedAt ?? "0001-01-01T00:00:00Z",
    },
    Name: `/${config.name}`,
    RestartCount: state.restartCount,
    Config: {
      Hostname: config.hostname,
      User: `${config.process.user.uid}:${config.process.user.gid}`,
      Tty: config.process.terminal,
      OpenStdin: config.process.stdin,
      Env: config.process.env,
      Cmd: config.process.args,
      WorkingDir: config.process.cwd,
      Image: imageColumn(config),
      ExposedPorts: Object.fromEntries(config.network.exposedPorts.map((p) => [p, {}])),
    },
    HostConfig: {
      AutoRemove: config.autoRemove,
      RestartPolicy: {
        Name: config.restartPolicy.name,
        MaximumRetryCount: config.restartPolicy.maximumRetryCount,
      },
      Binds: userBinds(config).map((m) =>
        `${m.source}:${m.destination}${m.options.includes("ro") ? ":ro" : ""}`
      ),
      Tmpfs: Object.fromEntries(
        config.mounts.filter((m) => m.type === "tmpfs" && !m.destination.startsWith("/dev"))
          .map((m) => [m.destination, m.options.join(",")]),
      ),
      LogConfig: { Type: "husk-binary", Config: { "max-size": String(config.log.maxSize), "max-file": "2" } },
      NetworkMode: config.network.mode === "container"
        ? `container:${config.network.container}`
        : config.network.mode === "bridge"
        ? config.network.network ?? DEFAULT_NETWORK
        : config.network.mode,
      PortBindings: Object.fromEntries(
        config.network.ports.map((p) => [
          `${p.containerPort}/${p.protocol}`,
          [{ HostIp: p.hostIp, HostPort: p.hostPort === 0 ? "" : String(p.hostPort) }],
        ]),
      ),
      Dns: config.network.dns.servers,
      DnsSearch: config.network.dns.search,
      DnsOptions: config.network.dns.options,
      ExtraHosts: config.network.extraHosts.map((h) => `${h.host}:${h.address}`),
    },
    NetworkSettings: networkSettings(config, lease),
    Mounts: userBinds(config)
      .map((m) => ({
        Type: "bind",
        Source: m.source,
        Destination: m.destination,
        Mode: m.options.includes("ro") ? "ro" : "",
        RW: !m.options.includes("ro"),
        Propagation: "rprivate",
      })),
    Rootfs: config.root.path,
  };
}

export const inspect: CommandModule = {
  interspersed: true,
  usage: "husk inspect CONTAINER [CONTAINER...]",
  summary: "Show containers' configuration and state as JSON.",
  flags: [],
  main: async (paths, _values, rest) => {
    needArguments("inspect", rest);
    const leases = readLeases(paths);
    return await inspectEach(rest, (ref) => {
      const record = findContainer(paths, ref);
      return inspectJson(record, leases[record.config.id] ?? null);
    });
  },
};
