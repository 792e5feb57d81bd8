/** Assertions on husk's typed errors, shared by the unit tests. */
import { equal, match, ok, throws } from "node:assert/strict";
import { ExitCode, InvalidInputError } from "../errors.ts";

/** A pattern that matches `message` exactly, for throwsInvalid. */
export function exactly(message: string): RegExp {
  return new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/**
 * `fn` throws an InvalidInputError (exit code 125) whose message is one line and contains every string
 * and matches every pattern of `parts`.
 */
export function throwsInvalid(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  throws(fn, (e: unknown) => {
    ok(e instanceof InvalidInputError, `expected InvalidInputError, got ${e}`);
    equal(e.exitCode, ExitCode.Runtime);
    ok(!e.message.includes("\n"), `one line: ${JSON.stringify(e.message)}`);
    for (const part of parts) {
      if (typeof part === "string") {
        ok(e.message.includes(part), `message ${JSON.stringify(e.message)} lacks ${part}`);
      } else match(e.message, part);
    }
    return true;
  });
}
