import { deepEqual, ok } from "node:assert/strict";

import { FakeFs } from "./fake_fs.ts";
import { type Layer, resolveInRoot } from "./resolve.ts";
import { throwsInvalid } from "../testing/errors.ts";

const ROOT = "/r";

const base = {
  "/r/etc/passwd": "file",
  "/r/bin/sh": "file",
  "/r/dev/null": "other",
  "/r/tmp": "dir",
  "/tmp/secret": "file",
  "/etc/shadow": "file",
};

Deno.test("resolveInRoot: a plain path", () => {
  const fs = new FakeFs(base);
  deepEqual(resolveInRoot(ROOT, "/etc/passwd", [], fs), {
    path: "/etc/passwd",
    kind: "file",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/etc", [], fs), { path: "/etc", kind: "dir", missingParents: [] });
  deepEqual(resolveInRoot(ROOT, "/dev/null", [], fs), {
    path: "/dev/null",
    kind: "other",
    missingParents: [],
  });
  deepEqual(fs.lstatCalls, ["/r/etc", "/r/etc/passwd", "/r/etc", "/r/dev", "/r/dev/null"]);
});

Deno.test("resolveInRoot: the root, '.', '..' and repeated slashes", () => {
  const fs = new FakeFs(base);
  deepEqual(resolveInRoot(ROOT, "/", [], fs), { path: "/", kind: "dir", missingParents: [] });
  deepEqual(resolveInRoot(ROOT, "/..", [], fs), { path: "/", kind: "dir", missingParents: [] });
  deepEqual(resolveInRoot(ROOT, "//etc/./../../etc//passwd", [], fs), {
    path: "/etc/passwd",
    kind: "file",
    missingParents: [],
  });
  // ".." never reaches the host's /etc/shadow.
  deepEqual(resolveInRoot(ROOT, "/../../etc/shadow", [], fs).kind, "missing");
});

Deno.test("resolveInRoot: an absolute symlink stays inside the rootfs", () => {
  const fs = new FakeFs({ ...base, "/r/etc/evil": "->/tmp" });
  deepEqual(resolveInRoot(ROOT, "/etc/evil", [], fs), { path: "/tmp", kind: "dir", missingParents: [] });
  // The host's /tmp/secret exists; the container's does not.
  deepEqual(resolveInRoot(ROOT, "/etc/evil/secret", [], fs), {
    path: "/tmp/secret",
    kind: "missing",
    missingParents: [],
  });
  ok(fs.lstatCalls.every((p) => p.startsWith("/r/")), `looked outside the rootfs: ${fs.lstatCalls}`);
});

Deno.test("resolveInRoot: an absolute symlink to a directory missing in the rootfs is not the host's", () => {
  const fs = new FakeFs({ "/r/etc/evil": "->/var/lib", "/var/lib/x": "file" });
  deepEqual(resolveInRoot(ROOT, "/etc/evil/x", [], fs), {
    path: "/var/lib/x",
    kind: "missing",
    missingParents: ["/var", "/var/lib"],
  });
});

Deno.test("resolveInRoot: a final symlink is followed", () => {
  const fs = new FakeFs({ ...base, "/r/bin/ash": "->sh", "/r/usr/bin/env": "->../../bin/sh" });
  deepEqual(resolveInRoot(ROOT, "/bin/ash", [], fs), { path: "/bin/sh", kind: "file", missingParents: [] });
  deepEqual(resolveInRoot(ROOT, "/usr/bin/env", [], fs), {
    path: "/bin/sh",
    kind: "file",
    missingParents: [],
  });
});

Deno.test("resolveInRoot: '..' in a relative symlink is clamped at /", () => {
  const fs = new FakeFs({ ...base, "/r/a/b/link": "->../../../../../../etc/passwd", "/r/a/up": "->../.." });
  deepEqual(resolveInRoot(ROOT, "/a/b/link", [], fs), {
    path: "/etc/passwd",
    kind: "file",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/a/up/etc/passwd", [], fs), {
    path: "/etc/passwd",
    kind: "file",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/a/up", [], fs), { path: "/", kind: "dir", missingParents: [] });
  ok(fs.lstatCalls.every((p) => p.startsWith("/r/")), `looked outside the rootfs: ${fs.lstatCalls}`);
});

Deno.test("resolveInRoot: '..' after a symlink goes up from its target", () => {
  const fs = new FakeFs({ ...base, "/r/a/link": "->/usr/share/doc", "/r/usr/share/doc": "dir" });
  deepEqual(resolveInRoot(ROOT, "/a/link/..", [], fs), {
    path: "/usr/share",
    kind: "dir",
    missingParents: [],
  });
});

Deno.test("resolveInRoot: symlink loops are rejected", () => {
  const fs = new FakeFs({ "/r/a": "->b", "/r/b": "->a", "/r/self": "->/self", "/r/dir/up": "->../dir/up" });
  throwsInvalid(() => resolveInRoot(ROOT, "/a", [], fs), `"/a"`, "symlinks");
  throwsInvalid(() => resolveInRoot(ROOT, "/self/x", [], fs), `"/self/x"`);
  throwsInvalid(() => resolveInRoot(ROOT, "/dir/up", [], fs), `"/dir/up"`);
});

Deno.test("resolveInRoot: a long chain of links that ends is fine", () => {
  const spec: Record<string, string> = { "/r/target": "file" };
  for (let i = 0; i < 30; i++) spec[`/r/l${i}`] = i === 29 ? "->target" : `->l${i + 1}`;
  deepEqual(resolveInRoot(ROOT, "/l0", [], new FakeFs(spec)), {
    path: "/target",
    kind: "file",
    missingParents: [],
  });
});

Deno.test("resolveInRoot: missing components are listed parents first", () => {
  const fs = new FakeFs(base);
  deepEqual(resolveInRoot(ROOT, "/srv/app/data/file", [], fs), {
    path: "/srv/app/data/file",
    kind: "missing",
    missingParents: ["/srv", "/srv/app", "/srv/app/data"],
  });
  deepEqual(resolveInRoot(ROOT, "/etc/new", [], fs), {
    path: "/etc/new",
    kind: "missing",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/etc/a/./b", [], fs), {
    path: "/etc/a/b",
    kind: "missing",
    missingParents: ["/etc/a"],
  });
});

Deno.test("resolveInRoot: a dangling symlink gives the path of its target to create", () => {
  const fs = new FakeFs({ ...base, "/r/etc/mtab": "->/proc/self/mounts" });
  deepEqual(resolveInRoot(ROOT, "/etc/mtab", [], fs), {
    path: "/proc/self/mounts",
    kind: "missing",
    missingParents: ["/proc", "/proc/self"],
  });
});

Deno.test("resolveInRoot: '..' below a missing directory is rejected", () => {
  throwsInvalid(() => resolveInRoot(ROOT, "/nope/../etc", [], new FakeFs(base)), `"/nope/../etc"`);
});

Deno.test("resolveInRoot: a file in the middle of a path is rejected", () => {
  const fs = new FakeFs({ ...base, "/r/link": "->etc/passwd" });
  throwsInvalid(() => resolveInRoot(ROOT, "/etc/passwd/x", [], fs), `"/etc/passwd"`, "not a directory");
  throwsInvalid(() => resolveInRoot(ROOT, "/etc/passwd/..", [], fs), "not a directory");
  throwsInvalid(() => resolveInRoot(ROOT, "/dev/null/x", [], fs), "not a directory");
  throwsInvalid(() => resolveInRoot(ROOT, "/link/x", [], fs), "not a directory");
});

Deno.test("resolveInRoot: under a bind layer, paths look into its source", () => {
  const fs = new FakeFs({ ...base, "/host/data/f": "file", "/host/data/sub": "dir", "/r/data/f": "dir" });
  const layers: Layer[] = [{ destination: "/data", source: "/host/data" }];
  deepEqual(resolveInRoot(ROOT, "/data/f", layers, fs), {
    path: "/data/f",
    kind: "file",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/data", layers, fs), { path: "/data", kind: "dir", missingParents: [] });
  deepEqual(resolveInRoot(ROOT, "/data/new/x", layers, fs), {
    path: "/data/new/x",
    kind: "missing",
    missingParents: ["/data/new"],
  });
  ok(fs.lstatCalls.includes("/host/data/f"));
  ok(!fs.lstatCalls.includes("/r/data/f"), "looked under the mount point instead of into the mount");
  // A sibling with a common prefix is not under the layer.
  deepEqual(resolveInRoot(ROOT, "/database", layers, fs).kind, "missing");
});

Deno.test("resolveInRoot: an absolute symlink inside a bind source resolves in the container", () => {
  const fs = new FakeFs({ ...base, "/host/data/link": "->/etc", "/etc/only-on-host": "file" });
  const layers: Layer[] = [{ destination: "/data", source: "/host/data" }];
  deepEqual(resolveInRoot(ROOT, "/data/link/passwd", layers, fs), {
    path: "/etc/passwd",
    kind: "file",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/data/link/only-on-host", layers, fs).kind, "missing");
});

Deno.test("resolveInRoot: the latest layer on a path wins", () => {
  const fs = new FakeFs({ "/h1/a": "file", "/h2/b": "file" });
  const layers: Layer[] = [
    { destination: "/data", source: "/h1" },
    { destination: "/data", source: "/h2" },
  ];
  deepEqual(resolveInRoot(ROOT, "/data/b", layers, fs).kind, "file");
  deepEqual(resolveInRoot(ROOT, "/data/a", layers, fs).kind, "missing");
});

Deno.test("resolveInRoot: a bind mount of a file", () => {
  const fs = new FakeFs({ ...base, "/host/hosts": "file" });
  const layers: Layer[] = [{ destination: "/etc/hosts", source: "/host/hosts" }];
  deepEqual(resolveInRoot(ROOT, "/etc/hosts", layers, fs), {
    path: "/etc/hosts",
    kind: "file",
    missingParents: [],
  });
  throwsInvalid(() => resolveInRoot(ROOT, "/etc/hosts/x", layers, fs), "not a directory");
});

Deno.test("resolveInRoot: under a fresh file system only the layer root exists, as a directory", () => {
  const fs = new FakeFs({ ...base, "/r/dev/pts/0": "other" });
  const layers: Layer[] = [{ destination: "/dev", source: null }];
  deepEqual(resolveInRoot(ROOT, "/dev", layers, fs), { path: "/dev", kind: "dir", missingParents: [] });
  deepEqual(resolveInRoot(ROOT, "/dev/null", layers, fs), {
    path: "/dev/null",
    kind: "missing",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/dev/pts/0", layers, fs), {
    path: "/dev/pts/0",
    kind: "missing",
    missingParents: ["/dev/pts"],
  });
  ok(!fs.lstatCalls.some((p) => p.startsWith("/r/dev/")), `looked under the tmpfs: ${fs.lstatCalls}`);
});

Deno.test("resolveInRoot: a fresh file system nested in another", () => {
  const fs = new FakeFs(base);
  const layers: Layer[] = [{ destination: "/dev", source: null }, { destination: "/dev/pts", source: null }];
  deepEqual(resolveInRoot(ROOT, "/dev/pts", layers, fs), {
    path: "/dev/pts",
    kind: "dir",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/dev/pts/ptmx", layers, fs).kind, "missing");
  deepEqual(resolveInRoot(ROOT, "/dev/shm", layers, fs).kind, "missing");
});

Deno.test("resolveInRoot: a fresh file system over a bind layer hides it", () => {
  const fs = new FakeFs({ "/host/data/f": "file" });
  const layers: Layer[] = [{ destination: "/data", source: "/host/data" }, {
    destination: "/data",
    source: null,
  }];
  deepEqual(resolveInRoot(ROOT, "/data/f", layers, fs).kind, "missing");
});

Deno.test("resolveInRoot: a bind source that is a symlink on the host is the mount's root, not a link", () => {
  // `-v /host/link:/data` mounts what /host/link points to on the host; in the container, /data is the
  // mount point itself. Resolving /data/sub must not read /host/link as a container symlink.
  const fs = new FakeFs({ ...base, "/host/link": "->/srv/data", "/srv/data/sub": "dir" });
  const layers: Layer[] = [{ destination: "/data", source: "/host/link" }];
  deepEqual(resolveInRoot(ROOT, "/data/sub", layers, fs), {
    path: "/data/sub",
    kind: "dir",
    missingParents: [],
  });
  deepEqual(resolveInRoot(ROOT, "/data", layers, fs), { path: "/data", kind: "dir", missingParents: [] });
});
