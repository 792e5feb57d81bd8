import { equal, ok, throws } from "node:assert/strict";
import { ExitCode, InvalidInputError } from "../errors.ts";
import { parseSignal } from "./lifecycle.ts";

function throwsInvalid(text: string): void {
  throws(() => parseSignal(text), (e: unknown) => {
    ok(e instanceof InvalidInputError, `expected InvalidInputError for ${JSON.stringify(text)}, got ${e}`);
    equal(e.message, `invalid signal: ${text}`);
    equal(e.exitCode, ExitCode.Runtime);
    return true;
  });
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
  throwsInvalid("0");
  throwsInvalid("65");
  throwsInvalid("-9");
  throwsInvalid("1000");
});

Deno.test("parseSignal: unknown names and junk", () => {
  throwsInvalid("FOO");
  throwsInvalid("SIGFOO");
  throwsInvalid("");
  throwsInvalid("SIG");
  throwsInvalid("9.0");
  throwsInvalid("KILL ");
  throwsInvalid("SIGSIGKILL");
});
