import { deepEqual, equal, ok } from "node:assert/strict";

import {
  CAPABILITIES,
  capabilitiesOfMask,
  capabilityName,
  capabilityWords,
  containerCapabilities,
  DEFAULT_CAPABILITIES,
} from "./capabilities.ts";
import { throwsInvalid } from "../testing/errors.ts";

const ALL_CAPS = Object.keys(CAPABILITIES);
const sorted = (caps: readonly string[]) => [...caps].sort();

/** The container's set with every capability on the host. */
const caps = (add: string[] = [], drop: string[] = [], privileged = false) =>
  containerCapabilities(add, drop, privileged, ALL_CAPS);

Deno.test("CAPABILITIES: the kernel's 41 capabilities, bits 0..40, each once", () => {
  equal(ALL_CAPS.length, 41);
  deepEqual(Object.values(CAPABILITIES).sort((a, b) => a - b), [...Array(41).keys()]);
  equal(CAPABILITIES.CAP_CHOWN, 0);
  equal(CAPABILITIES.CAP_SYS_ADMIN, 21);
  equal(CAPABILITIES.CAP_SETFCAP, 31);
  equal(CAPABILITIES.CAP_MAC_OVERRIDE, 32);
  equal(CAPABILITIES.CAP_CHECKPOINT_RESTORE, 40);
});

Deno.test("DEFAULT_CAPABILITIES: Docker's 14, all known, no duplicates", () => {
  equal(DEFAULT_CAPABILITIES.length, 14);
  equal(new Set(DEFAULT_CAPABILITIES).size, 14);
  ok(DEFAULT_CAPABILITIES.every((c) => c in CAPABILITIES));
  ok(DEFAULT_CAPABILITIES.includes("CAP_NET_RAW"));
  ok(!DEFAULT_CAPABILITIES.includes("CAP_SYS_ADMIN"));
  ok(!DEFAULT_CAPABILITIES.includes("CAP_NET_ADMIN"));
});

Deno.test("capabilityName: any case, with or without the CAP_ prefix", () => {
  equal(capabilityName("net_admin", "--cap-add"), "CAP_NET_ADMIN");
  equal(capabilityName("NET_ADMIN", "--cap-add"), "CAP_NET_ADMIN");
  equal(capabilityName("CAP_NET_ADMIN", "--cap-add"), "CAP_NET_ADMIN");
  equal(capabilityName("cap_sys_time", "--cap-add"), "CAP_SYS_TIME");
  equal(capabilityName("Sys_Admin", "--cap-drop"), "CAP_SYS_ADMIN");
  equal(capabilityName(" chown ", "--cap-drop"), "CAP_CHOWN");
  equal(capabilityName("checkpoint_restore", "--cap-add"), "CAP_CHECKPOINT_RESTORE");
});

Deno.test("capabilityName: ALL in any case stays ALL", () => {
  equal(capabilityName("ALL", "--cap-add"), "ALL");
  equal(capabilityName("all", "--cap-drop"), "ALL");
  equal(capabilityName("All", "--cap-drop"), "ALL");
});

Deno.test("capabilityName: an unknown name is invalid input naming the flag and the name", () => {
  throwsInvalid(() => capabilityName("FLY", "--cap-add"), "--cap-add", `"FLY"`);
  throwsInvalid(() => capabilityName("cap_fly", "--cap-drop"), "--cap-drop", "cap_fly");
  throwsInvalid(() => capabilityName("", "--cap-add"), "--cap-add");
  throwsInvalid(() => capabilityName("CAP_", "--cap-add"), "--cap-add");
  // "ALL" is a word of its own, not a capability.
  throwsInvalid(() => capabilityName("CAP_ALL", "--cap-add"), "--cap-add");
});

Deno.test("containerCapabilities: Docker's 14 by default", () => {
  deepEqual(sorted(caps()), sorted(DEFAULT_CAPABILITIES));
});

Deno.test("containerCapabilities: defaults plus the added, less the dropped", () => {
  const set = caps(["NET_ADMIN", "sys_time"], ["chown", "CAP_NET_RAW"]);
  const expected = DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_CHOWN" && c !== "CAP_NET_RAW")
    .concat("CAP_NET_ADMIN", "CAP_SYS_TIME");
  deepEqual(sorted(set), sorted(expected));
  equal(set.length, 14);
});

Deno.test("containerCapabilities: adding a default capability does not duplicate it", () => {
  deepEqual(sorted(caps(["CHOWN", "chown"])), sorted(DEFAULT_CAPABILITIES));
});

Deno.test("containerCapabilities: dropping a capability not in the set changes nothing", () => {
  deepEqual(sorted(caps([], ["SYS_ADMIN"])), sorted(DEFAULT_CAPABILITIES));
});

Deno.test("containerCapabilities: a capability both added and dropped is kept, as Docker does", () => {
  // moby's TweakCapabilities (oci/caps/utils.go): the defaults less --cap-drop, THEN --cap-add appended, so
  // `docker run --cap-drop NET_ADMIN --cap-add NET_ADMIN` has NET_ADMIN (and --cap-drop X --cap-add X of a
  // default capability keeps it).
  ok(caps(["NET_ADMIN"], ["NET_ADMIN"]).includes("CAP_NET_ADMIN"));
  ok(caps(["CHOWN"], ["CHOWN"]).includes("CAP_CHOWN"));
});

