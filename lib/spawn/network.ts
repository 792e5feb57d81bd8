/**
 * The child's network steps (pure): bring up `lo`, join another container's network namespace, or configure
 * `eth0` (moved into the namespace by the runtime while the child waited) with the classic interface ioctls.
 * No netlink and no process: four ioctls on a throwaway socket give eth0 its address and the default route.
 */
import {
  AF_INET,
  CLONE,
  IFF_LOOPBACK,
  IFF_RUNNING,
  IFF_UP,
  RTF_GATEWAY,
  RTF_UP,
  SIOCADDRT,
  SIOCSIFADDR,
  SIOCSIFFLAGS,
  SIOCSIFNETMASK,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from "./linux.ts";
import { named, type Step } from "./step.ts";
import { formatAddress, prefixMask } from "../network/address.ts";

/** eth0's configuration: its address with prefix length, and the gateway of its default route. */
export interface InterfaceSetup {
  name: string;
  address: number;
  prefix: number;
  gateway: number;
}

/** A struct ifreq (40 bytes): the interface name, then a sockaddr_in or the flags. */
function ifreq(name: string): Uint8Array {
  const bytes = new Uint8Array(40);
  bytes.set(new TextEncoder().encode(name));
  return bytes;
}

/** Writes a struct sockaddr_in (AF_INET, port 0, the address in network order) at `offset`. */
function putSockaddr(bytes: Uint8Array, offset: number, address: number): void {
  const view = new DataView(bytes.buffer);
  view.setUint16(offset, AF_INET, true);
  view.setUint32(offset + 4, address, false);
}

function flagsRequest(name: string, flags: number): Uint8Array {
  const bytes = ifreq(name);
  new DataView(bytes.buffer).setUint16(16, flags, true);
  return bytes;
}

function addressRequest(name: string, address: number): Uint8Array {
  const bytes = ifreq(name);
  putSockaddr(bytes, 16, address);
  return bytes;
}

/** struct rtentry (x86_64: 120 bytes): a default route (destination and mask 0.0.0.0) via `gateway`. */
function defaultRoute(gateway: number): Uint8Array {
  const bytes = new Uint8Array(120);
  putSockaddr(bytes, 8, 0); // rt_dst
  putSockaddr(bytes, 24, gateway); // rt_gateway
  putSockaddr(bytes, 40, 0); // rt_genmask
  new DataView(bytes.buffer).setUint16(56, RTF_UP | RTF_GATEWAY, true); // rt_flags
  return bytes;
}

function onSocket(
  what: string,
  requests: { request: number; name: string; arg: Uint8Array; what: string }[],
): Step[] {
  return [
    {
      call: "socket",
      args: [named(AF_INET, "AF_INET"), named(SOCK_DGRAM | SOCK_CLOEXEC, "SOCK_DGRAM|SOCK_CLOEXEC"), 0],
      save: true,
      what: `open a socket to ${what}`,
    },
    ...requests.map((r): Step => ({
      call: "ioctl",
      args: [null, named(r.request, r.name), r.arg],
      useSaved: true,
      what: r.what,
    })),
    { call: "close", args: [null], useSaved: true, what: "close the configuration socket" },
  ];
}

/** Brings up `lo` in the new network namespace. */
export function loopbackSteps(): Step[] {
  return onSocket("configure the network", [{
    request: SIOCSIFFLAGS,
    name: "SIOCSIFFLAGS",
    arg: flagsRequest("lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING),
    what: "bring the loopback interface up",
  }]);
}

/** Gives the interface its address and mask, brings it up and routes everything else through the gateway. */
export function interfaceSteps(i: InterfaceSetup): Step[] {
  const cidr = `${formatAddress(i.address)}/${i.prefix}`;
  return onSocket(`configure ${i.name}`, [
    {
      request: SIOCSIFADDR,
      name: "SIOCSIFADDR",
      arg: addressRequest(i.name, i.address),
      what: `give ${i.name} the address ${cidr}`,
    },
    {
      request: SIOCSIFNETMASK,
      name: "SIOCSIFNETMASK",
      arg: addressRequest(i.name, prefixMask(i.prefix)),
      what: `set ${i.name}'s netmask (/${i.prefix})`,
    },
    {
      request: SIOCSIFFLAGS,
      name: "SIOCSIFFLAGS",
      arg: flagsRequest(i.name, IFF_UP),
      what: `bring ${i.name} up`,
    },
    {
      request: SIOCADDRT,
      name: "SIOCADDRT",
      arg: defaultRoute(i.gateway),
      what: `add the default route via ${formatAddress(i.gateway)}`,
    },
  ]);
}

/** Enters the network namespace open on `fd` (another container's), instead of a new one. */
export function joinNetworkSteps(fd: number): Step[] {
  return [
    {
      call: "setns",
      args: [fd, named(CLONE.NEWNET, "CLONE_NEWNET")],
      what: "join the other container's network namespace",
    },
    { call: "close", args: [fd], what: "close the network namespace descriptor" },
  ];
}
