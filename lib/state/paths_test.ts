import { deepEqual, equal } from "node:assert/strict";
import {
  containerDir,
  containersDir,
  DEFAULT_ROOT,
  DEFAULT_RUN_ROOT,
  lockFile,
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

Deno.test("statePaths: the defaults are /var/lib/husk with runtime files in /run/husk", () => {
  equal(DEFAULT_ROOT, "/var/lib/husk");
  equal(DEFAULT_RUN_ROOT, "/run/husk");
  deepEqual(withHuskRoot(undefined, () => statePaths()), { root: "/var/lib/husk", run: "/run/husk" });
});

Deno.test("statePaths: an explicit root keeps its runtime files inside it", () => {
  deepEqual(withHuskRoot(undefined, () => statePaths("/srv/husk")), {
    root: "/srv/husk",
    run: "/srv/husk/run",
  });
});

Deno.test("statePaths: an explicit root equal to the default uses /run/husk", () => {
  deepEqual(statePaths("/var/lib/husk"), { root: "/var/lib/husk", run: "/run/husk" });
});

Deno.test("statePaths: HUSK_ROOT is used without an explicit root", () => {
  deepEqual(withHuskRoot("/tmp/husk-env", () => statePaths()), {
    root: "/tmp/husk-env",
    run: "/tmp/husk-env/run",
  });
});

Deno.test("statePaths: an explicit root wins over HUSK_ROOT", () => {
  deepEqual(withHuskRoot("/tmp/husk-env", () => statePaths("/srv/husk")), {
    root: "/srv/husk",
    run: "/srv/husk/run",
  });
});

Deno.test("statePaths: a relative root is taken from the working directory", () => {
  const cwd = Deno.cwd();
  deepEqual(statePaths("state"), { root: `${cwd}/state`, run: `${cwd}/state/run` });
  deepEqual(withHuskRoot("env-state", () => statePaths()), {
    root: `${cwd}/env-state`,
    run: `${cwd}/env-state/run`,
  });
});

Deno.test("containersDir, containerDir and lockFile live under the root", () => {
  const p = statePaths("/srv/husk");
  equal(containersDir(p), "/srv/husk/containers");
  equal(containerDir(p, "abc"), "/srv/husk/containers/abc");
  equal(lockFile(p), "/srv/husk/containers.lock");
});
