import { deepEqual, equal } from "node:assert/strict";
import { throwsInvalid } from "../testing/errors.ts";
import { bridgeCommands, checkGateway, defaultGateway } from "./bridge.ts";

Deno.test("defaultGateway: the subnet's first address", () => {
  equal(defaultGateway("10.88.0.0/16"), "10.88.0.1");
  equal(defaultGateway("192.168.7.0/24"), "192.168.7.1");
});

Deno.test("checkGateway: inside the subnet, not its first (network) or last (broadcast) address", () => {
  checkGateway("10.89.0.0/24", "10.89.0.1");
  checkGateway("10.89.0.0/24", "10.89.0.254");
  for (const bad of ["10.89.0.0", "10.89.0.255", "10.89.1.1", "10.89.0", "gateway"]) {
    throwsInvalid(() => checkGateway("10.89.0.0/24", bad), `invalid gateway "${bad}"`, "inside 10.89.0.0/24");
  }
});

Deno.test("bridgeCommands: the bridge with its MTU, the gateway with the subnet's prefix, up", () => {
  deepEqual(
    bridgeCommands({
      name: "front",
      id: "ab".repeat(32),
      driver: "bridge",
      subnet: "10.89.3.0/24",
      gateway: "10.89.3.1",
      bridge: "husk-abababab",
      mtu: 1400,
      created: "2026-01-01T00:00:00Z",
    }),
    [
      "link add husk-abababab mtu 1400 type bridge",
      "addr add 10.89.3.1/24 dev husk-abababab",
      "link set husk-abababab up",
    ],
  );
});
