/** Choosing a container's address and host ports on a network (pure: what is taken comes in as data). */
import { NetworkError } from "../errors.ts";
import { formatAddress, parseAddress, parseSubnet } from "./address.ts";
import type { BoundPort } from "./host.ts";
import { EPHEMERAL_PORTS, nextAddress } from "./ipam.ts";
import { clash, type PortMapping } from "./ports.ts";
import type { Lease, Leases, NetworkRecord } from "./store.ts";
import { vethName } from "./names.ts";

export interface LeaseRequest {
  container: string;
  name: string;
  ports: readonly PortMapping[];
}

/**
 * A lease on `net` for the container: the lowest free address, and host ports for its published ports. A
 * host port is refused when another container publishes it or a host socket holds it; a port of 0 becomes
 * the first free one of the ephemeral range from `start` on.
 */
export function newLease(
  net: NetworkRecord,
  request: LeaseRequest,
  leases: Leases,
  bound: (protocol: "tcp" | "udp") => readonly BoundPort[],
  start = EPHEMERAL_PORTS.first,
): Lease {
  const subnet = parseSubnet(net.subnet);
  const taken = new Set(
    Object.values(leases).filter((l) => l.network === net.name).map((l) => parseAddress(l.address)!),
  );
  const address = nextAddress(subnet, parseAddress(net.gateway)!, taken);
  const published: PortMapping[] = Object.values(leases).flatMap((l) => l.ports);
  const held = (p: PortMapping) =>
    published.some((q) => clash(p, q)) ||
    bound(p.protocol).some((b) =>
      b.port === p.hostPort && (b.address === "" || p.hostIp === "" || b.address === p.hostIp)
    );
  const ports = request.ports.map((wanted) => {
    if (wanted.hostPort !== 0) {
      if (held(wanted)) {
        throw new NetworkError(
          `Bind for ${wanted.hostIp || "0.0.0.0"}:${wanted.hostPort} failed: port is already allocated; ` +
            `publish another host port`,
        );
      }
      published.push(wanted);
      return wanted;
    }
    const span = EPHEMERAL_PORTS.last - EPHEMERAL_PORTS.first + 1;
    for (let i = 0; i < span; i++) {
      const candidate = {
        ...wanted,
        hostPort: EPHEMERAL_PORTS.first + (start - EPHEMERAL_PORTS.first + i) % span,
      };
      if (!held(candidate)) {
        published.push(candidate);
        return candidate;
      }
    }
    throw new NetworkError(`no free host port left for ${wanted.containerPort}/${wanted.protocol}`);
  });
  return {
    container: request.container,
    name: request.name,
    network: net.name,
    address: formatAddress(address),
    prefix: subnet.prefix,
    gateway: net.gateway,
    bridge: net.bridge,
    veth: vethName(request.container),
    mtu: net.mtu,
    firewall: net.firewall ?? null,
    ports,
  };
}

/** The iproute2 commands that give the container (process `pid`) its end of a veth pair on the bridge. */
export function vethCommands(lease: Lease, pid: number): string[] {
  return [
    `link add ${lease.veth} mtu ${lease.mtu} type veth peer name eth0 mtu ${lease.mtu} netns ${pid}`,
    `link set ${lease.veth} master ${lease.bridge} up`,
  ];
}
