import { equal, ok } from "node:assert/strict";
import {
  bridgeName,
  DEFAULT_NETWORK,
  isValidNetworkName,
  RESERVED_NETWORK_NAMES,
  vethName,
} from "./names.ts";

Deno.test("isValidNetworkName: Docker's names", () => {
  for (const good of ["bridge", "backend", "my_net", "my-net", "net.1", "N3t", "0net", "a", "x".repeat(64)]) {
    ok(isValidNetworkName(good), good);
  }
});

Deno.test("isValidNetworkName: refuses what is not a safe name", () => {
  for (
    const bad of ["", "bad name!", "-net", "_net", ".net", "..", "a/b", "net:1", "a b", "ünï", "x".repeat(65)]
  ) {
    ok(!isValidNetworkName(bad), bad);
  }
});

Deno.test("names: the default network and the reserved modes", () => {
  equal(DEFAULT_NETWORK, "bridge");
  for (const reserved of ["none", "host", "default"]) ok(RESERVED_NETWORK_NAMES.includes(reserved), reserved);
});

Deno.test("bridgeName: husk and the tag, at most 15 characters", () => {
  equal(bridgeName("0"), "husk0");
  equal(bridgeName("ab12cd34"), "huskab12cd34");
  const long = bridgeName("0123456789abcdef0123");
  equal(long, "husk0123456789a");
  equal(long.length, 15);
  ok(bridgeName("x".repeat(100)).startsWith("husk"));
  ok(bridgeName("x".repeat(100)).length <= 15);
});

Deno.test("vethName: veth and the container ID's first 11 digits, 15 characters", () => {
  const name = vethName("c0ffee".padEnd(64, "0"));
  equal(name, "vethc0ffee00000");
  equal(name.length, 15);
  equal(vethName("0123456789abcdef".repeat(4)), "veth0123456789a");
});
