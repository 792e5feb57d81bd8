import { deepEqual, equal, notEqual, ok } from "node:assert/strict";

import {
  buildConfig,
  type BuildContext,
  DEFAULT_COMMAND,
  DEFAULT_LOG_MAX_SIZE,
  INIT_PATH,
  parseRestartPolicy,
} from "./build.ts";
import { DEFAULT_NAMESPACES, defaultDevices, defaultMounts } from "./defaults.ts";
import { DEFAULT_PATH } from "./env.ts";
import { defaultRunOptions, type RunOptions } from "./options.ts";
import type { Mount } from "./types.ts";
import { TEST_ID as ID, testContext } from "./testing.ts";
import { throwsInvalid } from "../testing/errors.ts";

const NOW = new Date("2024-05-06T07:08:09.010Z");

function context(overrides: Partial<BuildContext> = {}): BuildContext {
  return testContext({ name: "test_box", etcDir: "/var/lib/husk/containers/abc", now: NOW, ...overrides });
}

const options = (o: Partial<RunOptions> = {}): RunOptions => ({ ...defaultRunOptions(), ...o });
const build = (o: Partial<RunOptions> = {}, c: Partial<BuildContext> = {}) =>
  buildConfig(options(o), context(c));

const destinations = (mounts: readonly Mount[]) => mounts.map((m) => m.destination);

Deno.test("buildConfig: identity, root, timestamps and flags come from the context and options", () => {
  const c = build({ rm: true, noPivot: true });
  equal(c.id, ID);
  equal(c.name, "test_box");
  deepEqual(c.root, { path: "/images/alpine" });
  equal(c.created, "2024-05-06T07:08:09.010Z");
  equal(c.autoRemove, true);
  equal(c.noPivot, true);
  const d = build();
  equal(d.autoRemove, false);
  equal(d.noPivot, false);
});

Deno.test("buildConfig: the default command is /bin/sh", () => {
  deepEqual(DEFAULT_COMMAND, ["/bin/sh"]);
  deepEqual(build().process.args, ["/bin/sh"]);
  deepEqual(build({ command: ["echo", "hi there"] }).process.args, ["echo", "hi there"]);
});

Deno.test("buildConfig: an empty command string is rejected", () => {
  throwsInvalid(() => build({ command: [""] }), "empty");
});

Deno.test("buildConfig: the default hostname is the first 12 characters of the id", () => {
  const c = build();
  equal(c.hostname, "0123456789ab");
  ok(c.process.env.includes("HOSTNAME=0123456789ab"));
});

Deno.test("buildConfig: --hostname is used as given, also in the environment", () => {
  const c = build({ hostname: "web-1.example.com" });
  equal(c.hostname, "web-1.example.com");
  ok(c.process.env.includes("HOSTNAME=web-1.example.com"));
});

Deno.test("buildConfig: invalid hostnames are rejected", () => {
  for (const h of ["", "-web", "web-", "we_b", "web..a", "a b", "web/1", ".web", "x".repeat(64)]) {
    throwsInvalid(() => build({ hostname: h }), `"${h}"`);
  }
  // 64 characters made of valid labels are still too long for sethostname.
  const long = ["a".repeat(63), "b"].join(".");
  throwsInvalid(() => build({ hostname: long }), long);
  equal(build({ hostname: "a".repeat(63) }).hostname, "a".repeat(63));
});

Deno.test("buildConfig: the working directory defaults to / and is normalized", () => {
  equal(build().process.cwd, "/");
  equal(build({ workdir: "/srv//app/../web/" }).process.cwd, "/srv/web");
});

Deno.test("buildConfig: a relative working directory is rejected", () => {
  throwsInvalid(() => build({ workdir: "app" }), `"app"`, "absolute");
  throwsInvalid(() => build({ workdir: "" }), `""`);
});

Deno.test("buildConfig: the user", () => {
  deepEqual(build().process.user, { uid: 0, gid: 0, additionalGids: [] });
  deepEqual(build({ user: "1000:100" }).process.user, { uid: 1000, gid: 100, additionalGids: [] });
  throwsInvalid(() => build({ user: "root" }), "root");
});

