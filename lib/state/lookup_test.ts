import { equal, ok, throws } from "node:assert/strict";
import { ExitCode, StateError } from "../errors.ts";
import { lookup, type Named } from "./lookup.ts";

const A = "abc1230000000000000000000000000000000000000000000000000000000001";
const B = "abc1239999999999999999999999999999999999999999999999999999999902";
const C = "ffee000000000000000000000000000000000000000000000000000000000003";
const ALL: readonly (Named & { tag: string })[] = [
  { id: A, name: "web", tag: "a" },
  { id: B, name: "db", tag: "b" },
  { id: C, name: "cache", tag: "c" },
];

function throwsState(fn: () => unknown, message: string): void {
  throws(fn, (e: unknown) => {
    ok(e instanceof StateError, `expected StateError, got ${e}`);
    equal(e.message, message);
    equal(e.exitCode, ExitCode.Failure);
    equal(e.exitCode, 1);
    return true;
  });
}

Deno.test("lookup: by name, with or without a leading slash", () => {
  equal(lookup(ALL, "db").tag, "b");
  equal(lookup(ALL, "/db").tag, "b");
  equal(lookup(ALL, "cache").tag, "c");
});

Deno.test("lookup: returns the element itself", () => {
  equal(lookup(ALL, "web"), ALL[0]);
});

Deno.test("lookup: by full id", () => {
  equal(lookup(ALL, A).tag, "a");
  equal(lookup(ALL, B).tag, "b");
});

Deno.test("lookup: by a unique prefix", () => {
  equal(lookup(ALL, "f").tag, "c");
  equal(lookup(ALL, "abc1230").tag, "a");
  equal(lookup(ALL, "abc1239").tag, "b");
  equal(lookup(ALL, C.slice(0, 12)).tag, "c");
});

Deno.test("lookup: an ambiguous prefix names the candidates by their 12-character ids", () => {
  throwsState(
    () => lookup(ALL, "abc123"),
    `multiple containers match the prefix "abc123": abc123000000, abc123999999; give more digits`,
  );
});

Deno.test("lookup: a name that looks like a prefix is taken as the name", () => {
  const all = [...ALL, { id: "0".repeat(64), name: "abc", tag: "named" }];
  equal(lookup(all, "abc").tag, "named");
});

Deno.test("lookup: unknown references", () => {
  throwsState(() => lookup(ALL, "x"), "no such container: x");
  throwsState(() => lookup(ALL, "0123"), "no such container: 0123");
  throwsState(() => lookup(ALL, "we"), "no such container: we"); // a name prefix is no match
  throwsState(() => lookup(ALL, "//web"), "no such container: //web");
  throwsState(() => lookup([], "web"), "no such container: web");
});

Deno.test("lookup: a prefix must be lower-case hexadecimal", () => {
  throwsState(() => lookup(ALL, "ABC"), "no such container: ABC");
  throwsState(() => lookup(ALL, ""), "no such container: ");
});

Deno.test("lookup: an id longer than the full id is no match", () => {
  throwsState(() => lookup(ALL, A + "0"), `no such container: ${A}0`);
});
