import { deepEqual, equal, ok } from "node:assert/strict";

import {
  DEFAULT_SERVERS,
  type DnsOptions,
  type HostsEntries,
  hostsFile,
  parseExtraHost,
  resolvConf,
  validateServers,
} from "./dns.ts";
import { throwsInvalid } from "../testing/errors.ts";

const NO_DNS: DnsOptions = { servers: [], search: [], options: [] };

/** systemd-resolved's stub file, as on Ubuntu. */
const STUB = `# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
# Do not edit.
nameserver 127.0.0.53
options edns0 trust-ad
search lan example.com
`;

/** systemd-resolved's list of the real servers. */
const UPSTREAM = `# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).
nameserver 192.168.1.1
nameserver 1.1.1.1
search lan
`;

const lines = (text: string) => text.split("\n");
const servers = (text: string) => lines(text).filter((l) => l.startsWith("nameserver "));

Deno.test("resolvConf: the host's reachable servers, search and options are kept", () => {
  const host = "search corp.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions ndots:2 timeout:1\n";
  equal(
    resolvConf(host, null, NO_DNS),
    "search corp.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions ndots:2 timeout:1\n",
  );
});

Deno.test("resolvConf: loopback servers are dropped, the others kept", () => {
  const host = "nameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nnameserver 127.0.1.1\n";
  deepEqual(servers(resolvConf(host, UPSTREAM, NO_DNS)), ["nameserver 10.0.0.2"]);
});

Deno.test("resolvConf: systemd-resolved's upstream servers when the host names only its stub", () => {
  const out = resolvConf(STUB, UPSTREAM, NO_DNS);
  deepEqual(servers(out), ["nameserver 192.168.1.1", "nameserver 1.1.1.1"]);
  ok(!out.includes("127.0.0.53"));
  // Search and options still come from the host's own file.
  ok(lines(out).includes("search lan example.com"), out);
  ok(lines(out).includes("options edns0 trust-ad"), out);
});

