import { equal, ok } from "node:assert/strict";

import {
  broadcast,
  formatAddress,
  formatSubnet,
  overlaps,
  parseAddress,
  parseSubnet,
  prefixMask,
} from "./address.ts";
import { throwsInvalid } from "../testing/errors.ts";

const ip = (text: string) => {
  const value = parseAddress(text);
  if (value === null) throw new Error(`bad test address ${text}`);
  return value;
};

Deno.test("parseAddress: dotted quads become host-order numbers", () => {
  equal(parseAddress("0.0.0.0"), 0);
  equal(parseAddress("10.0.0.1"), 0x0a000001);
  equal(parseAddress("192.168.1.2"), 0xc0a80102);
  equal(parseAddress("255.255.255.255"), 0xffffffff);
  equal(parseAddress("1.2.3.4"), 0x01020304);
});

Deno.test("parseAddress: rejects what is not a dotted quad", () => {
  for (
    const bad of [
      "",
      "256.0.0.1",
      "1.2.3.256",
      "1.2.3",
      "1.2.3.4.5",
      "a.b.c.d",
      "1.2.3.x",
      "1..2.3",
      "1.2.3.-4",
    ]
  ) {
    equal(parseAddress(bad), null, bad);
  }
});

Deno.test("formatAddress: round trips with parseAddress", () => {
  for (
    const text of ["0.0.0.0", "10.88.0.1", "127.0.0.1", "172.17.255.254", "192.168.0.255", "255.255.255.255"]
  ) {
    equal(formatAddress(ip(text)), text);
  }
  equal(formatAddress(0xc0a80001), "192.168.0.1");
});

Deno.test("prefixMask: /0, /8, /24, /30 and /32", () => {
  equal(prefixMask(0), 0);
  equal(prefixMask(8), 0xff000000);
  equal(prefixMask(16), 0xffff0000);
  equal(prefixMask(24), 0xffffff00);
  equal(prefixMask(30), 0xfffffffc);
  equal(prefixMask(32), 0xffffffff);
  ok(prefixMask(1) > 0, "an unsigned number");
});

Deno.test("parseSubnet: a CIDR round trips through formatSubnet", () => {
  const s = parseSubnet("10.88.0.0/16");
  equal(s.address, ip("10.88.0.0"));
  equal(s.prefix, 16);
  for (const text of ["10.0.0.0/8", "192.168.0.0/24", "172.16.0.4/30", "10.89.3.0/24"]) {
    equal(formatSubnet(parseSubnet(text)), text);
  }
});

Deno.test("parseSubnet: host bits set are refused with the subnet meant", () => {
  throwsInvalid(() => parseSubnet("10.0.0.1/8"), "10.0.0.1/8", "host bits", "did you mean 10.0.0.0/8");
  throwsInvalid(() => parseSubnet("192.168.1.7/30"), "did you mean 192.168.1.4/30");
  throwsInvalid(() => parseSubnet("10.88.1.0/16"), "did you mean 10.88.0.0/16");
});

Deno.test("parseSubnet: prefixes outside 8..30 and malformed texts are refused", () => {
  for (
    const bad of [
      "10.0.0.0/7",
      "0.0.0.0/0",
      "10.0.0.0/31",
      "10.0.0.0/32",
      "10.0.0.0",
      "10.0.0.0/",
      "1.2.3/24",
    ]
  ) {
    throwsInvalid(() => parseSubnet(bad), `"${bad}"`, "prefix of 8 to 30");
  }
  throwsInvalid(() => parseSubnet("256.0.0.0/8"), "256.0.0.0/8");
  throwsInvalid(() => parseSubnet("a.b.c.d/24"), "a.b.c.d/24");
  throwsInvalid(() => parseSubnet("10.0.0.0/100"), "10.0.0.0/100");
});

Deno.test("overlaps: nested subnets overlap both ways, adjacent ones do not", () => {
  const big = parseSubnet("10.0.0.0/8");
  const small = parseSubnet("10.88.0.0/16");
  ok(overlaps(big, small));
  ok(overlaps(small, big));
  ok(overlaps(small, small));
  const a = parseSubnet("10.0.0.0/30");
  const b = parseSubnet("10.0.0.4/30");
  ok(!overlaps(a, b));
  ok(!overlaps(b, a));
  ok(!overlaps(parseSubnet("10.89.0.0/24"), parseSubnet("10.89.1.0/24")));
  ok(!overlaps(big, parseSubnet("11.0.0.0/8")));
  ok(overlaps(parseSubnet("192.168.0.0/16"), parseSubnet("192.168.200.0/24")));
  ok(overlaps({ address: 0, prefix: 0 }, small), "the default route overlaps everything");
});

Deno.test("broadcast: the last address of the subnet, unsigned", () => {
  equal(formatAddress(broadcast(parseSubnet("10.0.0.0/8"))), "10.255.255.255");
  equal(formatAddress(broadcast(parseSubnet("10.88.0.0/16"))), "10.88.255.255");
  equal(formatAddress(broadcast(parseSubnet("10.0.0.4/30"))), "10.0.0.7");
  equal(broadcast(parseSubnet("192.168.0.0/24")), ip("192.168.0.255"));
  ok(broadcast(parseSubnet("192.168.0.0/24")) > 0);
});
