import { equal, match, notEqual, ok } from "node:assert/strict";
import { isValidName, newId, newName } from "./ids.ts";

Deno.test("newId: 64 lowercase hexadecimal digits", () => {
  for (let i = 0; i < 50; i++) match(newId(), /^[0-9a-f]{64}$/);
});

Deno.test("newId: a new id each call", () => {
  const ids = new Set(Array.from({ length: 100 }, newId));
  equal(ids.size, 100);
  notEqual(newId(), newId());
});

Deno.test("newName: adjective_noun, a valid container name", () => {
  for (let i = 0; i < 50; i++) {
    const name = newName(new Set());
    match(name, /^[a-z]+_[a-z]+$/);
    ok(isValidName(name));
  }
});

Deno.test("newName: never returns a taken name", () => {
  // Take the first candidates offered; the one returned must be a later, free one.
  const asked: string[] = [];
  const taken = {
    has: (n: string) => {
      asked.push(n);
      return asked.length <= 5;
    },
  } as unknown as ReadonlySet<string>;
  const name = newName(taken);
  equal(asked.length, 6);
  equal(name, asked[5]);
});

Deno.test("newName: with a real set of taken names the result is free", () => {
  const taken = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const name = newName(taken);
    ok(!taken.has(name), `${name} was taken`);
    taken.add(name);
  }
  equal(taken.size, 200);
});

Deno.test("newName: a numeric suffix once the plain pairs are all taken", () => {
  const allPlain = { has: (n: string) => !/\d/.test(n) } as unknown as ReadonlySet<string>;
  const name = newName(allPlain);
  match(name, /^[a-z]+_[a-z]+\d+$/);
  ok(Number(name.match(/\d+$/)![0]) >= 20);
  ok(isValidName(name));
});

Deno.test("isValidName: Docker's rule", () => {
  for (const ok_ of ["web", "ab", "Web1", "1web", "my_app.v2-b", "a--_..", "x".repeat(200)]) {
    ok(isValidName(ok_), ok_);
  }
  for (const bad of ["", "_web", "-web", ".web", "a b", "a/b", "a:b", "é", "web\n", "a@b"]) {
    ok(!isValidName(bad), JSON.stringify(bad));
  }
});

Deno.test("isValidName: a one-character name is rejected, as Docker does", () => {
  // moby utils/names.go: ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$ (at least two characters).
  ok(!isValidName("a"));
  ok(!isValidName("7"));
});
