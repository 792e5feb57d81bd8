import { deepEqual, equal, ok } from "node:assert/strict";

import {
  clash,
  formatPortLines,
  formatPorts,
  parseExposed,
  parsePublish,
  type PortMapping,
  publishAll,
} from "./ports.ts";
import { throwsInvalid } from "../testing/errors.ts";

const map = (hostIp: string, hostPort: number, containerPort: number, protocol: "tcp" | "udp" = "tcp") => ({
  hostIp,
  hostPort,
  containerPort,
  protocol,
});

Deno.test("parsePublish: a container port alone gets a host port chosen later (0) on every address", () => {
  deepEqual(parsePublish("80"), [map("", 0, 80)]);
});

Deno.test("parsePublish: hostPort:containerPort", () => {
  deepEqual(parsePublish("8080:80"), [map("", 8080, 80)]);
});

Deno.test("parsePublish: hostIP:hostPort:containerPort", () => {
  deepEqual(parsePublish("127.0.0.1:8080:80"), [map("127.0.0.1", 8080, 80)]);
});

Deno.test("parsePublish: hostIP::containerPort leaves the host port to choose", () => {
  deepEqual(parsePublish("127.0.0.1::80"), [map("127.0.0.1", 0, 80)]);
});

Deno.test("parsePublish: the protocol suffix", () => {
  deepEqual(parsePublish("53:53/udp"), [map("", 53, 53, "udp")]);
  deepEqual(parsePublish("8080:80/tcp"), [map("", 8080, 80, "tcp")]);
  deepEqual(parsePublish("127.0.0.1:5353:53/udp"), [map("127.0.0.1", 5353, 53, "udp")]);
});

Deno.test("parsePublish: ranges expand pairwise", () => {
  deepEqual(parsePublish("8000-8001:80-81"), [map("", 8000, 80), map("", 8001, 81)]);
  deepEqual(parsePublish("7000-7002"), [map("", 0, 7000), map("", 0, 7001), map("", 0, 7002)]);
  deepEqual(parsePublish("10.0.0.1::90-91/udp"), [
    map("10.0.0.1", 0, 90, "udp"),
    map("10.0.0.1", 0, 91, "udp"),
  ]);
  deepEqual(parsePublish("65535:65535"), [map("", 65535, 65535)]);
});

Deno.test("parsePublish: ranges of different sizes are refused", () => {
  throwsInvalid(() => parsePublish("8000-8002:80-81"), "8000-8002:80-81", "differ in size");
  throwsInvalid(() => parsePublish("8000:80-81"), "differ in size");
});

Deno.test("parsePublish: a protocol other than tcp or udp is refused", () => {
  throwsInvalid(() => parsePublish("80/sctp"), `"sctp"`, "tcp or udp");
  throwsInvalid(() => parsePublish("8080:80/TCP"), `"TCP"`);
  throwsInvalid(() => parsePublish("80/"), "tcp or udp");
});

Deno.test("parsePublish: ports outside 1-65535 and reversed ranges are refused", () => {
  throwsInvalid(() => parsePublish("0"), `invalid port "0"`, "1-65535");
  throwsInvalid(() => parsePublish("70000"), `invalid port "70000"`);
  throwsInvalid(() => parsePublish("70000:80"), `invalid port "70000"`);
  throwsInvalid(() => parsePublish("0:80"), `invalid port "0"`);
  throwsInvalid(() => parsePublish("8080:65536"), `invalid port "65536"`);
  throwsInvalid(() => parsePublish("81-80"), `invalid port "81-80"`);
  throwsInvalid(() => parsePublish("http"), `invalid port "http"`);
});

Deno.test("parsePublish: a host address that is not IPv4 is refused", () => {
  throwsInvalid(() => parsePublish("localhost:8080:80"), `invalid host address "localhost"`);
  throwsInvalid(() => parsePublish("256.0.0.1:8080:80"), `"256.0.0.1"`);
  throwsInvalid(() => parsePublish("1.2.3:8080:80"), `"1.2.3"`);
});