Deno.test("resolvConf: 8.8.8.8 and 8.8.4.4 without a reachable server", () => {
  deepEqual(DEFAULT_SERVERS, ["8.8.8.8", "8.8.4.4"]);
  const fallback = ["nameserver 8.8.8.8", "nameserver 8.8.4.4"];
  deepEqual(servers(resolvConf(STUB, null, NO_DNS)), fallback);
  deepEqual(servers(resolvConf(STUB, "nameserver 127.0.0.1\n", NO_DNS)), fallback);
  deepEqual(servers(resolvConf("", null, NO_DNS)), fallback);
  equal(resolvConf("", null, NO_DNS), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
});

Deno.test("resolvConf: --dns, --dns-search and --dns-option replace the host's", () => {
  const out = resolvConf(STUB, UPSTREAM, {
    servers: ["9.9.9.9"],
    search: ["a.test", "b.test"],
    options: ["ndots:5"],
  });
  equal(out, "search a.test b.test\nnameserver 9.9.9.9\noptions ndots:5\n");
});

Deno.test("resolvConf: --dns alone keeps the host's search and options", () => {
  const out = resolvConf(STUB, UPSTREAM, { ...NO_DNS, servers: ["9.9.9.9"] });
  deepEqual(servers(out), ["nameserver 9.9.9.9"]);
  ok(lines(out).includes("search lan example.com"));
  ok(lines(out).includes("options edns0 trust-ad"));
});

Deno.test("resolvConf: --dns-search alone keeps the host's servers", () => {
  const out = resolvConf("nameserver 10.0.0.2\nsearch old.test\n", null, { ...NO_DNS, search: ["new.test"] });
  equal(out, "search new.test\nnameserver 10.0.0.2\n");
});

Deno.test("resolvConf: the last search or domain line wins, options accumulate", () => {
  const host =
    "domain first.test\nsearch second.test\nnameserver 10.0.0.2\noptions ndots:1\noptions rotate\n";
  const out = resolvConf(host, null, NO_DNS);
  ok(lines(out).includes("search second.test"), out);
  ok(lines(out).includes("options ndots:1 rotate"), out);
});

Deno.test("validateServers: IPv4 addresses pass, anything else is refused", () => {
  validateServers([]);
  validateServers(["8.8.8.8", "192.168.1.1"]);
  throwsInvalid(() => validateServers(["8.8.8.8", "dns.google"]), `--dns "dns.google"`);
  throwsInvalid(() => validateServers(["1.2.3"]), `"1.2.3"`);
  throwsInvalid(() => validateServers(["256.1.1.1"]), `"256.1.1.1"`);
});

Deno.test("parseExtraHost: NAME:IP and NAME=IP", () => {
  deepEqual(parseExtraHost("db:10.0.0.5"), { host: "db", address: "10.0.0.5" });
  deepEqual(parseExtraHost("db=10.0.0.5"), { host: "db", address: "10.0.0.5" });
  deepEqual(parseExtraHost("my-host.example.com:192.168.1.9"), {
    host: "my-host.example.com",
    address: "192.168.1.9",
  });
});

Deno.test("parseExtraHost: host-gateway stands for the network's gateway", () => {
  deepEqual(parseExtraHost("host.docker.internal:host-gateway"), {
    host: "host.docker.internal",
    address: "host-gateway",
  });
  deepEqual(parseExtraHost("gw=host-gateway"), { host: "gw", address: "host-gateway" });
});

Deno.test("parseExtraHost: malformed entries are refused", () => {
  for (
    const bad of [
      "db",
      ":10.0.0.5",
      "=10.0.0.5",
      "db:",
      "db:not-an-ip",
      "db:1.2.3",
      "bad name:1.2.3.4",
      "-db:1.2.3.4",
    ]
  ) {
    throwsInvalid(() => parseExtraHost(bad), `--add-host "${bad}"`, "NAME:IP");
  }
});

const ENTRIES: HostsEntries = {
  hostname: "c0ffee000000",
  name: "web",
  address: "10.88.0.2",
  gateway: "10.88.0.1",
  extraHosts: [],
  peers: [],
};

Deno.test("hostsFile: localhost lines, then the container's own line", () => {
  const out = lines(hostsFile(ENTRIES));
  equal(out[0], "127.0.0.1\tlocalhost");
  equal(out[1], "::1\tlocalhost ip6-localhost ip6-loopback");
  ok(out.includes("ff02::2\tip6-allrouters"));
  ok(out.includes("10.88.0.2\tc0ffee000000 web"));
  equal(out.at(-1), "", "ends with a newline");
});

Deno.test("hostsFile: the name is not repeated when it is the hostname", () => {
  const out = lines(hostsFile({ ...ENTRIES, hostname: "web" }));
  ok(out.includes("10.88.0.2\tweb"));
  ok(!out.some((l) => l.includes("web web")));
});

Deno.test("hostsFile: 127.0.1.1 names the container without an address", () => {
  const out = lines(hostsFile({ ...ENTRIES, address: null, gateway: null }));
  ok(out.includes("127.0.1.1\tc0ffee000000 web"));
  ok(!out.some((l) => l.startsWith("10.88.0.2")));
});

Deno.test("hostsFile: extra hosts, host-gateway resolved to the gateway", () => {
  const out = lines(hostsFile({
    ...ENTRIES,
    extraHosts: [{ host: "db", address: "10.0.0.5" }, {
      host: "host.docker.internal",
      address: "host-gateway",
    }],
  }));
  ok(out.includes("10.0.0.5\tdb"));
  ok(out.includes("10.88.0.1\thost.docker.internal"));
  ok(!out.some((l) => l.includes("host-gateway")));
});

Deno.test("hostsFile: host-gateway without a gateway is refused", () => {
  throwsInvalid(
    () => hostsFile({ ...ENTRIES, gateway: null, extraHosts: [{ host: "gw", address: "host-gateway" }] }),
    "--add-host gw:host-gateway",
    "bridge network",
  );
});

Deno.test("hostsFile: peers on the network are listed by name", () => {
  const out = lines(hostsFile({
    ...ENTRIES,
    peers: [{ name: "db", address: "10.88.0.3" }, { name: "cache", address: "10.88.0.4" }],
  }));
  const own = out.indexOf("10.88.0.2\tc0ffee000000 web");
  ok(own >= 0);
  equal(out[own + 1], "10.88.0.3\tdb");
  equal(out[own + 2], "10.88.0.4\tcache");
});

Deno.test("resolvConf: IPv6 servers are dropped, as a container has IPv4 only", () => {
  const host = "nameserver 2001:4860:4860::8888\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\n";
  deepEqual(servers(resolvConf(host, null, NO_DNS)), ["nameserver 10.0.0.2"]);
  deepEqual(servers(resolvConf("nameserver 2606:4700:4700::1111\n", null, NO_DNS)), [
    "nameserver 8.8.8.8",
    "nameserver 8.8.4.4",
  ]);
  deepEqual(servers(resolvConf(STUB, "nameserver 2606:4700:4700::1111\nnameserver 1.1.1.1\n", NO_DNS)), [
    "nameserver 1.1.1.1",
  ]);
});
