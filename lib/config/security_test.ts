import { deepEqual, equal, ok, throws } from "node:assert/strict";

import { CAPABILITIES, DEFAULT_CAPABILITIES } from "../security/capabilities.ts";
import {
  buildSecurity,
  MASKED_DIRS,
  MASKED_FILES,
  READONLY_PATHS,
  type SecurityConfig,
  type SecurityFlags,
} from "./security.ts";
import { throwsInvalid } from "../testing/errors.ts";

const ALL_CAPS = Object.keys(CAPABILITIES);
const sorted = (caps: readonly string[]) => [...caps].sort();

const FLAGS: SecurityFlags = { capAdd: [], capDrop: [], privileged: false, securityOpt: [], readOnly: false };

const noProfile = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};

function build(
  flags: Partial<SecurityFlags> = {},
  read: (path: string) => string = noProfile,
  host: readonly string[] = ALL_CAPS,
): SecurityConfig {
  return buildSecurity({ ...FLAGS, ...flags }, read, host);
}

const opts = (...securityOpt: string[]) => build({ securityOpt });

Deno.test("buildSecurity: the defaults are Docker's", () => {
  const s = build();
  equal(s.privileged, false);
  deepEqual(sorted(s.capabilities), sorted(DEFAULT_CAPABILITIES));
  equal(s.noNewPrivileges, false);
  deepEqual(s.seccomp, { kind: "default" });
  deepEqual(s.maskedFiles, [...MASKED_FILES]);
  deepEqual(s.maskedDirs, [...MASKED_DIRS]);
  deepEqual(s.readonlyPaths, [...READONLY_PATHS]);
  equal(s.readonlyRootfs, false);
});

Deno.test("buildSecurity: --cap-add and --cap-drop reach the capabilities", () => {
  const s = build({ capAdd: ["NET_ADMIN"], capDrop: ["NET_RAW"] });
  ok(s.capabilities.includes("CAP_NET_ADMIN"));
  ok(!s.capabilities.includes("CAP_NET_RAW"));
  deepEqual(build({ capDrop: ["ALL"] }).capabilities, []);
  throwsInvalid(() => build({ capAdd: ["BOGUS"] }), "--cap-add", "BOGUS");
  throwsInvalid(() => build({ capAdd: ["SYS_ADMIN"] }, noProfile, ["CAP_CHOWN"]), "CAP_SYS_ADMIN");
});

Deno.test("buildSecurity: no-new-privileges in each of its forms", () => {
  equal(opts("no-new-privileges").noNewPrivileges, true);
  equal(opts("no-new-privileges:true").noNewPrivileges, true);
  equal(opts("no-new-privileges=true").noNewPrivileges, true);
  equal(opts("no-new-privileges:false").noNewPrivileges, false);
  equal(opts("no-new-privileges=false").noNewPrivileges, false);
});

Deno.test("buildSecurity: the last no-new-privileges wins", () => {
  equal(opts("no-new-privileges", "no-new-privileges:false").noNewPrivileges, false);
  equal(opts("no-new-privileges:false", "no-new-privileges").noNewPrivileges, true);
});

Deno.test("buildSecurity: no-new-privileges takes only true or false", () => {
  throwsInvalid(() => opts("no-new-privileges:yes"), "no-new-privileges:yes", "true or false");
  throwsInvalid(() => opts("no-new-privileges=1"), "no-new-privileges=1");
  throwsInvalid(() => opts("no-new-privileges:"), "no-new-privileges:");
  throwsInvalid(() => opts("no-new-privileges:TRUE"), "no-new-privileges:TRUE");
});

Deno.test("buildSecurity: seccomp=unconfined turns the filter off, other options untouched", () => {
  const s = opts("seccomp=unconfined");
  deepEqual(s.seccomp, { kind: "unconfined" });
  equal(s.noNewPrivileges, false);
  deepEqual(s.maskedFiles, [...MASKED_FILES]);
  deepEqual(opts("seccomp:unconfined").seccomp, { kind: "unconfined" });
});

Deno.test("buildSecurity: seccomp=PATH reads the profile through the reader and keeps its text", () => {
  const reads: string[] = [];
  const text = `{"defaultAction": "SCMP_ACT_ALLOW"}`;
  const s = build({ securityOpt: ["seccomp=/etc/profiles/p.json"] }, (path) => {
    reads.push(path);
    return text;
  });
  deepEqual(reads, ["/etc/profiles/p.json"]);
  deepEqual(s.seccomp, { kind: "profile", path: "/etc/profiles/p.json", text });
});

