import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { NetworkError } from "../errors.ts";
import type { BoundPort } from "./host.ts";
import { EPHEMERAL_PORTS } from "./ipam.ts";
import { newLease, vethCommands } from "./leases.ts";
import { parsePublish, type PortMapping } from "./ports.ts";
import type { Lease, Leases, NetworkRecord } from "./store.ts";

const NET: NetworkRecord = {
  name: "bridge",
  id: "ab".repeat(32),
  driver: "bridge",
  subnet: "10.88.0.0/16",
  gateway: "10.88.0.1",
  bridge: "husk0",
  mtu: 1500,
  created: "2024-01-01T00:00:00Z",
  firewall: "nft",
};

const OTHER_NET: NetworkRecord = {
  ...NET,
  name: "backend",
  subnet: "10.89.0.0/24",
  gateway: "10.89.0.1",
  bridge: "huskbackend",
};

const ID = "c0ffee".padEnd(64, "0");

const P = (hostIp: string, hostPort: number, containerPort: number, protocol: "tcp" | "udp" = "tcp") => ({
  hostIp,
  hostPort,
  containerPort,
  protocol,
});

function lease(container: string, network: NetworkRecord, address: string, ports: PortMapping[] = []): Lease {
  return {
    container,
    name: container.slice(0, 4),
    network: network.name,
    address,
    prefix: Number(network.subnet.split("/")[1]),
    gateway: network.gateway,
    bridge: network.bridge,
    veth: `veth${container.slice(0, 11)}`,
    mtu: network.mtu,
    firewall: network.firewall ?? null,
    ports,
  };
}

const nothingBound = () => [];
const boundOnly = (tcp: BoundPort[], udp: BoundPort[] = []) => (protocol: "tcp" | "udp") =>
  protocol === "tcp" ? tcp : udp;

function throwsAllocated(fn: () => unknown, ...parts: string[]): void {
  throws(fn, (e: unknown) => {
    ok(e instanceof NetworkError, `expected NetworkError, got ${e}`);
    ok(e.message.includes("port is already allocated"), e.message);
    for (const p of parts) ok(e.message.includes(p), `message ${JSON.stringify(e.message)} lacks ${p}`);
    return true;
  });
}

Deno.test("newLease: the first container gets the address after the gateway and the network's details", () => {
  const l = newLease(NET, { container: ID, name: "web", ports: [] }, {}, nothingBound);
  deepEqual(l, {
    container: ID,
    name: "web",
    network: "bridge",
    address: "10.88.0.2",
    prefix: 16,
    gateway: "10.88.0.1",
    bridge: "husk0",
    veth: "vethc0ffee00000",
    mtu: 1500,
    firewall: "nft",
    ports: [],
  });
});

Deno.test("newLease: the lowest free address, reusing a gap", () => {
  const leases: Leases = {
    a: lease("a".repeat(64), NET, "10.88.0.2"),
    b: lease("b".repeat(64), NET, "10.88.0.4"),
  };
  equal(newLease(NET, { container: ID, name: "web", ports: [] }, leases, nothingBound).address, "10.88.0.3");
});

Deno.test("newLease: addresses leased on other networks do not count", () => {
  const leases: Leases = {
    a: lease("a".repeat(64), OTHER_NET, "10.88.0.2"), // a (stale) lease that happens to name the address
    b: lease("b".repeat(64), OTHER_NET, "10.89.0.2"),
  };
  equal(newLease(NET, { container: ID, name: "web", ports: [] }, leases, nothingBound).address, "10.88.0.2");
  const onOther = newLease(OTHER_NET, { container: ID, name: "web", ports: [] }, leases, nothingBound);
  equal(onOther.address, "10.89.0.3");
  equal(onOther.network, "backend");
  equal(onOther.prefix, 24);
  equal(onOther.bridge, "huskbackend");
});

Deno.test("newLease: explicit host ports are kept", () => {
  const ports = [P("", 8080, 80), P("127.0.0.1", 5353, 53, "udp")];
  deepEqual(newLease(NET, { container: ID, name: "web", ports }, {}, nothingBound).ports, ports);
});

Deno.test("newLease: a host port another container publishes is refused", () => {
  const leases: Leases = { a: lease("a".repeat(64), OTHER_NET, "10.89.0.2", [P("", 8080, 80)]) };
  throwsAllocated(
    () => newLease(NET, { container: ID, name: "web", ports: [P("", 8080, 80)] }, leases, nothingBound),
    "0.0.0.0:8080",
  );
  throwsAllocated(
    () =>
      newLease(NET, { container: ID, name: "web", ports: [P("127.0.0.1", 8080, 81)] }, leases, nothingBound),
    "127.0.0.1:8080",
  );
  // Another protocol is another port.
  deepEqual(
    newLease(NET, { container: ID, name: "web", ports: [P("", 8080, 80, "udp")] }, leases, nothingBound)
      .ports,
    [P("", 8080, 80, "udp")],
  );
});

Deno.test("newLease: the same host port twice in one request is refused", () => {
  throwsAllocated(
    () =>
      newLease(
        NET,
        { container: ID, name: "web", ports: [P("", 8080, 80), P("", 8080, 81)] },
        {},
        nothingBound,
      ),
    "8080",
  );
});

