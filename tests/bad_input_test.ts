/** Bad input to `husk run`: one clear line on stderr, Docker's exit code, and nothing created. */
import { equal, match } from "node:assert/strict";
import { husk, ROOTFS, withRoot } from "./helpers.ts";

const cases: [name: string, args: string[], code: number, message: RegExp][] = [
  [
    "a missing rootfs",
    ["--rootfs", "/nonexistent-rootfs", "true"],
    125,
    /root filesystem \/nonexistent-rootfs does not exist/,
  ],
  ["a relative volume path", ["-v", "data:/data", "true"], 125, /host path "data" must be absolute/],
  ["a volume with a bad mode", ["-v", "/tmp:/data:rx", "true"], 125, /unknown mode "rx"/],
  [
    "a volume whose host path is missing",
    ["-v", "/nonexistent-dir:/data", "true"],
    125,
    /\/nonexistent-dir does not exist on the host/,
  ],
  [
    "an unknown flag",
    ["--frobnicate", "true"],
    125,
    /^husk: unknown flag: --frobnicate \(see 'husk run --help'\)$/m,
  ],
  ["a bad env line", ["-e", "=oops", "true"], 125, /invalid environment variable: "=oops"/],
  [
    "a missing env file",
    ["--env-file", "/nonexistent.env", "true"],
    125,
    /cannot read env file \/nonexistent.env/,
  ],
  ["a non-numeric user", ["-u", "alice", "true"], 125, /invalid user "alice"/],
  ["a relative workdir", ["-w", "rel", "true"], 125, /working directory "rel": it must be an absolute path/],
  ["a bad hostname", ["--hostname", "bad_host!", "true"], 125, /invalid hostname "bad_host!"/],
  ["a bad name", ["--name", "/bad", "true"], 125, /invalid container name "\/bad"/],
  ["a command that does not exist", ["no-such-command"], 127, /executable file not found in \$PATH/],
];

for (const [name, args, code, message] of cases) {
  Deno.test(`bad input: ${name}`, () =>
    withRoot(async (root) => {
      const r = await husk(root, ["run", ...args]);
      equal(r.code, code, r.stderr);
      match(r.stderr, message);
      match(r.stderr, /^husk: [^\n]+\n$/, "exactly one line on stderr");
      equal(r.stdout, "");
    }));
}

Deno.test("bad input: an empty rootfs", () =>
  withRoot(async (root) => {
    const empty = await Deno.makeTempDir();
    try {
      const r = await husk(root, ["run", "--rootfs", empty, "true"]);
      equal(r.code, 125);
      match(r.stderr, /^husk: root filesystem .* is empty/);
    } finally {
      await Deno.remove(empty);
    }
  }));

Deno.test("a step that fails in the child names the step and leaves nothing", () =>
  withRoot(async (root) => {
    // A file where a directory mount point is needed: the mount step fails with ENOTDIR.
    const r = await husk(root, ["run", "--rm", "--tmpfs", "/etc/os-release/x", "true"]);
    equal(r.code, 125, r.stderr);
    match(r.stderr, /^husk: .*os-release.*not a directory/i);
    equal(Deno.statSync(`${ROOTFS}/etc/os-release`).isFile, true);
  }));

Deno.test("bad input: a flag without its value, a value for a switch, an unknown command", () =>
  withRoot(async (root) => {
    const missing = await husk(root, ["run", "-e"]);
    equal(missing.code, 125);
    equal(missing.stderr, "husk: flag needs an argument: --env (see 'husk run --help')\n");
    const value = await husk(root, ["run", "--rm=yes", "true"]);
    equal(value.code, 125);
    equal(
      value.stderr,
      `husk: invalid value "yes" for --rm: expected true or false (see 'husk run --help')\n`,
    );
    const command = await husk(root, ["frobnicate"]);
    equal(command.code, 125);
    equal(command.stderr, "husk: 'frobnicate' is not a husk command (see 'husk --help')\n");
    const global = await husk(root, ["--frobnicate", "ps"]);
    equal(global.code, 125);
    equal(global.stderr, "husk: unknown flag: --frobnicate (see 'husk --help')\n");
  }));

Deno.test("--version and version: husk's version on stdout, exit 0", () =>
  withRoot(async (root) => {
    for (const flag of ["--version", "-v"]) {
      const line = await husk(root, [flag]);
      equal(line.code, 0, line.stderr);
      match(line.stdout, /^husk version \d+\.\d+\.\d+\n$/);
    }
    const report = await husk(root, ["version"]);
    equal(report.code, 0, report.stderr);
    match(report.stdout, /^Client:\n Version: +\d+\.\d+\.\d+\n/);
  }));

Deno.test("bad input: arguments to a command that takes none", () =>
  withRoot(async (root) => {
    for (const command of ["version", "ps", "prune"]) {
      const extra = await husk(root, [command, "x"]);
      equal(extra.code, 125);
      equal(extra.stderr, `husk: "husk ${command}" accepts no arguments\n`);
      equal(extra.stdout, "");
    }
  }));

Deno.test("flags after the command belong to the command", () =>
  withRoot(async (root) => {
    const r = await husk(root, ["run", "--rm", "-e", "A=1", "sh", "-c", "echo $A -e --rm", "--", "x"]);
    equal(r.code, 0, r.stderr);
    equal(r.stdout, "1 -e --rm\n");
  }));

Deno.test("a mount the kernel refuses in the child: the step's error, foreground and detached, nothing left", () =>
  withRoot(async (root) => {
    for (const mode of [[], ["-d"]]) {
      const r = await husk(root, ["run", ...mode, "-v", "/etc/hostname:/tmp", "true"]);
      equal(r.code, 125, r.stderr);
      equal(r.stderr, "husk: mount /etc/hostname on /tmp: Not a directory\n");
      equal(r.stdout, "");
    }
  }));
