import { deepEqual, equal } from "node:assert/strict";
import { exactly, throwsInvalid } from "../testing/errors.ts";
import { type Flag, parseFlags, usage } from "./flags.ts";

const FLAGS: readonly Flag[] = [
  { name: "env", short: "e", value: "VAR[=VALUE]", multiple: true, help: "set an environment variable" },
  { name: "name", value: "NAME", help: "assign a name" },
  { name: "memory", short: "m", value: "BYTES", help: "memory limit" },
  { name: "pids-limit", value: "N", help: "maximum number of processes" },
  { name: "interactive", short: "i", help: "keep stdin open" },
  { name: "tty", short: "t", help: "allocate a pseudo-terminal" },
  { name: "rm", help: "remove the container when it exits" },
  { name: "detach", short: "d", help: "run in the background" },
];

const parse = (args: string[]) => parseFlags(args, FLAGS, "run");

Deno.test("parseFlags: no arguments", () => {
  deepEqual(parse([]), { values: {}, rest: [] });
});

Deno.test("parseFlags: flags stop at the first positional; the command's own flags are left alone", () => {
  const { values, rest } = parse(["-e", "A=1", "sh", "-c", "x"]);
  deepEqual(values, { env: ["A=1"] });
  deepEqual(rest, ["sh", "-c", "x"]);
});

Deno.test("parseFlags: a flag after the first positional belongs to the command", () => {
  const { values, rest } = parse(["--rm", "alpine", "--rm", "-e", "X=1", "--unknown"]);
  deepEqual(values, { rm: true });
  deepEqual(rest, ["alpine", "--rm", "-e", "X=1", "--unknown"]);
});

Deno.test("parseFlags: -- ends the flags and is dropped", () => {
  const { values, rest } = parse(["-d", "--", "-e", "x"]);
  deepEqual(values, { detach: true });
  deepEqual(rest, ["-e", "x"]);
  deepEqual(parse(["--"]).rest, []);
  // Only the first -- is the terminator.
  deepEqual(parse(["--", "sh", "--", "x"]).rest, ["sh", "--", "x"]);
});

Deno.test("parseFlags: combined short switches", () => {
  const { values, rest } = parse(["-it", "alpine", "sh"]);
  deepEqual(values, { interactive: true, tty: true });
  deepEqual(rest, ["alpine", "sh"]);
  deepEqual(parse(["-dit"]).values, { detach: true, interactive: true, tty: true });
});

Deno.test("parseFlags: a repeated flag is collected in order", () => {
  const { values } = parse(["-e", "A=1", "--env", "B=2", "-e", "C=3", "--env=D=4", "sh"]);
  deepEqual(values.env, ["A=1", "B=2", "C=3", "D=4"]);
});

Deno.test("parseFlags: --flag=value and -xVALUE", () => {
  deepEqual(parse(["--name=web", "-m512m", "x"]).values, { name: "web", memory: "512m" });
  deepEqual(parse(["--name", "web", "x"]).values, { name: "web" });
});

Deno.test("parseFlags: a value that looks like a command is still the flag's value", () => {
  const { values, rest } = parse(["--name", "sh", "alpine"]);
  deepEqual(values, { name: "sh" });
  deepEqual(rest, ["alpine"]);
});

Deno.test("parseFlags: a negative number is a value, as Docker reads it", () => {
  deepEqual(parse(["--pids-limit", "-1", "sh"]), { values: { "pids-limit": "-1" }, rest: ["sh"] });
  deepEqual(parse(["-m", "-1", "sh"]), { values: { memory: "-1" }, rest: ["sh"] });
  deepEqual(parse(["--pids-limit=-1"]), { values: { "pids-limit": "-1" }, rest: [] });
  deepEqual(parse(["--rm", "--pids-limit", "-1", "-it", "sh"]).values, {
    rm: true,
    "pids-limit": "-1",
    interactive: true,
    tty: true,
  });
});

Deno.test("parseFlags: a negative number after the command is the command's", () => {
  deepEqual(parse(["sh", "--pids-limit", "-1"]), { values: {}, rest: ["sh", "--pids-limit", "-1"] });
});

