import { deepEqual, equal, ok } from "node:assert/strict";
import { type Arg, Named } from "../../ffi/spawn.ts";
import { parseAddress } from "../network/address.ts";
import { interfaceSteps, joinNetworkSteps, loopbackSteps } from "./network.ts";
import type { Step } from "./plan.ts";

/** An argument's plain value (a Named's number). */
const value = (a: Arg) => a instanceof Named ? a.value : a;
const ip = (text: string) => parseAddress(text)!;

const ETH0 = { name: "eth0", address: ip("10.88.0.2"), prefix: 16, gateway: ip("10.88.0.1") };

const bytesOf = (step: Step) => step.args[2] as Uint8Array;
const u16le = (b: Uint8Array, offset: number) => new DataView(b.buffer, b.byteOffset).getUint16(offset, true);
const quad = (b: Uint8Array, offset: number) => [...b.subarray(offset, offset + 4)];

/** Checks a struct sockaddr_in at `offset`: AF_INET (2, little-endian), port 0, the address in network order. */
function sockaddr(b: Uint8Array, offset: number, address: number[]): void {
  equal(u16le(b, offset), 2, `sin_family at ${offset}`);
  deepEqual([...b.subarray(offset + 2, offset + 4)], [0, 0], `sin_port at ${offset + 2}`);
  deepEqual(quad(b, offset + 4), address, `sin_addr at ${offset + 4}`);
  deepEqual([...b.subarray(offset + 8, offset + 16)], new Array(8).fill(0), `sin_zero at ${offset + 8}`);
}

/** Checks the interface name at the start of a struct ifreq, NUL-padded to 16 bytes. */
function ifname(b: Uint8Array, name: string): void {
  const expected = [...new TextEncoder().encode(name)];
  deepEqual([...b.subarray(0, 16)], [...expected, ...new Array(16 - expected.length).fill(0)]);
}

Deno.test("loopbackSteps: a saved socket, SIOCSIFFLAGS on lo, then close", () => {
  const steps = loopbackSteps();
  deepEqual(steps.map((s) => s.call), ["socket", "ioctl", "close"]);
  const [socket, ioctl, close] = steps;
  deepEqual(socket.args.map(value), [2, 2 | 0o2000000, 0]);
  equal(socket.save, true);
  equal(ioctl.useSaved, true);
  equal(ioctl.args[0], null);
  equal(value(ioctl.args[1]), 0x8914);
  equal((ioctl.args[1] as Named).name, "SIOCSIFFLAGS");
  const req = bytesOf(ioctl);
  equal(req.length, 40);
  ifname(req, "lo");
  equal(u16le(req, 16), 0x1 | 0x8 | 0x40, "IFF_UP|IFF_LOOPBACK|IFF_RUNNING");
  equal(close.useSaved, true);
  deepEqual(close.args, [null]);
  ok(steps.every((s) => s.what.length > 0));
});

Deno.test("interfaceSteps: socket, address, netmask, up, default route, close, in that order", () => {
  const steps = interfaceSteps(ETH0);
  deepEqual(steps.map((s) => s.call), ["socket", "ioctl", "ioctl", "ioctl", "ioctl", "close"]);
  deepEqual(steps.slice(1, 5).map((s) => value(s.args[1])), [0x8916, 0x891c, 0x8914, 0x890b]);
  deepEqual(steps.slice(1, 5).map((s) => (s.args[1] as Named).name), [
    "SIOCSIFADDR",
    "SIOCSIFNETMASK",
    "SIOCSIFFLAGS",
    "SIOCADDRT",
  ]);
});

Deno.test("interfaceSteps: only the socket is saved; the ioctls and the close use it, close last", () => {
  const steps = interfaceSteps(ETH0);
  equal(steps[0].save, true);
  equal(steps.filter((s) => s.save).length, 1);
  for (const s of steps.slice(1)) {
    equal(s.useSaved, true, s.what);
    equal(s.args[0], null, s.what);
  }
  equal(steps.at(-1)!.call, "close");
  equal(steps.findIndex((s) => s.call === "close"), steps.length - 1);
});

Deno.test("interfaceSteps: SIOCSIFADDR's ifreq holds the name and the address in network order", () => {
  const req = bytesOf(interfaceSteps(ETH0)[1]);
  equal(req.length, 40);
  ifname(req, "eth0");
  sockaddr(req, 16, [10, 88, 0, 2]);
  deepEqual([...req.subarray(32)], new Array(8).fill(0));
});

Deno.test("interfaceSteps: the netmask of the prefix, in network order", () => {
  ifname(bytesOf(interfaceSteps(ETH0)[2]), "eth0");
  sockaddr(bytesOf(interfaceSteps(ETH0)[2]), 16, [255, 255, 0, 0]);
  sockaddr(bytesOf(interfaceSteps({ ...ETH0, prefix: 30 })[2]), 16, [255, 255, 255, 252]);
  sockaddr(bytesOf(interfaceSteps({ ...ETH0, prefix: 8 })[2]), 16, [255, 0, 0, 0]);
});

Deno.test("interfaceSteps: SIOCSIFFLAGS brings the interface up", () => {
  const req = bytesOf(interfaceSteps(ETH0)[3]);
  ifname(req, "eth0");
  equal(u16le(req, 16), 0x1, "IFF_UP");
});

Deno.test("interfaceSteps: the rtentry of the default route (x86_64 layout)", () => {
  const rt = bytesOf(
    interfaceSteps({ ...ETH0, address: ip("192.168.50.7"), gateway: ip("192.168.50.254") })[4],
  );
  equal(rt.length, 120);
  deepEqual([...rt.subarray(0, 8)], new Array(8).fill(0), "rt_pad1");
  sockaddr(rt, 8, [0, 0, 0, 0]); // rt_dst
  sockaddr(rt, 24, [192, 168, 50, 254]); // rt_gateway
  sockaddr(rt, 40, [0, 0, 0, 0]); // rt_genmask
  equal(u16le(rt, 56), 3, "rt_flags: RTF_UP|RTF_GATEWAY");
  deepEqual([...rt.subarray(58)], new Array(120 - 58).fill(0), "no metric, device or MTU");
});

Deno.test("interfaceSteps: the interface's name is written into every ifreq", () => {
  const steps = interfaceSteps({ ...ETH0, name: "vethc0ffee00000" });
  for (const s of steps.slice(1, 4)) ifname(bytesOf(s), "vethc0ffee00000");
});

Deno.test("interfaceSteps: the descriptions name the interface, the address and the gateway", () => {
  const steps = interfaceSteps(ETH0);
  ok(steps[0].what.includes("eth0"), steps[0].what);
  ok(steps[1].what.includes("10.88.0.2/16"), steps[1].what);
  ok(steps[2].what.includes("/16"), steps[2].what);
  ok(steps[3].what.includes("eth0"), steps[3].what);
  ok(steps[4].what.includes("10.88.0.1"), steps[4].what);
});

Deno.test("joinNetworkSteps: setns on the descriptor with CLONE_NEWNET, then close it", () => {
  const steps = joinNetworkSteps(7);
  deepEqual(steps.map((s) => s.call), ["setns", "close"]);
  deepEqual(steps[0].args.map(value), [7, 0x40000000]);
  equal((steps[0].args[1] as Named).name, "CLONE_NEWNET");
  deepEqual(steps[1].args, [7]);
  ok(steps.every((s) => !s.save && !s.useSaved));
});
