/** Address management (pure): a container's address in its subnet, a new network's subnet, a free host port. */
import { NetworkError } from "../errors.ts";
import { broadcast, formatAddress, formatSubnet, overlaps, type Subnet } from "./address.ts";
import type { Route } from "./host.ts";

/** The lowest address of `subnet` that is not its first, its broadcast, the gateway or taken. */
export function nextAddress(subnet: Subnet, gateway: number, taken: ReadonlySet<number>): number {
  const last = broadcast(subnet);
  for (let a = subnet.address + 1; a < last; a++) {
    if (a !== gateway && !taken.has(a)) return a;
  }
  throw new NetworkError(
    `no free address left in ${
      formatSubnet(subnet)
    }: remove containers, or use a network with a larger subnet`,
  );
}

/** Where user-defined networks get their subnets when none is given: 10.89.0.0/24, 10.89.1.0/24, ... */
export const SUBNET_POOL: Subnet = { address: (10 << 24 | 89 << 16) >>> 0, prefix: 16 };
const POOL_PREFIX = 24;

/** The first /24 of the pool that overlaps neither another network's subnet nor a route of the host. */
export function nextSubnet(used: readonly Subnet[], hostRoutes: readonly Route[]): Subnet {
  const count = 2 ** (POOL_PREFIX - SUBNET_POOL.prefix);
  for (let i = 0; i < count; i++) {
    const candidate = { address: SUBNET_POOL.address + i * 2 ** (32 - POOL_PREFIX), prefix: POOL_PREFIX };
    if (used.some((s) => overlaps(s, candidate))) continue;
    if (hostRoutes.some((r) => r.subnet.prefix > 0 && overlaps(r.subnet, candidate))) continue;
    return candidate;
  }
  throw new NetworkError(`no free subnet left in ${formatSubnet(SUBNET_POOL)}: pass --subnet`);
}

/**
 * A route of the host (other than through `ownBridge`) that overlaps `subnet`: a bridge there would take
 * traffic meant for it. The default route (prefix 0) overlaps everything and does not count.
 */
export function collidingRoute(
  subnet: Subnet,
  ownBridge: string,
  hostRoutes: readonly Route[],
): Route | null {
  return hostRoutes.find((r) => r.iface !== ownBridge && r.subnet.prefix > 0 && overlaps(r.subnet, subnet)) ??
    null;
}

export function describeRoute(route: Route): string {
  return `${formatAddress(route.subnet.address)}/${route.subnet.prefix} dev ${route.iface}`;
}

/** Linux's default ephemeral range, where -P and -p CONTAINER_PORT find host ports (as Docker does). */
export const EPHEMERAL_PORTS = { first: 32768, last: 60999 };
export const EPHEMERAL_SPAN = EPHEMERAL_PORTS.last - EPHEMERAL_PORTS.first + 1;
