import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { defaultRunOptions } from "../config/options.ts";
import { InvalidInputError } from "../errors.ts";
import { parseFlags } from "./flags.ts";
import { command, logMaxSize, runOptions } from "./run.ts";
import { throwsInvalid } from "../testing/errors.ts";

/** `husk run ARGS` as the CLI reads it. */
function run(args: string[]) {
  const { values, rest } = parseFlags(args, command.flags, "run");
  return runOptions(values, rest);
}

Deno.test("logMaxSize: no --log-opt leaves the default", () => {
  equal(logMaxSize([]), undefined);
});

Deno.test("logMaxSize: max-size in Docker's binary units", () => {
  equal(logMaxSize(["max-size=10m"]), 10 * 1024 * 1024);
  equal(logMaxSize(["max-size=64k"]), 64 * 1024);
  equal(logMaxSize(["max-size=1g"]), 1024 ** 3);
  equal(logMaxSize(["max-size=4096"]), 4096);
  equal(logMaxSize(["max-size=4k"]), 4096);
});

Deno.test("logMaxSize: the last max-size wins", () => {
  equal(logMaxSize(["max-size=10m", "max-size=64k"]), 64 * 1024);
});

Deno.test("logMaxSize: an unknown option", () => {
  throwsInvalid(() => logMaxSize(["max-file=3"]), `unknown --log-opt "max-file"`, "max-size");
  throwsInvalid(() => logMaxSize(["max-size=10m", "mode=non-blocking"]), `"mode"`);
});

Deno.test("logMaxSize: a size under 4k", () => {
  throwsInvalid(() => logMaxSize(["max-size=4095"]), `"4095"`, "at least 4k");
  throwsInvalid(() => logMaxSize(["max-size=1k"]), `"1k"`);
  throwsInvalid(() => logMaxSize(["max-size=0"]), `"0"`);
});

Deno.test("logMaxSize: a size that is not one", () => {
  throwsInvalid(() => logMaxSize(["max-size=lots"]), `"lots"`);
  throwsInvalid(() => logMaxSize(["max-size=10q"]), `"10q"`);
  throwsInvalid(() => logMaxSize(["max-size=-1m"]), `"-1m"`);
  throwsInvalid(() => logMaxSize(["max-size="]), `""`);
});

// `option.split("=", 2)` drops everything after a second "=" (JavaScript's limit truncates, unlike Go's
// SplitN), so "10m=junk" is silently read as "10m".
Deno.test("logMaxSize: the whole value after the first = is checked", () => {
  throwsInvalid(() => logMaxSize(["max-size=10m=junk"]), `"10m=junk"`);
});

// A max-size without "=" has an undefined value, which the message prints as "undefined".
Deno.test("logMaxSize: a max-size without a value is refused without printing undefined", () => {
  throws(() => logMaxSize(["max-size"]), (e: unknown) => {
    ok(e instanceof InvalidInputError, `expected InvalidInputError, got ${e}`);
    ok(!e.message.includes("undefined"), e.message);
    return true;
  });
});

Deno.test("runOptions: no flags are the defaults", () => {
  deepEqual(runOptions({}, []), {
    ...defaultRunOptions(),
    rootfs: undefined,
    image: undefined,
    entrypoint: undefined,
    name: undefined,
    hostname: undefined,
    workdir: undefined,
    user: undefined,
    restart: undefined,
    logMaxSize: undefined,
    userns: undefined,
    network: undefined,
    resources: {
      memory: undefined,
      memorySwap: undefined,
      cpus: undefined,
      cpuShares: undefined,
      cpusetCpus: undefined,
      pidsLimit: undefined,
    },
  });
});

Deno.test("runOptions: the command is passed through", () => {
  deepEqual(runOptions({}, ["sh", "-c", "echo hi"]).command, ["sh", "-c", "echo hi"]);
});

