import { deepEqual, equal, ok } from "node:assert/strict";
import {
  containerDir,
  containerRunDir,
  containersDir,
  DEFAULT_ROOT,
  lockFile,
  rootTag,
  runDir,
  statePaths,
} from "./paths.ts";

/** Runs `fn` with HUSK_ROOT set to `value` (or unset), restoring the previous value after. */
function withHuskRoot<T>(value: string | undefined, fn: () => T): T {
  const saved = Deno.env.get("HUSK_ROOT");
  if (value === undefined) Deno.env.delete("HUSK_ROOT");
  else Deno.env.set("HUSK_ROOT", value);
  try {
    return fn();
  } finally {
    if (saved === undefined) Deno.env.delete("HUSK_ROOT");
    else Deno.env.set("HUSK_ROOT", saved);
  }
}

Deno.test("statePaths: the default is /var/lib/husk", () => {
  equal(DEFAULT_ROOT, "/var/lib/husk");
  deepEqual(withHuskRoot(undefined, () => statePaths()), { root: "/var/lib/husk" });
  deepEqual(withHuskRoot("", () => statePaths()), { root: "/var/lib/husk" }, "an empty HUSK_ROOT is unset");
});

Deno.test("statePaths: HUSK_ROOT is used without an explicit root; an explicit root wins", () => {
  deepEqual(withHuskRoot("/tmp/husk-env", () => statePaths()), { root: "/tmp/husk-env" });
  deepEqual(withHuskRoot("/tmp/husk-env", () => statePaths("/srv/husk")), { root: "/srv/husk" });
});

Deno.test("statePaths: roots are absolute and normalized", () => {
  const cwd = Deno.cwd();
  deepEqual(statePaths("state"), { root: `${cwd}/state` });
  deepEqual(withHuskRoot("env-state", () => statePaths()), { root: `${cwd}/env-state` });
  deepEqual(statePaths("/var/lib/husk/"), { root: "/var/lib/husk" }, "a trailing slash is the same root");
  deepEqual(statePaths("/srv//husk/../husk"), { root: "/srv/husk" });
});

Deno.test("containersDir, containerDir and lockFile live under the root", () => {
  const p = statePaths("/srv/husk");
  equal(containersDir(p), "/srv/husk/containers");
  equal(containerDir(p, "abc"), "/srv/husk/containers/abc");
  equal(lockFile(p), "/srv/husk/containers.lock");
});

Deno.test("runDir: /run/husk for the default root, a directory of its own under it for another", () => {
  equal(runDir(statePaths(DEFAULT_ROOT)), "/run/husk");
  const p = statePaths("/srv/husk");
  equal(runDir(p), `/run/husk/root-${rootTag(p)}`);
  equal(containerRunDir(p, "abc"), `/run/husk/root-${rootTag(p)}/containers/abc`);
  ok(runDir(statePaths("/srv/other")) !== runDir(p), "roots never share a run directory");
});
