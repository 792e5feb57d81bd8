/** husk's networks: the default one ("bridge") and user-defined ones (network create, ls, inspect, rm). */
import { InvalidInputError, NetworkError, StateError } from "../errors.ts";
import { DEFAULT_ROOT, rootTag, type StatePaths } from "../state/paths.ts";
import { formatSubnet, overlaps, parseSubnet, type Subnet } from "./address.ts";
import { checkGateway, defaultGateway, removeBridge } from "./bridge.ts";
import { type Route, routes } from "./host.ts";
import { collidingRoute, describeRoute, nextSubnet } from "./ipam.ts";
import { bridgeName, DEFAULT_NETWORK, isValidNetworkName, RESERVED_NETWORK_NAMES } from "./names.ts";
import {
  listNetworks,
  type NetworkRecord,
  readLeases,
  readNetwork,
  removeNetworkRecord,
  withNetworkLock,
  withNetworkLockAsync,
  writeNetwork,
} from "./store.ts";

/** The default network's subnet, unless HUSK_BRIDGE_SUBNET says otherwise when it is first used. */
export const DEFAULT_SUBNET = "10.88.0.0/16";
export const DEFAULT_MTU = 1500;

function newNetworkId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The default network's record, made on first use. Call under the network lock. */
function defaultNetwork(paths: StatePaths): NetworkRecord {
  const existing = readNetwork(paths, DEFAULT_NETWORK);
  if (existing) return existing;
  const subnet = formatSubnet(parseSubnet(Deno.env.get("HUSK_BRIDGE_SUBNET") || DEFAULT_SUBNET));
  const record: NetworkRecord = {
    name: DEFAULT_NETWORK,
    id: newNetworkId(),
    driver: "bridge",
    subnet,
    gateway: defaultGateway(subnet),
    // Separate state roots get separate default bridges: their address leases are separate too.
    bridge: paths.root === DEFAULT_ROOT ? bridgeName("0") : bridgeName(rootTag(paths)),
    mtu: DEFAULT_MTU,
    created: new Date().toISOString(),
  };
  writeNetwork(paths, record);
  return record;
}

/** The network named `name` (Docker's error when there is none). Call under the network lock. */
export function findNetwork(paths: StatePaths, name: string): NetworkRecord {
  if (name === DEFAULT_NETWORK) return defaultNetwork(paths);
  const byName = readNetwork(paths, name);
  if (byName) return byName;
  const byId = listNetworks(paths).filter((n) => name.length >= 3 && n.id.startsWith(name));
  if (byId.length === 1) return byId[0];
  throw new NetworkError(
    `network ${name} not found: see "husk network ls", or create it with "husk network create"`,
  );
}

export interface CreateNetworkOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  mtu?: number;
}

export function createNetwork(paths: StatePaths, options: CreateNetworkOptions): NetworkRecord {
  const { name } = options;
  if (!isValidNetworkName(name)) {
    throw new InvalidInputError(
      `invalid network name "${name}": letters, digits, "_", "." and "-", at most 64`,
    );
  }
  if (RESERVED_NETWORK_NAMES.includes(name)) {
    throw new InvalidInputError(`network name "${name}" is reserved: choose another`);
  }
  if (options.mtu !== undefined && !(options.mtu >= 68 && options.mtu <= 65535)) {
    throw new InvalidInputError(`invalid mtu ${options.mtu}: 68 to 65535`);
  }
  return withNetworkLock(paths, () => {
    if (readNetwork(paths, name)) {
      throw new StateError(`network with name ${name} already exists`);
    }
    defaultNetwork(paths);
    const others = listNetworks(paths);
    const hostRoutes = routes();
    const subnet = options.subnet === undefined
      ? nextSubnet(others.map((n) => parseSubnet(n.subnet)), hostRoutes)
      : requestedSubnet(options.subnet, others, hostRoutes);
    const cidr = formatSubnet(subnet);
    const gateway = options.gateway ?? defaultGateway(cidr);
    checkGateway(cidr, gateway);
    const id = newNetworkId();
    const record: NetworkRecord = {
      name,
      id,
      driver: "bridge",
      subnet: cidr,
      gateway,
      bridge: bridgeName(`-${id.slice(0, 10)}`),
      mtu: options.mtu ?? DEFAULT_MTU,
      created: new Date().toISOString(),
    };
    writeNetwork(paths, record);
    return record;
  });
}

/** A --subnet, refused when it overlaps another network or a route of the host (not one of husk's bridges). */
function requestedSubnet(
  text: string,
  others: readonly NetworkRecord[],
  hostRoutes: readonly Route[],
): Subnet {
  const subnet = parseSubnet(text);
  const taken = others.find((n) => overlaps(parseSubnet(n.subnet), subnet));
  if (taken) {
    throw new InvalidInputError(
      `subnet ${text} overlaps network ${taken.name} (${taken.subnet}): choose another --subnet`,
    );
  }
  const clash = collidingRoute(
    subnet,
    "",
    hostRoutes.filter((r) => !others.some((n) => n.bridge === r.iface)),
  );
  if (clash) {
    throw new InvalidInputError(
      `subnet ${text} collides with the host's route ${describeRoute(clash)}: choose another --subnet`,
    );
  }
  return subnet;
}

/** Every network, the default one included (made if needed). */
export function allNetworks(paths: StatePaths): NetworkRecord[] {
  return withNetworkLock(paths, () => {
    defaultNetwork(paths);
    return listNetworks(paths);
  });
}

/** Removes a user-defined network that no running container uses: its bridge, rules and record. */
export async function removeNetwork(paths: StatePaths, name: string): Promise<NetworkRecord> {
  return await withNetworkLockAsync(paths, async () => {
    const net = findNetwork(paths, name);
    if (net.name === DEFAULT_NETWORK) {
      throw new StateError(`bridge is a pre-defined network and cannot be removed`);
    }
    const users = Object.values(readLeases(paths)).filter((l) => l.network === net.name);
    if (users.length > 0) {
      throw new StateError(
        `error while removing network: network ${net.name} id ${net.id.slice(0, 12)} has active endpoints ` +
          `(${users.map((u) => u.name).join(", ")}): stop or remove them first`,
      );
    }
    await removeBridge(net, rootTag(paths));
    removeNetworkRecord(paths, net.name);
    return net;
  });
}