Deno.test("newLease: a host socket bound on every address or the same address holds the port", () => {
  const req = (hostIp: string) => ({ container: ID, name: "web", ports: [P(hostIp, 8080, 80)] });
  throwsAllocated(() => newLease(NET, req(""), {}, boundOnly([{ address: "", port: 8080 }])));
  throwsAllocated(() => newLease(NET, req("127.0.0.1"), {}, boundOnly([{ address: "", port: 8080 }])));
  throwsAllocated(() => newLease(NET, req(""), {}, boundOnly([{ address: "127.0.0.1", port: 8080 }])));
  throwsAllocated(() =>
    newLease(NET, req("127.0.0.1"), {}, boundOnly([{ address: "127.0.0.1", port: 8080 }]))
  );
});

Deno.test("newLease: a socket on another specific address, port or protocol does not hold the port", () => {
  const req = { container: ID, name: "web", ports: [P("127.0.0.1", 8080, 80)] };
  deepEqual(newLease(NET, req, {}, boundOnly([{ address: "192.168.1.5", port: 8080 }])).ports, req.ports);
  deepEqual(newLease(NET, req, {}, boundOnly([{ address: "", port: 8081 }])).ports, req.ports);
  deepEqual(newLease(NET, req, {}, boundOnly([], [{ address: "", port: 8080 }])).ports, req.ports);
});

Deno.test("newLease: a port of 0 becomes the first free ephemeral port from start", () => {
  const req = { container: ID, name: "web", ports: [P("", 0, 80)] };
  deepEqual(newLease(NET, req, {}, nothingBound).ports, [P("", EPHEMERAL_PORTS.first, 80)]);
  deepEqual(newLease(NET, req, {}, nothingBound, 40000).ports, [P("", 40000, 80)]);
});

Deno.test("newLease: ephemeral ports skip published and bound ones", () => {
  const leases: Leases = { a: lease("a".repeat(64), NET, "10.88.0.2", [P("", 40000, 80)]) };
  const bound = boundOnly([{ address: "", port: 40001 }]);
  const got = newLease(NET, { container: ID, name: "web", ports: [P("", 0, 80)] }, leases, bound, 40000);
  deepEqual(got.ports, [P("", 40002, 80)]);
});

Deno.test("newLease: two port-0 mappings in one request get distinct ports", () => {
  const req = { container: ID, name: "web", ports: [P("", 0, 80), P("", 0, 443)] };
  const ports = newLease(NET, req, {}, nothingBound, 50000).ports;
  deepEqual(ports.map((p) => p.hostPort), [50000, 50001]);
  deepEqual(ports.map((p) => p.containerPort), [80, 443]);
});

Deno.test("newLease: the ephemeral search wraps around to the range's start", () => {
  const req = { container: ID, name: "web", ports: [P("", 0, 80)] };
  const bound = boundOnly([{ address: "", port: EPHEMERAL_PORTS.last }]);
  deepEqual(newLease(NET, req, {}, bound, EPHEMERAL_PORTS.last).ports, [P("", EPHEMERAL_PORTS.first, 80)]);
});

Deno.test("vethCommands: the pair is made with eth0 in the container's namespace, then put on the bridge", () => {
  const l = newLease(NET, { container: ID, name: "web", ports: [] }, {}, nothingBound);
  deepEqual(vethCommands({ ...l, mtu: 1400 }, 4242), [
    "link add vethc0ffee00000 mtu 1400 type veth peer name eth0 mtu 1400 netns 4242",
    "link set vethc0ffee00000 master husk0 up",
  ]);
});

Deno.test("newLease: a port published on 0.0.0.0 is held by a socket on any one address", () => {
  const req = { container: ID, name: "web", ports: parsePublish("0.0.0.0:8080:80") };
  throwsAllocated(() => newLease(NET, req, {}, boundOnly([{ address: "127.0.0.1", port: 8080 }])));
  const leases: Leases = { a: lease("a".repeat(64), NET, "10.88.0.2", parsePublish("127.0.0.1:8080:80")) };
  throwsAllocated(() => newLease(NET, req, leases, nothingBound));
});

Deno.test("newLease: the host's sockets are read once per protocol, and not at all without ports", () => {
  const reads: string[] = [];
  const taken = Array.from({ length: 40 }, (_, i) => ({ address: "", port: 32768 + i }));
  const counting = (protocol: "tcp" | "udp") => {
    reads.push(protocol);
    return protocol === "tcp" ? taken : [];
  };
  const zero = (protocol: "tcp" | "udp") => ({ hostIp: "", hostPort: 0, containerPort: 80, protocol });
  const lease = newLease(
    NET,
    { container: ID, name: "web", ports: [zero("tcp"), zero("tcp"), zero("udp")] },
    {},
    counting,
  );
  deepEqual(lease.ports.map((p) => p.hostPort), [32808, 32809, 32768]);
  deepEqual(reads, ["tcp", "udp"]);
  reads.length = 0;
  newLease(NET, { container: ID, name: "web", ports: [] }, {}, counting);
  deepEqual(reads, []);
});