Deno.test("containerCapabilities: --cap-add ALL is every capability less the dropped", () => {
  deepEqual(sorted(caps(["ALL"])), sorted(ALL_CAPS));
  const set = caps(["all"], ["SYS_ADMIN", "net_raw"]);
  equal(set.length, 39);
  ok(!set.includes("CAP_SYS_ADMIN"));
  ok(!set.includes("CAP_NET_RAW"));
  ok(set.includes("CAP_CHECKPOINT_RESTORE"));
});

Deno.test("containerCapabilities: --cap-drop ALL keeps only the added", () => {
  deepEqual(caps([], ["ALL"]), []);
  deepEqual(sorted(caps(["NET_BIND_SERVICE", "CHOWN"], ["all"])), ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"]);
});

Deno.test("containerCapabilities: --cap-add ALL wins over --cap-drop ALL", () => {
  deepEqual(sorted(caps(["ALL"], ["ALL"])), sorted(ALL_CAPS));
});

Deno.test("containerCapabilities: --privileged is every capability the host has", () => {
  deepEqual(sorted(caps([], [], true)), sorted(ALL_CAPS));
  // Drops do not apply to a privileged container (Docker ignores them too).
  deepEqual(sorted(caps([], ["ALL"], true)), sorted(ALL_CAPS));
  const host = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL"];
  deepEqual(sorted(containerCapabilities([], [], true, host)), sorted(host));
});

Deno.test("containerCapabilities: a capability the host lacks is never granted", () => {
  const host = ALL_CAPS.filter((c) => c !== "CAP_CHECKPOINT_RESTORE" && c !== "CAP_KILL");
  const all = containerCapabilities(["ALL"], [], false, host);
  deepEqual(sorted(all), sorted(host));
  const defaults = containerCapabilities([], [], false, host);
  ok(!defaults.includes("CAP_KILL"));
  deepEqual(sorted(defaults), sorted(DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_KILL")));
  ok(!containerCapabilities([], [], true, host).includes("CAP_CHECKPOINT_RESTORE"));
  deepEqual(containerCapabilities([], [], false, []), []);
});

Deno.test("containerCapabilities: --cap-add of a capability the host lacks is an error", () => {
  const host = ALL_CAPS.filter((c) => c !== "CAP_SYS_ADMIN");
  throwsInvalid(() => containerCapabilities(["sys_admin"], [], false, host), "--cap-add", "CAP_SYS_ADMIN");
  // Dropping it is fine.
  ok(!containerCapabilities([], ["SYS_ADMIN"], false, host).includes("CAP_SYS_ADMIN"));
});

Deno.test("containerCapabilities: unknown names are errors naming their flag", () => {
  throwsInvalid(() => caps(["NOPE"]), "--cap-add", "NOPE");
  throwsInvalid(() => caps([], ["NOPE"]), "--cap-drop", "NOPE");
});

Deno.test("capabilityWords: Docker's default set is 0xa80425fb in the low word", () => {
  deepEqual(capabilityWords(DEFAULT_CAPABILITIES), [0xa80425fb, 0]);
});

Deno.test("capabilityWords: bits below and above 32, unsigned", () => {
  deepEqual(capabilityWords([]), [0, 0]);
  deepEqual(capabilityWords(["CAP_CHOWN"]), [1, 0]);
  deepEqual(capabilityWords(["CAP_SETFCAP"]), [0x80000000, 0]);
  deepEqual(capabilityWords(["CAP_MAC_OVERRIDE"]), [0, 1]);
  deepEqual(capabilityWords(["CAP_CHECKPOINT_RESTORE"]), [0, 0x100]);
  deepEqual(capabilityWords(["CAP_SYS_ADMIN", "CAP_BPF", "CAP_PERFMON"]), [1 << 21, 0xc0]);
  deepEqual(capabilityWords(ALL_CAPS), [0xffffffff, 0x1ff]);
  // A name given twice sets its bit once.
  deepEqual(capabilityWords(["CAP_KILL", "CAP_KILL"]), [0x20, 0]);
});

Deno.test("capabilitiesOfMask: a /proc status mask as names", () => {
  deepEqual(sorted(capabilitiesOfMask("000001ffffffffff")), sorted(ALL_CAPS));
  deepEqual(sorted(capabilitiesOfMask("00000000a80425fb")), sorted(DEFAULT_CAPABILITIES));
  deepEqual(capabilitiesOfMask("0000000000000000"), []);
  deepEqual(capabilitiesOfMask("0000010000000000"), ["CAP_CHECKPOINT_RESTORE"]);
  deepEqual(capabilitiesOfMask("0000000000200000"), ["CAP_SYS_ADMIN"]);
  // Bits beyond the known capabilities are ignored.
  deepEqual(capabilitiesOfMask("0000fe0000000001"), ["CAP_CHOWN"]);
});

Deno.test("capabilitiesOfMask inverts capabilityWords", () => {
  const set = ["CAP_CHOWN", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_CHECKPOINT_RESTORE"];
  const [low, high] = capabilityWords(set);
  const hex = high.toString(16).padStart(8, "0") + low.toString(16).padStart(8, "0");
  deepEqual(sorted(capabilitiesOfMask(hex)), sorted(set));
});
