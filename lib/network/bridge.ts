/**
 * A network's Linux bridge and its firewall rules, made when the first container attaches (and again after a
 * reboot cleared them), removed with the network. Runs in the network namespace husk itself runs in.
 */
import { InvalidInputError, NetworkError } from "../errors.ts";
import { broadcast, formatAddress, parseAddress, parseSubnet } from "./address.ts";
import { networkRules, ownerTag } from "./firewall.ts";
import { interfaces, routes, setSysctl } from "./host.ts";
import { collidingRoute, describeRoute } from "./ipam.ts";
import { DEFAULT_NETWORK } from "./names.ts";
import { applyRules, detectBackend, removeTagged, saveRules } from "./iptables.ts";
import type { NetworkRecord } from "./store.ts";
import { ipBatch } from "./tool.ts";

/** The iproute2 commands that make the bridge of `net`, with its gateway address, up. */
export function bridgeCommands(net: NetworkRecord): string[] {
  const { prefix } = parseSubnet(net.subnet);
  return [
    `link add ${net.bridge} mtu ${net.mtu} type bridge`,
    `addr add ${net.gateway}/${prefix} dev ${net.bridge}`,
    `link set ${net.bridge} up`,
  ];
}

/**
 * Makes the bridge and the firewall rules of `net` unless the bridge exists; returns the record with the
 * firewall backend its rules went to. Call under the network lock.
 */
export async function ensureBridge(net: NetworkRecord, rootTag: string): Promise<NetworkRecord> {
  if (interfaces().includes(net.bridge)) return net;
  const clash = collidingRoute(parseSubnet(net.subnet), net.bridge, routes());
  if (clash) {
    throw new NetworkError(
      `network ${net.name}: its subnet ${net.subnet} collides with the host's route ${
        describeRoute(clash)
      }; ` +
        `remove the network and create it with another --subnet` +
        (net.name === DEFAULT_NETWORK
          ? " (for the default network: set HUSK_BRIDGE_SUBNET, then rm it)"
          : ""),
    );
  }
  const firewall = await detectBackend();
  await ipBatch(bridgeCommands(net));
  try {
    // Forwarding for the containers' outbound traffic; route_localnet so that 127.0.0.1 reaches published ports.
    setSysctl("ipv4/ip_forward", "1");
    setSysctl(`ipv4/conf/${net.bridge}/route_localnet`, "1");
    const tag = ownerTag(rootTag, net.id);
    const saved = await saveRules(firewall);
    // A rule set of a bridge that went away without its rules (a reboot keeps neither; a crash may).
    await removeTagged(firewall, [tag], saved);
    await applyRules(firewall, networkRules(net, tag));
  } catch (e) {
    await ipBatch([`link del ${net.bridge}`]).catch(() => {});
    throw e;
  }
  return { ...net, firewall };
}

/** Removes the bridge of `net` (if it exists) and its firewall rules. */
export async function removeBridge(net: NetworkRecord, rootTag: string): Promise<void> {
  await removeTagged(net.firewall ?? null, [ownerTag(rootTag, net.id)]);
  if (interfaces().includes(net.bridge)) await ipBatch([`link del ${net.bridge}`]);
}

/** The gateway of a subnet when none is given: its first address. */
export function defaultGateway(subnet: string): string {
  return formatAddress(parseSubnet(subnet).address + 1);
}

export function checkGateway(subnet: string, gateway: string): void {
  const s = parseSubnet(subnet);
  const g = parseAddress(gateway);
  if (g === null || g <= s.address || g >= broadcast(s)) {
    throw new InvalidInputError(
      `invalid gateway "${gateway}": an address inside ${subnet} (not its first or last)`,
    );
  }
}
