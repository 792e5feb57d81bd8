/**
 * A container's network over its life: before the start, its address and host ports are leased and its
 * /etc/hosts and /etc/resolv.conf written; after the clone, its end of a veth pair is moved into its network
 * namespace and its published ports get their firewall rules; when it ends, all of that is undone. Leases of
 * containers that ended unseen (husk was killed) are collected the same way.
 */
import type { ContainerConfig } from "../config/types.ts";
import { StateError } from "../errors.ts";
import { readTextIfExists } from "../files.ts";
import { parseAddress, parseSubnet } from "../network/address.ts";
import { ensureBridge } from "../network/bridge.ts";
import { type HostsEntries, hostsFile, resolvConf } from "../network/dns.ts";
import { ownerTag, portRules } from "../network/firewall.ts";
import { boundPorts, interfaces } from "../network/host.ts";
import { applyRules, removeTagged } from "../network/iptables.ts";
import { EPHEMERAL_PORTS, EPHEMERAL_SPAN } from "../network/ipam.ts";
import { newLease, vethCommands } from "../network/leases.ts";
import { DEFAULT_SUBNET, findNetwork } from "../network/networks.ts";
import { DEFAULT_NETWORK } from "../network/names.ts";
import {
  type Lease,
  readLeases,
  withNetworkLock,
  withNetworkLockAsync,
  writeLeases,
  writeNetwork,
} from "../network/store.ts";
import { ipBatch } from "../network/tool.ts";
import type { InterfaceSetup } from "../spawn/network.ts";
import { isRunning } from "../state/liveness.ts";
import { containerRunDir, rootTag, type StatePaths } from "../state/paths.ts";
import { type ContainerRecord, readRecordIfExists } from "../state/store.ts";

/** What the start needs from the network set-up. */
export interface NetworkAttachment {
  /** The namespace to join (--network container:X). */
  netnsPath?: string;
  /** eth0's configuration, done by the container's first process (bridge networks). */
  eth0?: InterfaceSetup;
  /**
   * After the clone, before the container runs: its veth end moves in, its ports are published. The tools
   * start at once, while the child builds its file system.
   */
  prepare(pid: number): Promise<void>;
}

/** The eth0 a --dry-run shows: the default subnet's first container address. */
export function sampleInterface(): InterfaceSetup {
  const subnet = parseSubnet(DEFAULT_SUBNET);
  return { name: "eth0", address: subnet.address + 2, prefix: subnet.prefix, gateway: subnet.address + 1 };
}

/** The container's lease, while it runs on a bridge network. */
export function leaseOf(paths: StatePaths, id: string): Lease | null {
  return readLeases(paths)[id] ?? null;
}

/** The host's resolvers as the container's (a loopback stub replaced by its upstream servers). */
function containerResolvConf(config: ContainerConfig): string {
  return resolvConf(
    readTextIfExists("/etc/resolv.conf") ?? "",
    readTextIfExists("/run/systemd/resolve/resolv.conf"),
    config.network.dns,
  );
}

/**
 * Writes a container's /etc files in place: they are bind-mounted, and a running container must see the
 * new contents (a rename would leave it the old file).
 */
function writeEtc(paths: StatePaths, id: string, file: "hosts" | "resolv.conf", text: string): void {
  Deno.writeTextFileSync(`${containerRunDir(paths, id)}/${file}`, text);
}

function hostsEntries(config: ContainerConfig, lease: Lease | null, peers: Lease[]): HostsEntries {
  return {
    hostname: config.hostname,
    name: config.name,
    address: lease?.address ?? null,
    gateway: lease?.gateway ?? null,
    extraHosts: config.network.extraHosts,
    peers: peers.filter((p) => p.container !== config.id).map((p) => ({ name: p.name, address: p.address })),
  };
}

/**
 * Containers on a user-defined network find each other by name: each one's /etc/hosts lists the others
 * (the default network does not, as with Docker). Rewritten for all of them when one comes or goes.
 */
function updatePeers(paths: StatePaths, network: string, leases: Record<string, Lease>): void {
  if (network === DEFAULT_NETWORK) return;
  const members = Object.values(leases).filter((l) => l.network === network);
  for (const member of members) {
    const record = readRecordIfExists(paths, member.container);
    if (record === null) continue;
    writeEtc(paths, member.container, "hosts", hostsFile(hostsEntries(record.config, member, members)));
  }
}

