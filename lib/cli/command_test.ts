import { deepEqual } from "node:assert/strict";
import { throwsInvalid } from "../testing/errors.ts";
import { needArguments, needExactly, refuseArguments } from "./command.ts";

Deno.test("refuseArguments, needArguments, needExactly: Docker's wording", () => {
  refuseArguments("ps", []);
  throwsInvalid(() => refuseArguments("ps", ["x"]), `"husk ps" accepts no arguments`);
  deepEqual(needArguments("rm", ["a", "b"]), ["a", "b"]);
  throwsInvalid(() => needArguments("rm", []), /^"husk rm" requires at least 1 argument$/);
  throwsInvalid(
    () => needArguments("update", [], "container"),
    /^"husk update" requires at least 1 container$/,
  );
  needExactly("tag", ["a", "b"], 2);
  throwsInvalid(() => needExactly("tag", ["a"], 2), /^"husk tag" requires exactly 2 arguments$/);
  throwsInvalid(() => needExactly("top", [], 1, "container"), /^"husk top" requires exactly 1 container$/);
});