Deno.test("runOptions: every flag lands in its field", () => {
  const o = run([
    "--rootfs",
    "/images/alpine",
    "--name",
    "web",
    "-h",
    "box",
    "-e",
    "A=1",
    "--env",
    "B",
    "--env-file",
    "/x.env",
    "-w",
    "/srv",
    "-u",
    "1000:100",
    "-v",
    "/a:/b",
    "-v",
    "/c:/d:ro",
    "--tmpfs",
    "/run",
    "--rm",
    "--init",
    "--restart",
    "on-failure:3",
    "--log-opt",
    "max-size=64k",
    "-it",
    "--no-pivot",
    "alpine-cmd",
    "--rm",
  ]);
  equal(o.rootfs, "/images/alpine");
  equal(o.name, "web");
  equal(o.hostname, "box");
  deepEqual(o.env, ["A=1", "B"]);
  deepEqual(o.envFiles, ["/x.env"]);
  equal(o.workdir, "/srv");
  equal(o.user, "1000:100");
  deepEqual(o.volumes, ["/a:/b", "/c:/d:ro"]);
  deepEqual(o.tmpfs, ["/run"]);
  equal(o.rm, true);
  equal(o.init, true);
  equal(o.restart, "on-failure:3");
  equal(o.logMaxSize, 65536);
  equal(o.interactive, true);
  equal(o.tty, true);
  equal(o.noPivot, true);
  equal(o.detach, false);
  deepEqual(o.command, ["alpine-cmd", "--rm"]);
});

Deno.test("runOptions: the network flags, as typed", () => {
  const o = run([
    "--network",
    "backend",
    "-p",
    "8080:80",
    "--publish",
    "53:53/udp",
    "-P",
    "--expose",
    "9000",
    "--dns",
    "1.1.1.1",
    "--dns-search",
    "example.org",
    "--dns-option",
    "ndots:2",
    "--add-host",
    "db:10.0.0.5",
    "sh",
  ]);
  equal(o.network, "backend");
  deepEqual(o.publish, ["8080:80", "53:53/udp"]);
  equal(o.publishAll, true);
  deepEqual(o.expose, ["9000"]);
  deepEqual([o.dns, o.dnsSearch, o.dnsOption], [["1.1.1.1"], ["example.org"], ["ndots:2"]]);
  deepEqual(o.addHost, ["db:10.0.0.5"]);
});

Deno.test("runOptions: --no-pivot and -d", () => {
  equal(run(["--no-pivot", "sh"]).noPivot, true);
  equal(run(["sh"]).noPivot, false);
  equal(run(["-d", "sh"]).detach, true);
  equal(run(["--detach", "sh"]).detach, true);
});

Deno.test("runOptions: resource flags, as typed", () => {
  deepEqual(
    run([
      "-m",
      "512m",
      "--memory-swap",
      "1g",
      "--cpus",
      "0.5",
      "-c",
      "512",
      "--cpuset-cpus",
      "0-1",
      "--pids-limit",
      "100",
      "sh",
    ]).resources,
    {
      memory: "512m",
      memorySwap: "1g",
      cpus: "0.5",
      cpuShares: "512",
      cpusetCpus: "0-1",
      pidsLimit: "100",
    },
  );
});

Deno.test("runOptions: unlimited values given as -1", () => {
  const { resources } = run(["--memory-swap", "-1", "--pids-limit", "-1", "sh"]);
  equal(resources.memorySwap, "-1");
  equal(resources.pidsLimit, "-1");
});

Deno.test("runOptions: a bad --log-opt is refused", () => {
  throwsInvalid(() => run(["--log-opt", "max-size=1", "sh"]), "max-size");
});

Deno.test("run's flags: the help names each flag once", () => {
  const names = command.flags.map((f) => f.name);
  equal(new Set(names).size, names.length);
  const shorts = command.flags.flatMap((f) => (f.short ? [f.short] : []));
  equal(new Set(shorts).size, shorts.length);
});

Deno.test("runOptions: the first word is an image when it names one, unless --rootfs is given", () => {
  const isImage = (word: string) => word === "alpine";
  deepEqual([
    runOptions({}, ["alpine", "ls"], isImage).image,
    runOptions({}, ["alpine", "ls"], isImage).command,
  ], [
    "alpine",
    ["ls"],
  ]);
  deepEqual(runOptions({}, ["sh", "-c", "x"], isImage).command, ["sh", "-c", "x"]);
  deepEqual(runOptions({ rootfs: "/r" }, ["alpine"], isImage).command, ["alpine"]);
  deepEqual(runOptions({ entrypoint: "" }, ["alpine"], isImage).entrypoint, "");
});