Deno.test("buildSecurity: only the first = or : separates the option from its value", () => {
  const s = build({ securityOpt: ["seccomp=./dir:x/p=1.json"] }, () => "{}");
  deepEqual(s.seccomp, { kind: "profile", path: "./dir:x/p=1.json", text: "{}" });
});

Deno.test("buildSecurity: the default profile is not read from anywhere", () => {
  // noProfile throws if called.
  deepEqual(build().seccomp, { kind: "default" });
  deepEqual(opts("no-new-privileges").seccomp, { kind: "default" });
});

Deno.test("buildSecurity: a failure to read the profile reaches the caller", () => {
  throws(() => opts("seccomp=/missing.json"), /unexpected read of \/missing\.json/);
});

Deno.test("buildSecurity: the last seccomp option wins", () => {
  deepEqual(
    build({ securityOpt: ["seccomp=/p.json", "seccomp=unconfined"] }, () => "{}").seccomp,
    { kind: "unconfined" },
  );
  deepEqual(
    build({ securityOpt: ["seccomp=unconfined", "seccomp=/p.json"] }, () => "{}").seccomp,
    { kind: "profile", path: "/p.json", text: "{}" },
  );
});

Deno.test("buildSecurity: unknown options and missing values are invalid input naming the option", () => {
  for (const bad of ["seccomp", "seccomp=", "seccomp:", "apparmor=unconfined", "label=disable", "nnp", ""]) {
    throwsInvalid(() => opts(bad), `"${bad}"`);
  }
  throwsInvalid(() => opts("no-new-privileges", "bogus"), `"bogus"`, "--security-opt");
});

Deno.test("buildSecurity: --privileged has every host capability, no filter and no masks", () => {
  const s = build({ privileged: true });
  equal(s.privileged, true);
  deepEqual(sorted(s.capabilities), sorted(ALL_CAPS));
  deepEqual(s.seccomp, { kind: "unconfined" });
  deepEqual(s.maskedFiles, []);
  deepEqual(s.maskedDirs, []);
  deepEqual(s.readonlyPaths, []);
  equal(s.readonlyRootfs, false);
  const host = ["CAP_CHOWN", "CAP_SYS_ADMIN"];
  deepEqual(sorted(build({ privileged: true }, noProfile, host).capabilities), host);
});

Deno.test("buildSecurity: --privileged keeps a given seccomp profile and no-new-privileges", () => {
  const s = build({ privileged: true, securityOpt: ["seccomp=/p.json", "no-new-privileges"] }, () => "{}");
  deepEqual(s.seccomp, { kind: "profile", path: "/p.json", text: "{}" });
  equal(s.noNewPrivileges, true);
  deepEqual(s.maskedFiles, []);
  deepEqual(build({ privileged: true, securityOpt: ["seccomp=unconfined"] }).seccomp, { kind: "unconfined" });
});

Deno.test("buildSecurity: --read-only makes the root read-only, privileged or not", () => {
  equal(build({ readOnly: true }).readonlyRootfs, true);
  equal(build({ readOnly: true, privileged: true }).readonlyRootfs, true);
  // --read-only changes nothing else.
  deepEqual(build({ readOnly: true }).maskedFiles, [...MASKED_FILES]);
});

Deno.test("buildSecurity: the path lists are copies", () => {
  const s = build();
  s.maskedFiles.push("/x");
  s.maskedDirs.length = 0;
  s.readonlyPaths.pop();
  deepEqual(build().maskedFiles, [...MASKED_FILES]);
  ok(!MASKED_FILES.includes("/x"));
  ok(MASKED_DIRS.length > 0);
  equal(build().readonlyPaths.length, READONLY_PATHS.length);
});

Deno.test("masked and read-only paths: Docker's lists", () => {
  deepEqual(sorted(MASKED_FILES), [
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/timer_list",
    "/proc/timer_stats",
  ]);
  deepEqual(sorted(MASKED_DIRS), [
    "/proc/acpi",
    "/proc/asound",
    "/proc/scsi",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
  ]);
  deepEqual(sorted(READONLY_PATHS), [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
  ]);
  const all = [...MASKED_FILES, ...MASKED_DIRS, ...READONLY_PATHS];
  equal(new Set(all).size, all.length);
});
