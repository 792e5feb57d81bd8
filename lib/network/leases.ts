/** Choosing a container's address and host ports on a network (pure: what is taken comes in as data). */
import { NetworkError } from "../errors.ts";
import { formatAddress, parseAddress, parseSubnet } from "./address.ts";
import type { BoundPort } from "./host.ts";
import { EPHEMERAL_PORTS, EPHEMERAL_SPAN, nextAddress } from "./ipam.ts";
import { clash, type PortMapping, type Protocol } from "./ports.ts";
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
  // The host's sockets, read once per protocol (and only when a port is asked for), as mappings of their own.
  const sockets: Partial<Record<Protocol, PortMapping[]>> = {};
  const socketsOf = (protocol: Protocol) =>
    sockets[protocol] ??= bound(protocol).map((b) => ({
      hostIp: b.address,
      hostPort: b.port,
      containerPort: 0,
      protocol,
    }));
  const held = (p: PortMapping) =>
    published.some((q) => clash(p, q)) || socketsOf(p.protocol).some((q) => clash(p, q));
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
    for (let i = 0; i < EPHEMERAL_SPAN; i++) {
      const candidate = {
        ...wanted,
        hostPort: EPHEMERAL_PORTS.first + (start - EPHEMERAL_PORTS.first + i) % EPHEMERAL_SPAN,
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
