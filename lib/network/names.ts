/** Names of user-defined networks, and of the Linux bridges behind networks. */

/** Docker's rule for names, which also keeps them safe as file names. */
export function isValidNetworkName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) && name.length <= 64;
}

/** The default network's name, as Docker's. */
export const DEFAULT_NETWORK = "bridge";

/** The names Docker reserves: its default network's and the network modes'. */
export const RESERVED_NETWORK_NAMES = [DEFAULT_NETWORK, "none", "host", "default"];

/**
 * The bridge of a network: husk0 for the default network of the default state root; otherwise "husk" and a
 * tag (at most 15 characters, the kernel's limit). Every husk bridge starts with "husk": the firewall isolates
 * networks from each other with one wildcard (husk+).
 */
export function bridgeName(tag: string): string {
  return `husk${tag}`.slice(0, 15);
}

/** The host side of a container's veth pair. */
export function vethName(containerId: string): string {
  return `veth${containerId.slice(0, 11)}`;
}
