/**
 * What the network namespace husk runs in already has: its interfaces and IPv4 routes, read from /proc/net
 * (which shows the reader's own namespace, unlike a /sys mounted for another one).
 */
import { readTextIfExists } from "../files.ts";
import { formatAddress, type Subnet } from "./address.ts";

/** Interface names from /proc/net/dev's text. */
export function parseInterfaces(text: string): string[] {
  return text.split("\n").slice(2).map((l) => l.split(":")[0].trim()).filter(Boolean);
}

export interface Route {
  iface: string;
  subnet: Subnet;
}

/** An IPv4 address as /proc/net writes it: 8 hex digits of the address in the kernel's little-endian order. */
function kernelAddress(hex: string): number {
  const n = parseInt(hex, 16);
  return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
}

/** Routes from /proc/net/route's text. */
export function parseRoutes(text: string): Route[] {
  return text.split("\n").slice(1).filter(Boolean).map((line) => {
    const f = line.trim().split(/\s+/);
    const mask = kernelAddress(f[7]);
    return { iface: f[0], subnet: { address: kernelAddress(f[1]), prefix: 32 - trailingZeros(mask) } };
  });
}

function trailingZeros(mask: number): number {
  let zeros = 0;
  while (zeros < 32 && ((mask >>> zeros) & 1) === 0) zeros++;
  return zeros;
}

export function interfaces(): string[] {
  return parseInterfaces(Deno.readTextFileSync("/proc/net/dev"));
}

export function routes(): Route[] {
  return parseRoutes(Deno.readTextFileSync("/proc/net/route"));
}

/** Sets a sysctl of this network namespace (/proc/sys/net shows the writer's namespace). */
export function setSysctl(path: string, value: string): void {
  Deno.writeTextFileSync(`/proc/sys/net/${path}`, value);
}

/** A socket bound on this namespace's side: its address ("" for any) and port. */
export interface BoundPort {
  address: string;
  port: number;
}

/**
 * Listening TCP sockets or bound UDP sockets from /proc/net/{tcp,udp}[6]'s text (state 0A is LISTEN; an
 * IPv6 socket on :: also holds the IPv4 port).
 */
export function parseBoundPorts(text: string, protocol: "tcp" | "udp"): BoundPort[] {
  return text.split("\n").slice(1).filter(Boolean).flatMap((line) => {
    const f = line.trim().split(/\s+/);
    if (protocol === "tcp" && f[3] !== "0A") return [];
    const [hex, port] = f[1].split(":");
    const any = /^0+$/.test(hex);
    const v4 = hex.length === 8
      ? hex
      : hex.length === 32 && hex.startsWith("0000000000000000FFFF0000")
      ? hex.slice(24)
      : null;
    // An IPv6 address of its own does not hold the IPv4 port.
    if (!any && v4 === null) return [];
    const address = any ? "" : formatAddress(kernelAddress(v4!));
    return [{ address, port: parseInt(port, 16) }];
  });
}

export function boundPorts(protocol: "tcp" | "udp"): BoundPort[] {
  // No tcp6/udp6 file where the kernel has no IPv6.
  return ["", "6"].flatMap((v) => {
    const text = readTextIfExists(`/proc/net/${protocol}${v}`);
    return text === null ? [] : parseBoundPorts(text, protocol);
  });
}