Deno.test("buildConfig: environment from env files, then -e, the later winning; NAME alone from the host", () => {
  const files: Record<string, string> = {
    "/a.env": "# base\nA=file\nB=file\r\n",
    "/b.env": "C=b\nHOSTVAR\n",
  };
  const c = build(
    { envFiles: ["/a.env", "/b.env"], env: ["B=flag", "MISSING", "HOSTVAR2"] },
    {
      readEnvFile: (p) => files[p],
      hostEnv: (n) => ({ HOSTVAR: "h1", HOSTVAR2: "h2" } as Record<string, string>)[n],
    },
  );
  deepEqual(c.process.env, [
    `PATH=${DEFAULT_PATH}`,
    "HOSTNAME=0123456789ab",
    "A=file",
    "B=flag",
    "C=b",
    "HOSTVAR=h1",
    "HOSTVAR2=h2",
  ]);
});

Deno.test("buildConfig: a bad env entry or env-file line is rejected", () => {
  throwsInvalid(() => build({ env: ["A B=1"] }), "A B=1");
  throwsInvalid(() => build({ envFiles: ["/x.env"] }, { readEnvFile: () => "=1\n" }), "/x.env");
});

Deno.test("buildConfig: the terminal, its size, TERM and stdin", () => {
  const plain = build();
  equal(plain.process.terminal, false);
  equal(plain.process.stdin, false);
  equal(plain.process.consoleSize, undefined);
  ok(!plain.process.env.some((e) => e.startsWith("TERM=")));

  const tty = build({ tty: true, interactive: true, consoleSize: { rows: 24, columns: 80 } });
  equal(tty.process.terminal, true);
  equal(tty.process.stdin, true);
  deepEqual(tty.process.consoleSize, { height: 24, width: 80 });
  ok(tty.process.env.includes("TERM=xterm"));

  // A size without a terminal is meaningless.
  equal(build({ consoleSize: { rows: 24, columns: 80 } }).process.consoleSize, undefined);
});

Deno.test("buildConfig: the default namespaces, devices and kernel mounts", () => {
  const c = build();
  deepEqual(c.namespaces, ["pid", "network", "ipc", "uts", "mount", "cgroup"]);
  deepEqual(c.devices, defaultDevices());
  deepEqual(c.mounts.slice(0, defaultMounts().length), defaultMounts());
  // The config's list is its own copy.
  c.namespaces.push("user");
  deepEqual(DEFAULT_NAMESPACES, ["pid", "network", "ipc", "uts", "mount", "cgroup"]);
});

Deno.test("buildConfig: /etc/hostname, hosts and resolv.conf are bind-mounted from the etc directory", () => {
  const c = build();
  const etc = c.mounts.filter((m) => m.destination.startsWith("/etc/"));
  deepEqual(etc, [
    {
      destination: "/etc/hostname",
      type: "bind",
      source: "/var/lib/husk/containers/abc/hostname",
      options: ["bind", "rw"],
    },
    {
      destination: "/etc/hosts",
      type: "bind",
      source: "/var/lib/husk/containers/abc/hosts",
      options: ["bind", "rw"],
    },
    {
      destination: "/etc/resolv.conf",
      type: "bind",
      source: "/var/lib/husk/containers/abc/resolv.conf",
      options: ["bind", "rw"],
    },
  ]);
});

Deno.test("buildConfig: a user mount on /etc/hosts replaces the generated one", () => {
  const c = build({ volumes: ["/my/hosts:/etc/hosts:ro"] });
  const hosts = c.mounts.filter((m) => m.destination === "/etc/hosts");
  deepEqual(hosts, [{
    destination: "/etc/hosts",
    type: "bind",
    source: "/my/hosts",
    options: ["rbind", "ro"],
  }]);
  equal(c.mounts.filter((m) => m.destination === "/etc/hostname").length, 1);
});

Deno.test("buildConfig: a user mount on /etc/hostname (written unnormalized) replaces the generated one", () => {
  const c = build({ tmpfs: ["/etc//hostname/"] });
  const mounts = c.mounts.filter((m) => m.destination === "/etc/hostname");
  equal(mounts.length, 1);
  equal(mounts[0].type, "tmpfs");
});

Deno.test("buildConfig: user mounts come after the defaults, sorted with /etc files, parents first", () => {
  const c = build({
    volumes: [
      "/h/deep:/data/sub/deep",
      "/h/sub:/data/sub",
      "/h/data:/data",
      "/h/other:/other",
      "/h/etc:/etc",
    ],
    tmpfs: ["/data/tmp"],
  });
  deepEqual(destinations(c.mounts).slice(defaultMounts().length), [
    "/data",
    "/other",
    "/etc",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/data/sub",
    "/data/tmp",
    "/data/sub/deep",
  ]);
});

