import { deepEqual, equal, throws } from "node:assert/strict";
import { StateError } from "../errors.ts";
import { buildNetwork } from "./network.ts";
import { defaultRunOptions, type RunOptions } from "./options.ts";
import { testConfig, testContext } from "./testing.ts";
import type { NetworkConfig } from "./types.ts";
import { throwsInvalid } from "../testing/errors.ts";

const WEB_ID = "c0ffee".padEnd(64, "0");

function build(options: Partial<RunOptions> = {}): NetworkConfig {
  return buildNetwork({ ...defaultRunOptions(), ...options }, testContext().resolveContainer);
}

const P = (hostIp: string, hostPort: number, containerPort: number, protocol: "tcp" | "udp" = "tcp") => ({
  hostIp,
  hostPort,
  containerPort,
  protocol,
});

Deno.test("buildNetwork: by default a bridge on the default network, nothing published", () => {
  deepEqual(build(), {
    mode: "bridge",
    network: "bridge",
    container: null,
    ports: [],
    exposedPorts: [],
    dns: { servers: [], search: [], options: [] },
    extraHosts: [],
  });
});

Deno.test("buildNetwork: --network default is the default network, as with Docker", () => {
  equal(build({ network: "default" }).network, "bridge");
  equal(build({ network: "default" }).mode, "bridge");
});

Deno.test("buildNetwork: the config of a container carries it", () => {
  const config = testConfig("/r", "/state/c", { network: "backend", publish: ["8080:80"] });
  equal(config.network.mode, "bridge");
  equal(config.network.network, "backend");
  deepEqual(config.network.ports, [P("", 8080, 80)]);
});

Deno.test("buildNetwork: a user-defined network by name", () => {
  const n = build({ network: "my-net_1.x" });
  equal(n.mode, "bridge");
  equal(n.network, "my-net_1.x");
  equal(n.container, null);
});

Deno.test("buildNetwork: none and host modes have no network name", () => {
  for (const mode of ["none", "host"] as const) {
    const n = build({ network: mode });
    equal(n.mode, mode);
    equal(n.network, null);
    equal(n.container, null);
  }
});

Deno.test("buildNetwork: container:NAME and container:ID resolve to the full ID", () => {
  for (const ref of ["web", "c0ffee", WEB_ID]) {
    const n = build({ network: `container:${ref}` });
    equal(n.mode, "container");
    equal(n.container, WEB_ID, ref);
    equal(n.network, null);
  }
});

Deno.test("buildNetwork: container: needs a container, and one that exists", () => {
  throwsInvalid(() => build({ network: "container:" }), `"container:"`, "container:NAME");
  throws(() => build({ network: "container:nope" }), StateError);
});

Deno.test("buildNetwork: published ports conflict with none, host and container modes", () => {
  for (const network of ["none", "host", "container:web"]) {
    throwsInvalid(() => build({ network, publish: ["8080:80"] }), "conflicting options", network);
    throwsInvalid(() => build({ network, publishAll: true, expose: ["80"] }), "conflicting options");
  }
});

Deno.test("buildNetwork: -P without exposed ports is fine with host mode", () => {
  equal(build({ network: "host", publishAll: true }).mode, "host");
});

Deno.test("buildNetwork: DNS options and extra hosts conflict with the container mode", () => {
  throwsInvalid(() => build({ network: "container:web", dns: ["1.1.1.1"] }), "conflicting options", "--dns");
  throwsInvalid(() => build({ network: "container:web", dnsSearch: ["example.com"] }), "conflicting options");
  throwsInvalid(() => build({ network: "container:web", dnsOption: ["ndots:2"] }), "conflicting options");
  throwsInvalid(() => build({ network: "container:web", addHost: ["db:10.0.0.5"] }), "--add-host");
});

Deno.test("buildNetwork: names that are not network names are refused", () => {
  for (const bad of ["bad name!", "-net", "a/b", ""]) {
    throwsInvalid(() => build({ network: bad }), `invalid --network "${bad}"`);
  }
});

Deno.test("buildNetwork: -p values are parsed and ranges expanded", () => {
  const n = build({ publish: ["8080:80", "127.0.0.1:5353:53/udp", "9000-9001:90-91"] });
  deepEqual(n.ports, [
    P("", 8080, 80),
    P("127.0.0.1", 5353, 53, "udp"),
    P("", 9000, 90),
    P("", 9001, 91),
  ]);
  throwsInvalid(() => build({ publish: ["80/sctp"] }), "sctp");
});

Deno.test("buildNetwork: --expose values are checked and normalised with their protocol", () => {
  deepEqual(build({ expose: ["80", "53/udp", "8000-8001"] }).exposedPorts, [
    "80/tcp",
    "53/udp",
    "8000-8001/tcp",
  ]);
  deepEqual(build({ expose: ["80"] }).ports, [], "exposing publishes nothing without -P");
  throwsInvalid(() => build({ expose: ["http"] }), `"http"`);
  throwsInvalid(() => build({ expose: ["80/icmp"] }), `"icmp"`);
});

Deno.test("buildNetwork: -P publishes the exposed ports not already published, to host port 0", () => {
  const n = build({ publishAll: true, expose: ["80", "443", "53/udp"], publish: ["8080:80"] });
  deepEqual(n.ports, [P("", 8080, 80), P("", 0, 443), P("", 0, 53, "udp")]);
});

Deno.test("buildNetwork: --dns, --dns-search, --dns-option and --add-host are kept", () => {
  const n = build({
    dns: ["1.1.1.1"],
    dnsSearch: ["example.com"],
    dnsOption: ["ndots:2"],
    addHost: ["db:10.0.0.5", "gw=host-gateway"],
  });
  deepEqual(n.dns, { servers: ["1.1.1.1"], search: ["example.com"], options: ["ndots:2"] });
  deepEqual(n.extraHosts, [{ host: "db", address: "10.0.0.5" }, { host: "gw", address: "host-gateway" }]);
});

Deno.test("buildNetwork: a --dns that is not an address and a bad --add-host are refused", () => {
  throwsInvalid(() => build({ dns: ["dns.google"] }), `--dns "dns.google"`);
  throwsInvalid(() => build({ addHost: ["db"] }), `--add-host "db"`);
});

Deno.test("buildConfig: --network container: with a user namespace is refused", () => {
  throwsInvalid(
    () => testConfig("/images/alpine", "/state/c", { network: "container:web", userns: "remap" }),
    "conflicting options",
    "--userns=remap",
  );
});
