import { deepEqual } from "node:assert/strict";

import { parseUser } from "./user.ts";
import { throwsInvalid } from "../testing/errors.ts";

Deno.test("parseUser: no -u is root", () => {
  deepEqual(parseUser(undefined), { uid: 0, gid: 0, additionalGids: [] });
});

Deno.test("parseUser: a bare uid runs with gid 0", () => {
  deepEqual(parseUser("1000"), { uid: 1000, gid: 0, additionalGids: [] });
  deepEqual(parseUser("0"), { uid: 0, gid: 0, additionalGids: [] });
});

Deno.test("parseUser: uid:gid", () => {
  deepEqual(parseUser("1000:1000"), { uid: 1000, gid: 1000, additionalGids: [] });
  deepEqual(parseUser("1000:50"), { uid: 1000, gid: 50, additionalGids: [] });
  deepEqual(parseUser("0:0"), { uid: 0, gid: 0, additionalGids: [] });
});

Deno.test("parseUser: the largest valid id is accepted", () => {
  deepEqual(parseUser("4294967294:4294967294"), { uid: 4294967294, gid: 4294967294, additionalGids: [] });
});

Deno.test("parseUser: names are refused without account files", () => {
  throwsInvalid(() => parseUser("root"), `"root"`);
  throwsInvalid(() => parseUser("nobody:1000"), `"nobody:1000"`);
  throwsInvalid(() => parseUser("1000:users"), `"1000:users"`, "unable to find group users");
});

Deno.test("parseUser: too many colons are rejected", () => {
  throwsInvalid(() => parseUser("1:2:3"), `"1:2:3"`, "colons");
});

Deno.test("parseUser: empty, negative and malformed ids are rejected", () => {
  for (const spec of ["", ":", "1000:", ":1000", "-1", "1.5", " 1000", "1e3", "0x10"]) {
    throwsInvalid(() => parseUser(spec), `"${spec}"`);
  }
});

Deno.test("parseUser: ids out of range are rejected", () => {
  // (uid_t)-1 means "unchanged" to setresuid, so 4294967295 is not a valid id.
  throwsInvalid(() => parseUser("4294967295"), "range");
  throwsInvalid(() => parseUser("0:4294967295"), "range");
  throwsInvalid(() => parseUser("9999999999"), "range");
  throwsInvalid(() => parseUser("99999999999"), `"99999999999"`);
  throwsInvalid(() => parseUser("123456789012345678901234567890"));
});

const files = {
  passwd:
    "root:x:0:0:root:/root:/bin/sh\n# comment\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1000::/app:/bin/sh\n",
  group: "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app,other\naudio:x:29:app\n",
};

Deno.test("parseUser: names from the root filesystem's passwd and group files", () => {
  deepEqual(parseUser("nobody", files), { uid: 65534, gid: 65534, additionalGids: [] });
  deepEqual(parseUser("app", files), { uid: 1000, gid: 1000, additionalGids: [10, 29] });
  deepEqual(parseUser("1000", files), { uid: 1000, gid: 1000, additionalGids: [10, 29] }, "a known uid");
  deepEqual(parseUser("2000", files), { uid: 2000, gid: 0, additionalGids: [] }, "an unknown uid");
  deepEqual(parseUser("app:wheel", files), { uid: 1000, gid: 10, additionalGids: [29] });
  deepEqual(parseUser("nobody:5", files), { uid: 65534, gid: 5, additionalGids: [] });
  throwsInvalid(
    () => parseUser("ghost", files),
    "unable to find user ghost: no matching entries in passwd file",
  );
  throwsInvalid(() => parseUser("app:ghosts", files), "unable to find group ghosts");
});