Deno.test("buildConfig: duplicate mount destinations are rejected", () => {
  throwsInvalid(() => build({ volumes: ["/a:/data", "/b:/data"] }), "/data");
  throwsInvalid(() => build({ volumes: ["/a:/data", "/b:/x/../data/"] }), "/data");
  throwsInvalid(() => build({ volumes: ["/a:/data"], tmpfs: ["/data"] }), "/data");
  throwsInvalid(() => build({ tmpfs: ["/t", "/t:size=1m"] }), "/t");
});

Deno.test("buildConfig: invalid volumes and tmpfs are rejected", () => {
  throwsInvalid(() => build({ volumes: ["rel:/data"] }), "rel");
  throwsInvalid(() => build({ tmpfs: ["rel"] }), "rel");
});

Deno.test("buildConfig: different ids give different default hostnames", () => {
  notEqual(build().hostname, build({}, { id: "f".repeat(64) }).hostname);
});

Deno.test("buildConfig: --init runs the init binary, bind-mounted read-only, before the command", () => {
  const c = build({ init: true, command: ["sleep", "1"] }, { initBinary: "/usr/bin/tini-static" });
  equal(INIT_PATH, "/dev/init");
  deepEqual(c.process.args, ["/dev/init", "--", "sleep", "1"]);
  const init = c.mounts.filter((m) => m.destination === "/dev/init");
  deepEqual(init, [{
    destination: "/dev/init",
    type: "bind",
    source: "/usr/bin/tini-static",
    options: ["bind", "ro"],
  }]);
  // After /dev is mounted, so that it lands on the container's /dev.
  ok(destinations(c.mounts).indexOf("/dev/init") > destinations(c.mounts).indexOf("/dev"));
  deepEqual(build({ init: true }, { initBinary: "/tini" }).process.args, ["/dev/init", "--", "/bin/sh"]);
});

Deno.test("buildConfig: --init without an init binary on the host is rejected", () => {
  throwsInvalid(() => build({ init: true }, { initBinary: null }), "--init");
});

Deno.test("buildConfig: without --init there is no init", () => {
  const c = build({ command: ["sleep", "1"] }, { initBinary: "/usr/bin/tini-static" });
  deepEqual(c.process.args, ["sleep", "1"]);
  ok(!destinations(c.mounts).includes("/dev/init"));
});

Deno.test("buildConfig: the restart policy, which conflicts with --rm", () => {
  deepEqual(build().restartPolicy, { name: "no", maximumRetryCount: 0 });
  deepEqual(build({ restart: "on-failure:3" }).restartPolicy, { name: "on-failure", maximumRetryCount: 3 });
  throwsInvalid(() => build({ restart: "always", rm: true }), "--rm");
  equal(build({ restart: "no", rm: true }).autoRemove, true);
});

Deno.test("parseRestartPolicy: Docker's policies", () => {
  deepEqual(parseRestartPolicy(undefined), { name: "no", maximumRetryCount: 0 });
  deepEqual(parseRestartPolicy("no"), { name: "no", maximumRetryCount: 0 });
  deepEqual(parseRestartPolicy("always"), { name: "always", maximumRetryCount: 0 });
  deepEqual(parseRestartPolicy("unless-stopped"), { name: "unless-stopped", maximumRetryCount: 0 });
  deepEqual(parseRestartPolicy("on-failure"), { name: "on-failure", maximumRetryCount: 0 });
  deepEqual(parseRestartPolicy("on-failure:5"), { name: "on-failure", maximumRetryCount: 5 });
  for (const bad of ["", "sometimes", "always:3", "on-failure:", "on-failure:-1", "on-failure:x", "NO"]) {
    throwsInvalid(() => parseRestartPolicy(bad), `"${bad}"`);
  }
});

Deno.test("buildConfig: the log size, 10 MiB by default", () => {
  equal(DEFAULT_LOG_MAX_SIZE, 10 * 1024 * 1024);
  deepEqual(build().log, { maxSize: 10 * 1024 * 1024 });
  deepEqual(build({ logMaxSize: 4096 }).log, { maxSize: 4096 });
});
