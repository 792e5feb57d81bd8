import { equal, ok, throws } from "node:assert/strict";
import { NetworkError } from "../errors.ts";
import { formatAddress, formatSubnet, parseAddress, parseSubnet, type Subnet } from "./address.ts";
import type { Route } from "./host.ts";
import {
  collidingRoute,
  describeRoute,
  EPHEMERAL_PORTS,
  nextAddress,
  nextSubnet,
  SUBNET_POOL,
} from "./ipam.ts";

const ip = (text: string) => parseAddress(text)!;
const route = (iface: string, cidr: string): Route => {
  const [address, prefix] = cidr.split("/");
  return { iface, subnet: { address: ip(address), prefix: Number(prefix) } };
};
const DEFAULT_ROUTE = route("eth0", "0.0.0.0/0");

Deno.test("nextAddress: the first address after the network and the gateway", () => {
  const s = parseSubnet("10.88.0.0/16");
  equal(formatAddress(nextAddress(s, ip("10.88.0.1"), new Set())), "10.88.0.2");
});

Deno.test("nextAddress: skips taken addresses and the gateway wherever it is", () => {
  const s = parseSubnet("10.88.0.0/24");
  const taken = new Set([ip("10.88.0.2"), ip("10.88.0.3"), ip("10.88.0.5")]);
  equal(formatAddress(nextAddress(s, ip("10.88.0.1"), taken)), "10.88.0.4");
  equal(formatAddress(nextAddress(s, ip("10.88.0.254"), new Set())), "10.88.0.1");
  equal(formatAddress(nextAddress(s, ip("10.88.0.4"), taken)), "10.88.0.1");
});

Deno.test("nextAddress: never the broadcast address; a full subnet is a NetworkError", () => {
  const s = parseSubnet("10.0.0.4/30"); // .4 network, .5 .6 hosts, .7 broadcast
  equal(formatAddress(nextAddress(s, ip("10.0.0.5"), new Set())), "10.0.0.6");
  throws(
    () => nextAddress(s, ip("10.0.0.5"), new Set([ip("10.0.0.6")])),
    (e: unknown) => {
      ok(e instanceof NetworkError, `expected NetworkError, got ${e}`);
      ok(e.message.includes("no free address left in 10.0.0.4/30"), e.message);
      return true;
    },
  );
});

Deno.test("nextAddress: the last host address of a larger subnet is given out", () => {
  const s = parseSubnet("192.168.7.0/29");
  const taken = new Set([2, 3, 4, 5].map((n) => ip(`192.168.7.${n}`)));
  equal(formatAddress(nextAddress(s, ip("192.168.7.1"), taken)), "192.168.7.6");
});

Deno.test("nextSubnet: 10.89.0.0/24 first", () => {
  equal(formatSubnet(SUBNET_POOL), "10.89.0.0/16");
  equal(formatSubnet(nextSubnet([], [])), "10.89.0.0/24");
});

Deno.test("nextSubnet: skips the subnets of other networks", () => {
  const used: Subnet[] = [
    parseSubnet("10.89.0.0/24"),
    parseSubnet("10.89.1.0/24"),
    parseSubnet("10.89.3.0/24"),
  ];
  equal(formatSubnet(nextSubnet(used, [])), "10.89.2.0/24");
  equal(formatSubnet(nextSubnet([parseSubnet("10.89.0.0/23")], [])), "10.89.2.0/24");
});

Deno.test("nextSubnet: skips host routes but ignores the default route", () => {
  equal(formatSubnet(nextSubnet([], [DEFAULT_ROUTE])), "10.89.0.0/24");
  equal(formatSubnet(nextSubnet([], [DEFAULT_ROUTE, route("wg0", "10.89.0.0/22")])), "10.89.4.0/24");
  equal(
    formatSubnet(nextSubnet([parseSubnet("10.89.0.0/24")], [route("eth1", "10.89.1.7/32")])),
    "10.89.2.0/24",
  );
});

Deno.test("nextSubnet: a pool covered entirely is a NetworkError", () => {
  throws(
    () => nextSubnet([], [route("vpn0", "10.0.0.0/8")]),
    (e: unknown) =>
      e instanceof NetworkError && e.message.includes("no free subnet left") &&
      e.message.includes("--subnet"),
  );
});

Deno.test("collidingRoute: a route of another interface overlapping the subnet", () => {
  const s = parseSubnet("10.89.0.0/24");
  const vpn = route("tun0", "10.0.0.0/8");
  equal(collidingRoute(s, "husk1", [DEFAULT_ROUTE, route("eth0", "192.168.1.0/24"), vpn]), vpn);
  equal(describeRoute(vpn), "10.0.0.0/8 dev tun0");
});

Deno.test("collidingRoute: ignores the network's own bridge and the default route", () => {
  const s = parseSubnet("10.89.0.0/24");
  equal(collidingRoute(s, "husk1", [DEFAULT_ROUTE, route("husk1", "10.89.0.0/24")]), null);
  equal(collidingRoute(s, "husk1", [route("eth0", "10.89.1.0/24")]), null);
  equal(collidingRoute(s, "husk1", []), null);
});

Deno.test("EPHEMERAL_PORTS: Linux's default range", () => {
  equal(EPHEMERAL_PORTS.first, 32768);
  equal(EPHEMERAL_PORTS.last, 60999);
});
