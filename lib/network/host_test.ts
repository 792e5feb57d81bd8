import { deepEqual, equal } from "node:assert/strict";
import { formatSubnet } from "./address.ts";
import { parseBoundPorts, parseInterfaces, parseRoutes } from "./host.ts";

const pad = (line: string) => line.padEnd(128, " ");

const NET_DEV = [
  "Inter-|   Receive                                                |  Transmit",
  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
  "    lo: 210368603   11330    0    0    0     0          0         0 210368603   11330    0    0    0     0       0          0",
  "  eth0: 98765432   54321    0    2    0     0          0        17  1234567    8901    0    0    0     0       0          0",
  " husk0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0",
  "vethc0ffee00000:    1460      18    0    0    0     0          0         0     2280      26    0    0    0     0       0          0",
  "",
].join("\n");

Deno.test("parseInterfaces: every interface of /proc/net/dev, headers skipped", () => {
  deepEqual(parseInterfaces(NET_DEV), ["lo", "eth0", "husk0", "vethc0ffee00000"]);
  deepEqual(parseInterfaces(NET_DEV.split("\n").slice(0, 2).join("\n") + "\n"), []);
});

/** /proc/net/route: tab-separated, hex addresses in the kernel's (little-endian) byte order, padded lines. */
const NET_ROUTE = [
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
  "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
  "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0",
  "husk0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
  "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
  "tun0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0",
  "wg0\t0A0A10AC\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0",
  "eth1\t0400000A\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0",
].map(pad).join("\n") + "\n";

Deno.test("parseRoutes: destinations and masks decoded from little-endian hex", () => {
  const routes = parseRoutes(NET_ROUTE);
  deepEqual(routes.map((r) => `${formatSubnet(r.subnet)} dev ${r.iface}`), [
    "0.0.0.0/0 dev eth0",
    "192.168.1.0/24 dev eth0",
    "10.88.0.0/16 dev husk0",
    "172.17.0.0/16 dev docker0",
    "10.0.0.0/8 dev tun0",
    "172.16.10.10/32 dev wg0",
    "10.0.0.4/30 dev eth1",
  ]);
  equal(routes[3].subnet.address, 0xac110000, "an unsigned number above 128.0.0.0");
  equal(routes[0].subnet.prefix, 0);
});

Deno.test("parseRoutes: a table with only its header has no routes", () => {
  deepEqual(parseRoutes(pad(NET_ROUTE.split("\n")[0]) + "\n"), []);
});

const TCP = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0",
  "   1: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 23456 1 0000000000000000 100 0 0 10 5",
  "   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 34567 1 0000000000000000 100 0 0 10 0",
  "   3: 0F02000A:0016 0202000A:C350 01 00000000:00000000 02:000A7B0E 00000000     0        0 45678 4 0000000000000000 20 4 31 10 -1",
  "   4: 0100007F:9B61 0100007F:BDA4 06 00000000:00000000 03:00000EEA 00000000     0        0 0 3 0000000000000000",
].map(pad).join("\n") + "\n";

Deno.test("parseBoundPorts: listening TCP sockets only, addresses decoded", () => {
  deepEqual(parseBoundPorts(TCP, "tcp"), [
    { address: "", port: 22 },
    { address: "127.0.0.53", port: 53 },
    { address: "127.0.0.1", port: 8080 },
  ]);
});

const TCP6 = [
  "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0",
  "   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12347 1 0000000000000000 100 0 0 10 0",
  "   2: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12348 1 0000000000000000 100 0 0 10 0",
  "   3: 0000000000000000FFFF00000F02000A:0050 0000000000000000FFFF00000202000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 12349 1 0000000000000000 20 4 30 10 -1",
  "   4: B80D0120000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12350 1 0000000000000000 100 0 0 10 0",
].map(pad).join("\n") + "\n";

Deno.test("parseBoundPorts: IPv6 sockets on :: or a v4-mapped address hold the IPv4 port", () => {
  deepEqual(parseBoundPorts(TCP6, "tcp"), [
    { address: "", port: 22 },
    { address: "127.0.0.1", port: 8081 },
  ]);
});

const UDP = [
  "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
  "  345: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 23457 2 0000000000000000 0",
  "  360: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 23458 2 0000000000000000 0",
  "  400: 0F02000A:B2B4 08080808:0035 01 00000000:00000000 00:00000000 00000000  1000        0 23459 2 0000000000000000 0",
].map(pad).join("\n") + "\n";

Deno.test("parseBoundPorts: every UDP socket is bound, whatever its state", () => {
  deepEqual(parseBoundPorts(UDP, "udp"), [
    { address: "127.0.0.53", port: 53 },
    { address: "", port: 68 },
    { address: "10.0.2.15", port: 45748 },
  ]);
  deepEqual(parseBoundPorts(UDP.split("\n")[0] + "\n", "udp"), []);
});

const UDP6 = [
  "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
  " 1021: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   107        0 20001 2 0000000000000000 0",
  " 1022: 000080FE00000000FF0F01A0FFFE2A00:0222 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 20002 2 0000000000000000 0",
].map(pad).join("\n") + "\n";

Deno.test("parseBoundPorts: UDP over IPv6, a link-local address of its own does not count", () => {
  deepEqual(parseBoundPorts(UDP6, "udp"), [{ address: "", port: 5353 }]);
});