Deno.test("parsePublish: too many colons or an empty container port are refused", () => {
  throwsInvalid(
    () => parsePublish("1.2.3.4:1:2:3"),
    "invalid port mapping",
    "[hostIP:][hostPort:]containerPort",
  );
  throwsInvalid(() => parsePublish("::1:8080:80"), "invalid port mapping");
  throwsInvalid(() => parsePublish("8080:"), "invalid port mapping");
  throwsInvalid(() => parsePublish(""), "invalid port mapping");
});

Deno.test("parseExposed: a port or a range, tcp by default", () => {
  deepEqual(parseExposed("80"), [{ port: 80, protocol: "tcp" }]);
  deepEqual(parseExposed("80/tcp"), [{ port: 80, protocol: "tcp" }]);
  deepEqual(parseExposed("53/udp"), [{ port: 53, protocol: "udp" }]);
  deepEqual(parseExposed("8000-8002/tcp").map((p) => p.port), [8000, 8001, 8002]);
  throwsInvalid(() => parseExposed("80/icmp"), `"icmp"`, "exposed port");
  throwsInvalid(() => parseExposed("0"), `invalid port "0"`);
  throwsInvalid(() => parseExposed("x/tcp"), `invalid port "x"`);
});

Deno.test("publishAll: every exposed port not already published, to host port 0", () => {
  const published = parsePublish("8080:80");
  deepEqual(publishAll(["80/tcp", "443/tcp", "53/udp"], published), [
    map("", 0, 443),
    map("", 0, 53, "udp"),
  ]);
});

Deno.test("publishAll: the protocol tells ports apart, and duplicates are published once", () => {
  const published = parsePublish("53:53/udp");
  deepEqual(publishAll(["53/tcp", "53/udp", "53", "8000-8001/tcp", "8001/tcp"], published), [
    map("", 0, 53),
    map("", 0, 8000),
    map("", 0, 8001),
  ]);
  deepEqual(publishAll([], published), []);
});

Deno.test("clash: the same host port and protocol on overlapping addresses", () => {
  ok(clash(map("", 8080, 80), map("", 8080, 81)), "both on every address");
  ok(clash(map("", 8080, 80), map("127.0.0.1", 8080, 80)), "every address holds 127.0.0.1");
  ok(clash(map("127.0.0.1", 8080, 80), map("", 8080, 80)));
  ok(clash(map("127.0.0.1", 8080, 80), map("127.0.0.1", 8080, 90)));
});

Deno.test("clash: another port, protocol or specific address does not clash", () => {
  ok(!clash(map("", 8080, 80), map("", 8081, 80)));
  ok(!clash(map("", 53, 53, "tcp"), map("", 53, 53, "udp")));
  ok(!clash(map("127.0.0.1", 8080, 80), map("10.0.0.1", 8080, 80)));
});

Deno.test("formatPorts: docker ps's PORTS column", () => {
  const ports: PortMapping[] = [map("", 8080, 80), map("127.0.0.1", 5353, 53, "udp")];
  equal(formatPorts(ports), "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp");
  equal(formatPorts([]), "");
});

Deno.test("formatPortLines: docker port's lines", () => {
  const ports: PortMapping[] = [map("", 8080, 80), map("127.0.0.1", 5353, 53, "udp")];
  deepEqual(formatPortLines(ports), ["80/tcp -> 0.0.0.0:8080", "53/udp -> 127.0.0.1:5353"]);
});

Deno.test("parsePublish: 0.0.0.0 is every address of the host, as an empty host address is", () => {
  const [all] = parsePublish("0.0.0.0:8080:80");
  ok(clash(all, parsePublish("127.0.0.1:8080:80")[0]), "0.0.0.0:8080 holds 127.0.0.1:8080 too");
  ok(clash(all, parsePublish("8080:80")[0]));
  equal(formatPorts([all]), "0.0.0.0:8080->80/tcp");
});
