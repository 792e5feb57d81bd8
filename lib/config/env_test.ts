import { deepEqual, equal, ok } from "node:assert/strict";
import { buildEnv, DEFAULT_PATH, lookupEnv, parseEnvEntry, parseEnvFile } from "./env.ts";
import { throwsInvalid } from "../testing/errors.ts";

const host = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];
const noHost = host({});

Deno.test("parseEnvEntry: NAME=value is kept as written", () => {
  equal(parseEnvEntry("FOO=bar", noHost), "FOO=bar");
  equal(parseEnvEntry("FOO=", noHost), "FOO=");
  equal(parseEnvEntry("FOO=a=b c", noHost), "FOO=a=b c");
});

Deno.test("parseEnvEntry: NAME=value ignores the host's value", () => {
  equal(parseEnvEntry("FOO=mine", host({ FOO: "host" })), "FOO=mine");
});

Deno.test("parseEnvEntry: NAME alone takes the host's value", () => {
  equal(parseEnvEntry("FOO", host({ FOO: "from host" })), "FOO=from host");
  equal(parseEnvEntry("EMPTY", host({ EMPTY: "" })), "EMPTY=");
});

Deno.test("parseEnvEntry: NAME alone is dropped when the host has no such variable", () => {
  equal(parseEnvEntry("MISSING", host({ OTHER: "x" })), null);
});

Deno.test("parseEnvEntry: an empty name is rejected, naming the entry", () => {
  throwsInvalid(() => parseEnvEntry("=x", noHost), `"=x"`);
  throwsInvalid(() => parseEnvEntry("", noHost), `""`);
});

Deno.test("parseEnvEntry: a name with whitespace is rejected, naming the entry", () => {
  throwsInvalid(() => parseEnvEntry("A B=1", noHost), `"A B=1"`);
  throwsInvalid(() => parseEnvEntry("A\tB", host({ "A\tB": "x" })), "A\tB");
  throwsInvalid(() => parseEnvEntry(" A=1", noHost), `" A=1"`);
});

Deno.test("parseEnvFile: one entry per line, in order", () => {
  deepEqual(parseEnvFile("A=1\nB=2\nC\n", "f.env"), ["A=1", "B=2", "C"]);
});

Deno.test("parseEnvFile: comments and blank lines are ignored", () => {
  const text = "# a comment\n\nA=1\n   \n  # indented comment\nB=2 # not a comment\n\t\n";
  deepEqual(parseEnvFile(text, "f.env"), ["A=1", "B=2 # not a comment"]);
});

Deno.test("parseEnvFile: CRLF line endings are stripped", () => {
  deepEqual(parseEnvFile("A=1\r\nB=2\r\n\r\n# c\r\n", "f.env"), ["A=1", "B=2"]);
});

Deno.test("parseEnvFile: the last line needs no newline", () => {
  deepEqual(parseEnvFile("A=1\nB=2", "f.env"), ["A=1", "B=2"]);
});

Deno.test("parseEnvFile: an empty file has no entries", () => {
  deepEqual(parseEnvFile("", "f.env"), []);
});

Deno.test("parseEnvFile: a line with an empty name or leading whitespace is rejected, naming file and line", () => {
  throwsInvalid(() => parseEnvFile("A=1\n=oops\n", "my.env"), "my.env", `"=oops"`);
  throwsInvalid(() => parseEnvFile("  A=1\n", "my.env"), "my.env", `"  A=1"`);
});

Deno.test("buildEnv: PATH and HOSTNAME first, then the user's entries in order", () => {
  deepEqual(buildEnv(["B=2", "A=1"], "box", false), [
    `PATH=${DEFAULT_PATH}`,
    "HOSTNAME=box",
    "B=2",
    "A=1",
  ]);
});

Deno.test("buildEnv: TERM=xterm only with a terminal", () => {
  deepEqual(buildEnv([], "box", true), [`PATH=${DEFAULT_PATH}`, "HOSTNAME=box", "TERM=xterm"]);
  ok(!buildEnv([], "box", false).some((e) => e.startsWith("TERM=")));
});

Deno.test("buildEnv: a user entry overrides a default, leaving one entry of that name", () => {
  const env = buildEnv(["PATH=/opt/bin", "TERM=dumb", "HOSTNAME=other"], "box", true);
  deepEqual(env.filter((e) => e.startsWith("PATH=")), ["PATH=/opt/bin"]);
  deepEqual(env.filter((e) => e.startsWith("TERM=")), ["TERM=dumb"]);
  deepEqual(env.filter((e) => e.startsWith("HOSTNAME=")), ["HOSTNAME=other"]);
  equal(env.length, 3);
});

Deno.test("buildEnv: a later user entry replaces an earlier one of the same name", () => {
  const env = buildEnv(["A=1", "B=2", "A=3"], "box", false);
  deepEqual(env.filter((e) => e.startsWith("A=")), ["A=3"]);
  equal(env.length, 4);
});

Deno.test("buildEnv: names are matched exactly (A does not override AB)", () => {
  const env = buildEnv(["AB=1", "A=2"], "box", false);
  ok(env.includes("AB=1"));
  ok(env.includes("A=2"));
});

Deno.test("buildEnv: nothing of the host's environment leaks in", () => {
  const name = "HUSK_ENV_TEST_LEAK";
  Deno.env.set(name, "leaked");
  try {
    const env = buildEnv(["A=1"], "box", true);
    ok(!env.some((e) => e.startsWith(`${name}=`)), "host variable leaked");
    ok(!env.some((e) => e.startsWith("HOME=")), "host HOME leaked");
    deepEqual(env.map((e) => e.slice(0, e.indexOf("="))), ["PATH", "HOSTNAME", "TERM", "A"]);
  } finally {
    Deno.env.delete(name);
  }
});

Deno.test("lookupEnv: the value of the last entry with that name", () => {
  const env = ["A=1", "AB=x", "B=", "A=2"];
  equal(lookupEnv(env, "A"), "2");
  equal(lookupEnv(env, "AB"), "x");
  equal(lookupEnv(env, "B"), "");
  equal(lookupEnv(env, "C"), undefined);
});
