import { deepEqual, equal, throws } from "node:assert/strict";
import { InvalidInputError } from "../errors.ts";
import { buildUserns, DEFAULT_RANGE, hostIdOf, mapText, parseMapping, subordinateRange } from "./userns.ts";

const none = { uidmap: [], gidmap: [] };

Deno.test("buildUserns: host by default; remap takes husk's /etc/subuid range, else the default", () => {
  equal(buildUserns(none, "", ""), null);
  equal(buildUserns({ ...none, userns: "host" }, "", ""), null);
  const fallback = [{ containerID: 0, hostID: DEFAULT_RANGE.start, size: DEFAULT_RANGE.count }];
  deepEqual(buildUserns({ ...none, userns: "remap" }, "", ""), {
    uidMappings: fallback,
    gidMappings: fallback,
  });
  const ns = buildUserns(
    { ...none, userns: "remap" },
    "alice:1000:5\nhusk:300000:65536\n",
    "husk:400000:65536\n",
  );
  deepEqual(ns?.uidMappings, [{ containerID: 0, hostID: 300000, size: 65536 }]);
  deepEqual(ns?.gidMappings, [{ containerID: 0, hostID: 400000, size: 65536 }]);
});

Deno.test("buildUserns: --uidmap implies a user namespace; --gidmap defaults to it", () => {
  const ns = buildUserns({ uidmap: ["0:200000:1000", "1000:300000:10"], gidmap: [] }, "", "");
  deepEqual(ns?.uidMappings, [
    { containerID: 0, hostID: 200000, size: 1000 },
    { containerID: 1000, hostID: 300000, size: 10 },
  ]);
  deepEqual(ns?.gidMappings, ns?.uidMappings);
  const gids = buildUserns({ uidmap: ["0:200000:10"], gidmap: ["0:500000:10"] }, "", "");
  deepEqual(gids?.gidMappings, [{ containerID: 0, hostID: 500000, size: 10 }]);
});

Deno.test("buildUserns: overlapping ranges, an unmapped root, a range beyond husk's subordinate ids", () => {
  const bad = (flags: Parameters<typeof buildUserns>[0], subuid: string, pattern: RegExp) =>
    throws(
      () => buildUserns(flags, subuid, subuid),
      (e) => e instanceof InvalidInputError && pattern.test(e.message),
    );
  bad({ uidmap: ["0:100:10", "5:1000:10"], gidmap: [] }, "", /container ranges of two mappings overlap/);
  bad({ uidmap: ["0:100:10", "20:105:10"], gidmap: [] }, "", /host ranges of two mappings overlap/);
  bad({ uidmap: ["1:100:10"], gidmap: [] }, "", /root \(id 0\) must be mapped/);
  bad(
    { uidmap: ["0:100000:70000"], gidmap: [] },
    "husk:100000:65536\n",
    /exceed husk's subordinate range 100000-165535 in \/etc\/subuid/,
  );
  bad({ uidmap: ["0:99999:10"], gidmap: [] }, "husk:100000:65536\n", /exceed/);
  bad({ userns: "private", ...none }, "", /invalid --userns "private"/);
  bad({ userns: "host", uidmap: ["0:1:1"], gidmap: [] }, "", /need a user namespace/);
});

Deno.test("parseMapping, subordinateRange, mapText, hostIdOf", () => {
  deepEqual(parseMapping("0:100000:65536", "--uidmap"), { containerID: 0, hostID: 100000, size: 65536 });
  for (const bad of ["0:1", "a:1:1", "0:1:0", "0:1:1:1", "-1:1:1"]) {
    throws(() => parseMapping(bad, "--uidmap"), InvalidInputError, bad);
  }
  deepEqual(subordinateRange("root:1:2\nhusk:10:20\n", "husk"), { start: 10, count: 20 });
  equal(subordinateRange("root:1:2\n", "husk"), null);
  equal(
    mapText([{ containerID: 0, hostID: 100000, size: 65536 }, { containerID: 70000, hostID: 5, size: 1 }]),
    "0 100000 65536\n70000 5 1\n",
  );
  const maps = [{ containerID: 0, hostID: 100000, size: 10 }];
  equal(hostIdOf(maps, 3), 100003);
  equal(hostIdOf(maps, 10), null);
});
