/** The container's /etc/resolv.conf and /etc/hosts, computed from the host's files and the options (pure). */
import { InvalidInputError } from "../errors.ts";
import { parseAddress } from "./address.ts";

export interface DnsOptions {
  /** --dns: name servers instead of the host's. */
  servers: readonly string[];
  /** --dns-search: search domains instead of the host's. */
  search: readonly string[];
  /** --dns-option: resolver options instead of the host's. */
  options: readonly string[];
}

/** Docker's fallback when the host has no name server a container can reach. */
export const DEFAULT_SERVERS = ["8.8.8.8", "8.8.4.4"];

interface Resolv {
  servers: string[];
  search: string[];
  options: string[];
}

function parseResolv(text: string): Resolv {
  const parsed: Resolv = { servers: [], search: [], options: [] };
  for (const line of text.split("\n")) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === "nameserver" && values[0]) parsed.servers.push(values[0]);
    else if (key === "search" || key === "domain") parsed.search = values;
    else if (key === "options") parsed.options.push(...values);
  }
  return parsed;
}

/**
 * A server the container can use: not a loopback resolver (127.0.0.53 of systemd-resolved, a local dnsmasq),
 * which is the host's own, and not an IPv6 one, as containers have IPv4 only.
 */
function isReachable(server: string): boolean {
  return !server.startsWith("127.") && !server.includes(":");
}

/**
 * The container's resolv.conf. `host` is the host's /etc/resolv.conf; `upstream` is systemd-resolved's list of
 * real servers (/run/systemd/resolve/resolv.conf), used when the host only names its local stub.
 */
export function resolvConf(host: string, upstream: string | null, dns: DnsOptions): string {
  const ours = parseResolv(host);
  const reachable = ours.servers.filter(isReachable);
  const fromUpstream = reachable.length === 0 && upstream !== null
    ? parseResolv(upstream).servers.filter(isReachable)
    : [];
  const servers = dns.servers.length > 0
    ? dns.servers
    : reachable.length > 0
    ? reachable
    : fromUpstream.length > 0
    ? fromUpstream
    : DEFAULT_SERVERS;
  const search = dns.search.length > 0 ? dns.search : ours.search;
  const options = dns.options.length > 0 ? dns.options : ours.options;
  return [
    ...(search.length > 0 ? [`search ${search.join(" ")}`] : []),
    ...servers.map((s) => `nameserver ${s}`),
    ...(options.length > 0 ? [`options ${options.join(" ")}`] : []),
    "",
  ].join("\n");
}

export function validateServers(servers: readonly string[]): void {
  for (const server of servers) {
    if (parseAddress(server) === null) {
      throw new InvalidInputError(`invalid --dns "${server}": an IPv4 address such as 192.168.1.1`);
    }
  }
}

/** An --add-host entry. `address` "host-gateway" stands for the network's gateway. */
export interface ExtraHost {
  host: string;
  address: string;
}

/** `--add-host NAME:IP` (or NAME=IP). */
export function parseExtraHost(spec: string): ExtraHost {
  const sep = spec.includes("=") ? spec.indexOf("=") : spec.indexOf(":");
  const host = spec.slice(0, sep);
  const address = spec.slice(sep + 1);
  if (
    sep <= 0 || !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host) ||
    (address !== "host-gateway" && parseAddress(address) === null)
  ) {
    throw new InvalidInputError(
      `invalid --add-host "${spec}": NAME:IP, such as db:10.0.0.5 (or NAME:host-gateway)`,
    );
  }
  return { host, address };
}

export interface HostsEntries {
  hostname: string;
  /** The container's name, listed beside its hostname. */
  name: string;
  /** The container's address on its network; null without one (loopback only). */
  address: string | null;
  /** The network's gateway (for host-gateway). */
  gateway: string | null;
  extraHosts: readonly ExtraHost[];
  /** Other containers on the same user-defined network, reachable by name. */
  peers: readonly { name: string; address: string }[];
}

/** The contents of the container's /etc/hosts. */
export function hostsFile(e: HostsEntries): string {
  const names = e.name === e.hostname ? e.hostname : `${e.hostname} ${e.name}`;
  const extra = e.extraHosts.map(({ host, address }) => {
    if (address !== "host-gateway") return `${address}\t${host}`;
    if (e.gateway === null) {
      throw new InvalidInputError(
        `--add-host ${host}:host-gateway needs a bridge network (it names its gateway)`,
      );
    }
    return `${e.gateway}\t${host}`;
  });
  return [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    ...extra,
    `${e.address ?? "127.0.1.1"}\t${names}`,
    ...e.peers.map((p) => `${p.address}\t${p.name}`),
    "",
  ].join("\n");
}