Deno.test("parseFlags: a negative number is a value also after another flag's value", () => {
  deepEqual(parse(["-e", "A=1", "--pids-limit", "-1", "sh"]), {
    values: { env: ["A=1"], "pids-limit": "-1" },
    rest: ["sh"],
  });
  deepEqual(parse(["--name", "x", "-m", "-1", "sh"]), {
    values: { name: "x", memory: "-1" },
    rest: ["sh"],
  });
});

Deno.test("parseFlags: an unknown flag", () => {
  throwsInvalid(() => parse(["--x", "sh"]), exactly("unknown flag: --x (see 'husk run --help')"));
  throwsInvalid(() => parse(["-z"]), exactly("unknown flag: -z (see 'husk run --help')"));
});

Deno.test("parseFlags: the command name in messages is the one given", () => {
  throwsInvalid(
    () => parseFlags(["--nope"], FLAGS, "logs"),
    exactly("unknown flag: --nope (see 'husk logs --help')"),
  );
});

Deno.test("parseFlags: a flag without its value", () => {
  throwsInvalid(() => parse(["--env"]), exactly("flag needs an argument: --env (see 'husk run --help')"));
  throwsInvalid(() => parse(["-e"]), exactly("flag needs an argument: --env (see 'husk run --help')"));
  throwsInvalid(() => parse(["--name"]), exactly("flag needs an argument: --name (see 'husk run --help')"));
});

Deno.test("parseFlags: a switch given true or false, as Docker's `--rm=false`", () => {
  deepEqual(parse(["--rm=true", "sh"]).values, { rm: true });
  deepEqual(parse(["--rm=false", "-d", "sh"]).values, { rm: false, detach: true });
  throwsInvalid(
    () => parse(["--rm=yes", "sh"]),
    exactly(`invalid value "yes" for --rm: expected true or false (see 'husk run --help')`),
  );
});

Deno.test("parseFlags: a value flag in a cluster of switches takes the rest, or the next argument", () => {
  deepEqual(parse(["-dm512m", "sh"]).values, { detach: true, memory: "512m" });
  deepEqual(parse(["-dm", "512m", "sh"]), { values: { detach: true, memory: "512m" }, rest: ["sh"] });
  deepEqual(parse(["-m=1g", "sh"]).values, { memory: "1g" });
  deepEqual(parse(["-e", "", "sh"]).values, { env: [""] }, "an empty value is a value");
  deepEqual(parse(["--name", "--rm", "sh"]).values, { name: "--rm" }, "the next argument, whatever it is");
  throwsInvalid(() => parse(["-dm"]), exactly("flag needs an argument: --memory (see 'husk run --help')"));
});

Deno.test("parseFlags: a lone - is a positional argument (stdin, for import and load)", () => {
  deepEqual(parse(["-d", "-", "x"]), { values: { detach: true }, rest: ["-", "x"] });
});

Deno.test("usage: usage line, summary, and aligned options", () => {
  const text = usage("husk run [OPTIONS] COMMAND", "Run a command.", [
    { name: "env", short: "e", value: "LIST", help: "set variables" },
    { name: "rm", help: "remove it" },
    { name: "tty", short: "t", help: "a terminal" },
  ]);
  deepEqual(text.split("\n"), [
    "Usage:  husk run [OPTIONS] COMMAND",
    "",
    "Run a command.",
    "",
    "Options:",
    "  -e, --env LIST   set variables",
    "      --rm         remove it",
    "  -t, --tty        a terminal",
    "",
  ]);
});

Deno.test("parseFlags (interspersed): flags may follow positionals, as `docker rm web -f`", () => {
  const p = parseFlags(["web", "-d", "db", "--name", "x", "--", "-v"], FLAGS, "rm", true);
  deepEqual(p.rest, ["web", "db", "-v"]);
  equal(p.values.detach, true);
  equal(p.values.name, "x");
});

Deno.test("parseFlags (interspersed): a negative value after a positional is still the flag's value", () => {
  const p = parseFlags(
    ["web", "--pids-limit", "-1"],
    [{ name: "pids-limit", value: "N", help: "" }],
    "update",
    true,
  );
  deepEqual(p.rest, ["web"]);
  equal(p.values["pids-limit"], "-1");
});

Deno.test("parseFlags (interspersed): an unknown flag after a positional is refused", () => {
  throwsInvalid(
    () => parseFlags(["web", "--nope"], FLAGS, "rm", true),
    exactly("unknown flag: --nope (see 'husk rm --help')"),
  );
});
