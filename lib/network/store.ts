/**
 * Networks and address leases under the state root: networks/<name>.json per network, networks/leases.json
 * for the containers attached now. Writes are atomic; everything that reads and then writes does so under
 * an exclusive lock on networks/networks.lock, so containers started in parallel get distinct addresses.
 */
import { listDirIfExists, readJsonIfExists } from "../files.ts";
import { lockExclusive, writeAtomic } from "../state/store.ts";
import { networksDir, type StatePaths } from "../state/paths.ts";
import type { Backend } from "./iptables.ts";
import type { PortMapping } from "./ports.ts";

export interface NetworkRecord {
  name: string;
  /** 64 hex digits, as Docker's network IDs. */
  id: string;
  driver: "bridge";
  /** CIDR, e.g. 10.88.0.0/16. */
  subnet: string;
  gateway: string;
  /** The Linux bridge (made when the first container attaches, again after a reboot). */
  bridge: string;
  mtu: number;
  created: string;
  /** The iptables backend its rules went to, chosen when its bridge was made. */
  firewall?: Backend;
}

/** A running container's place on a network: its address, its veth and its published ports. */
export interface Lease {
  container: string;
  name: string;
  network: string;
  address: string;
  prefix: number;
  gateway: string;
  bridge: string;
  veth: string;
  mtu: number;
  /** The network's iptables backend, where its published ports' rules go. */
  firewall: Backend;
  /** With the host ports chosen for hostPort 0. */
  ports: PortMapping[];
}

export type Leases = Record<string, Lease>;

const networkLock = (paths: StatePaths) =>
  lockExclusive(networksDir(paths), `${networksDir(paths)}/networks.lock`, 0o700);

/** Runs `fn` holding the exclusive network lock. */
export function withNetworkLock<T>(paths: StatePaths, fn: () => T): T {
  using _lock = networkLock(paths);
  return fn();
}

/** Like withNetworkLock, for work that waits (running ip or iptables). */
export async function withNetworkLockAsync<T>(paths: StatePaths, fn: () => Promise<T>): Promise<T> {
  using _lock = networkLock(paths);
  return await fn();
}

const networkFile = (paths: StatePaths, name: string) => `${networksDir(paths)}/${name}.json`;
const leasesFile = (paths: StatePaths) => `${networksDir(paths)}/leases.json`;

export function readNetwork(paths: StatePaths, name: string): NetworkRecord | null {
  return readJsonIfExists<NetworkRecord>(networkFile(paths, name));
}

export function writeNetwork(paths: StatePaths, record: NetworkRecord): void {
  Deno.mkdirSync(networksDir(paths), { recursive: true, mode: 0o700 });
  writeAtomic(networkFile(paths, record.name), JSON.stringify(record, null, 2));
}

export function removeNetworkRecord(paths: StatePaths, name: string): void {
  Deno.removeSync(networkFile(paths, name));
}

export function listNetworks(paths: StatePaths): NetworkRecord[] {
  return listDirIfExists(networksDir(paths))
    .filter((e) => e.isFile && e.name.endsWith(".json") && e.name !== "leases.json")
    .map((e) => readNetwork(paths, e.name.slice(0, -".json".length)))
    .filter((r): r is NetworkRecord => r !== null)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function readLeases(paths: StatePaths): Leases {
  return readJsonIfExists<Leases>(leasesFile(paths)) ?? {};
}

export function writeLeases(paths: StatePaths, leases: Leases): void {
  Deno.mkdirSync(networksDir(paths), { recursive: true, mode: 0o700 });
  writeAtomic(leasesFile(paths), JSON.stringify(leases, null, 2));
}
