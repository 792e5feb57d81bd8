import { equal } from "node:assert/strict";
import { exactly, throwsInvalid } from "../testing/errors.ts";
import { parseSignal } from "./lifecycle.ts";

/** parseSignal refuses `text` with exactly "invalid signal: TEXT". */
function refused(text: string): void {
  throwsInvalid(() => parseSignal(text), exactly(`invalid signal: ${text}`));
}

Deno.test("parseSignal: by name, with or without SIG, in any case", () => {
  equal(parseSignal("KILL"), 9);
  equal(parseSignal("SIGKILL"), 9);
  equal(parseSignal("sigterm"), 15);
  equal(parseSignal("term"), 15);
  equal(parseSignal("SigHup"), 1);
  equal(parseSignal("INT"), 2);
  equal(parseSignal("USR1"), 10);
  equal(parseSignal("SIGUSR2"), 12);
  equal(parseSignal("WINCH"), 28);
  equal(parseSignal("SIGSYS"), 31);
});

Deno.test("parseSignal: by number, 1 to 64", () => {
  equal(parseSignal("9"), 9);
  equal(parseSignal("1"), 1);
  equal(parseSignal("15"), 15);
  equal(parseSignal("34"), 34); // a real-time signal
  equal(parseSignal("64"), 64);
});

Deno.test("parseSignal: out of range numbers", () => {
  refused("0");
  refused("65");
  refused("-9");
  refused("1000");
});

Deno.test("parseSignal: unknown names and junk", () => {
  refused("FOO");
  refused("SIGFOO");
  refused("");
  refused("SIG");
  refused("9.0");
  refused("KILL ");
  refused("SIGSIGKILL");
});
