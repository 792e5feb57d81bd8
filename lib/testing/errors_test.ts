import { ok, throws } from "node:assert/strict";
import { InvalidInputError } from "../errors.ts";
import { exactly, throwsInvalid } from "./errors.ts";

Deno.test("exactly: the whole message, its special characters literal", () => {
  const pattern = exactly("flag --rm takes no value (see 'husk run --help') 9.0 $x");
  ok(pattern.test("flag --rm takes no value (see 'husk run --help') 9.0 $x"));
  ok(!pattern.test("flag --rm takes no value (see 'husk run --help') 9x0 $x"));
  ok(!pattern.test("a flag --rm takes no value (see 'husk run --help') 9.0 $x"));
  ok(!pattern.test("flag --rm takes no value (see 'husk run --help') 9.0 $x."));
});

Deno.test("throwsInvalid: fails for another error class, a second line or a missing part", () => {
  throws(() =>
    throwsInvalid(() => {
      throw new Error("plain");
    })
  );
  throws(() =>
    throwsInvalid(() => {
      throw new InvalidInputError("one\ntwo");
    })
  );
  throws(() =>
    throwsInvalid(() => {
      throw new InvalidInputError("bad value");
    }, "other")
  );
  throwsInvalid(
    () => {
      throw new InvalidInputError("bad value");
    },
    "bad",
    /value$/,
  );
});