/** Leases the container's network resources and writes its /etc files; call releaseNetwork when it ends. */
export async function attachNetwork(paths: StatePaths, config: ContainerConfig): Promise<NetworkAttachment> {
  const nothing = { prepare: async () => {} };
  switch (config.network.mode) {
    case "none":
      writeEtc(paths, config.id, "hosts", hostsFile(hostsEntries(config, null, [])));
      writeEtc(paths, config.id, "resolv.conf", containerResolvConf(config));
      return nothing;
    case "host":
      writeEtc(
        paths,
        config.id,
        "hosts",
        readTextIfExists("/etc/hosts") ?? hostsFile(hostsEntries(config, null, [])),
      );
      writeEtc(paths, config.id, "resolv.conf", readTextIfExists("/etc/resolv.conf") ?? "");
      return nothing;
    case "container":
      return joinContainer(paths, config);
    case "bridge":
      return await attachBridge(paths, config);
  }
}

function joinContainer(paths: StatePaths, config: ContainerConfig): NetworkAttachment {
  const target = readRecordIfExists(paths, config.network.container!);
  if (target === null || !isRunning(target)) {
    throw new StateError(
      `cannot join network of a non running container: ${config.network.container!.slice(0, 12)}`,
      125,
    );
  }
  // The other container's names and resolvers come along with its network.
  for (const file of ["hosts", "resolv.conf"] as const) {
    writeEtc(
      paths,
      config.id,
      file,
      Deno.readTextFileSync(`${containerRunDir(paths, target.config.id)}/${file}`),
    );
  }
  return { netnsPath: `/proc/${target.state.pid}/ns/net`, prepare: async () => {} };
}

async function attachBridge(paths: StatePaths, config: ContainerConfig): Promise<NetworkAttachment> {
  const tag = rootTag(paths);
  const lease = await withNetworkLockAsync(paths, async () => {
    const found = findNetwork(paths, config.network.network ?? DEFAULT_NETWORK);
    const net = await ensureBridge(found, tag);
    if (net !== found) writeNetwork(paths, net);
    const leases = readLeases(paths);
    // A random place in the range to start from, as the kernel picks ephemeral ports.
    const start = EPHEMERAL_PORTS.first + Math.floor(Math.random() * EPHEMERAL_SPAN);
    const lease = newLease(
      net,
      { container: config.id, name: config.name, ports: config.network.ports },
      leases,
      boundPorts,
      start,
    );
    leases[config.id] = lease;
    writeLeases(paths, leases);
    try {
      writeEtc(paths, config.id, "hosts", hostsFile(hostsEntries(config, lease, [])));
      writeEtc(paths, config.id, "resolv.conf", containerResolvConf(config));
      updatePeers(paths, net.name, leases);
    } catch (e) {
      delete leases[config.id];
      writeLeases(paths, leases);
      throw e;
    }
    return lease;
  });
  return {
    eth0: {
      name: "eth0",
      address: parseAddress(lease.address)!,
      prefix: lease.prefix,
      gateway: parseAddress(lease.gateway)!,
    },
    prepare: async (pid) => {
      // ip is spawned here, after the clone (the child would inherit a pipe made before it), and before
      // this function's first await, so that it starts while the caller joins the cgroup.
      await ipBatch(vethCommands(lease, pid));
      if (lease.ports.length > 0) {
        await applyRules(
          lease.firewall,
          portRules(lease.bridge, lease.address, lease.ports, ownerTag(tag, config.id)),
        );
      }
    },
  };
}

/** Undoes attachNetwork: the lease, the veth (if the kernel has not removed it yet), the port rules. */
export async function releaseNetwork(paths: StatePaths, id: string): Promise<void> {
  // Most often there is nothing to release (--network none or host): no lock for that. Only this
  // container's own start adds its lease, and it is over.
  if (leaseOf(paths, id) === null) return;
  const lease = withNetworkLock(paths, () => {
    const leases = readLeases(paths);
    const lease = leases[id];
    if (lease === undefined) return null;
    delete leases[id];
    writeLeases(paths, leases);
    updatePeers(paths, lease.network, leases);
    return lease;
  });
  if (lease === null) return;
  if (interfaces().includes(lease.veth)) {
    // Its namespace's end goes with the namespace, asynchronously: it may vanish first.
    await ipBatch([`link del ${lease.veth}`]).catch(() => {});
  }
  if (lease.ports.length > 0) await removeTagged(lease.firewall, [ownerTag(rootTag(paths), id)]);
}

/** Whether the lease holder may still need its lease: running, or being started right now. */
function holdsLease(record: ContainerRecord | null): boolean {
  if (record === null) return false;
  return record.state.status === "created" || isRunning(record);
}

/** Releases the leases of containers that ended without releasing them (husk or a monitor was killed). */
export async function collectStaleLeases(paths: StatePaths): Promise<void> {
  for (const id of Object.keys(readLeases(paths))) {
    if (!holdsLease(readRecordIfExists(paths, id))) await releaseNetwork(paths, id);
  }
}
