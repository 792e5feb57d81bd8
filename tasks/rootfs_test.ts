import assert from "node:assert/strict";
import { hostFs, resolveInRoot } from "../lib/rootfs/resolve.ts";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type AlpineSpec,
  alpineSpec,
  buildBusyboxRootfs,
  BusyboxMissingError,
  ChecksumError,
  DownloadError,
  elfHasInterpreter,
  ensureRootfs,
  fetchAlpineRootfs,
  isCompleteRootfs,
  linkParentDirs,
  locateStaticBusybox,
  mountPointsUnder,
  parseBusyboxVersion,
  planAppletLinks,
  pointDefault,
} from "./rootfs.ts";

const isRoot = Deno.uid() === 0;

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "husk-rootfs-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

async function output(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

// --- pure parts -------------------------------------------------------------------------------

Deno.test("parseBusyboxVersion: Debian and upstream banners", () => {
  assert.equal(
    parseBusyboxVersion("BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.\nBusyBox is ..."),
    "1.35.0",
  );
  assert.equal(parseBusyboxVersion("BusyBox v1.36.1 (2023-11-07 18:53:09 UTC) multi-call binary."), "1.36.1");
  assert.equal(parseBusyboxVersion("BusyBox v1.37.0.git multi-call binary"), "1.37.0.git");
  assert.equal(parseBusyboxVersion("noise\nBusyBox v1.30.1, built"), "1.30.1");
});

Deno.test("parseBusyboxVersion: rejects missing or unsafe versions", () => {
  assert.throws(() => parseBusyboxVersion("sh: busybox: not found"), /BusyBox vX\.Y\.Z/);
  assert.throws(() => parseBusyboxVersion("BusyBox v../../etc multi-call"), /unexpected busybox version/);
  assert.throws(() => parseBusyboxVersion("BusyBox v1.2/3 multi-call"), /unexpected busybox version/);
});

Deno.test("planAppletLinks: sorted, de-duplicated, absolute /bin/busybox targets, skips busybox itself", () => {
  const plan = planAppletLinks(
    "usr/bin/[\nbin/sh\n\nbin/sh\n  sbin/init  \nbin/busybox\nlinuxrc\n/usr/sbin/chroot\n",
  );
  assert.deepEqual(plan, [
    { path: "bin/sh", target: "/bin/busybox" },
    { path: "linuxrc", target: "/bin/busybox" },
    { path: "sbin/init", target: "/bin/busybox" },
    { path: "usr/bin/[", target: "/bin/busybox" },
    { path: "usr/sbin/chroot", target: "/bin/busybox" },
  ]);
  assert.deepEqual(planAppletLinks("bin/sh\n", "/usr/bin/busybox"), [{
    path: "bin/sh",
    target: "/usr/bin/busybox",
  }]);
  assert.deepEqual(planAppletLinks(""), []);
});

Deno.test("planAppletLinks: refuses paths that could leave the rootfs", () => {
  for (const bad of ["../etc/passwd", "bin/../../x", "bin//sh", "./bin/sh", "bin/", "/", "bin/sh\0"]) {
    assert.throws(() => planAppletLinks(`bin/ls\n${bad}\n`), /suspicious applet path/, bad);
  }
});

Deno.test("linkParentDirs: every parent, parents first", () => {
  const plan = planAppletLinks("usr/local/bin/x\nbin/sh\nlinuxrc\nusr/bin/y\n");
  assert.deepEqual(linkParentDirs(plan), ["bin", "usr", "usr/bin", "usr/local", "usr/local/bin"]);
});

Deno.test("elfHasInterpreter: dynamic deno vs non-ELF", async () => {
  using deno = await Deno.open(Deno.execPath());
  const head = new Uint8Array(65536);
  assert.equal(await deno.read(head), head.length);
  assert.equal(elfHasInterpreter(head), true);
  assert.throws(
    () => elfHasInterpreter(new TextEncoder().encode("#!/bin/sh\necho hi\n".repeat(4))),
    /not an ELF/,
  );
  assert.throws(() => elfHasInterpreter(new Uint8Array(10)), /not an ELF/);
});

Deno.test("mountPointsUnder: exact, nested, octal-escaped; not prefixes of other names", () => {
  const info = [
    "22 1 0:21 / / rw - ext4 /dev/sda1 rw",
    "30 22 0:5 / /work/main/rootfs/busybox-1.35.0/proc rw - proc proc rw",
    "31 22 0:6 / /work/main/rootfs/busybox-1.35.0 rw - overlay overlay rw",
    "32 22 0:7 / /work/main/rootfs/busybox-1.35.0-old/dev rw - tmpfs tmpfs rw",
    "33 22 0:8 / /work/main/rootfs/with\\040space/x rw - tmpfs tmpfs rw",
    "",
  ].join("\n");
  assert.deepEqual(mountPointsUnder(info, "/work/main/rootfs/busybox-1.35.0/"), [
    "/work/main/rootfs/busybox-1.35.0/proc",
    "/work/main/rootfs/busybox-1.35.0",
  ]);
  assert.deepEqual(mountPointsUnder(info, "/work/main/rootfs/with space"), [
    "/work/main/rootfs/with space/x",
  ]);
  assert.deepEqual(mountPointsUnder(info, "/work/other"), []);
});

Deno.test("alpineSpec: pinned URL and checksum", () => {
  const spec = alpineSpec("x86_64")!;
  assert.equal(
    spec.url,
    "https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz",
  );
  assert.match(spec.sha256, /^[0-9a-f]{64}$/);
  assert.equal(alpineSpec("riscv64"), null);
});

Deno.test("pointDefault: creates, keeps, and atomically retargets the link", async () => {
  await withTmp(async (dir) => {
    assert.equal(await pointDefault(dir, "a"), true);
    assert.equal(await Deno.readLink(join(dir, "default")), "a");
    assert.equal(await pointDefault(dir, "a"), false);
    assert.equal(await pointDefault(dir, "b"), true);
    assert.equal(await Deno.readLink(join(dir, "default")), "b");
    assert.deepEqual(await names(dir), ["default"]);
  });
});

Deno.test("locateStaticBusybox: HUSK_BUSYBOX must name a static ELF binary", async () => {
  const saved = Deno.env.get("HUSK_BUSYBOX");
  try {
    Deno.env.set("HUSK_BUSYBOX", Deno.execPath());
    await assert.rejects(locateStaticBusybox(), BusyboxMissingError, "dynamically linked");
    Deno.env.set("HUSK_BUSYBOX", "/nonexistent/busybox");
    await assert.rejects(locateStaticBusybox(), BusyboxMissingError);
    Deno.env.delete("HUSK_BUSYBOX");
    const found = await locateStaticBusybox();
    Deno.env.set("HUSK_BUSYBOX", found);
    assert.equal(await locateStaticBusybox(), found);
  } finally {
    if (saved === undefined) Deno.env.delete("HUSK_BUSYBOX");
    else Deno.env.set("HUSK_BUSYBOX", saved);
  }
});

// --- building for real ------------------------------------------------------------------------

Deno.test("buildBusyboxRootfs: a complete tree whose /bin/sh runs under chroot", async () => {
  const busybox = await locateStaticBusybox();
  await withTmp(async (parent) => {
    const dest = join(parent, "bb");
    const result = await buildBusyboxRootfs(dest);
    assert.equal(result.path, dest);
    assert.equal(result.busybox, busybox);
    assert.match(result.version, /^\d+\.\d+/);
    assert.deepEqual(await names(parent), ["bb"], "no .tmp-* left behind");

    assert.equal(await Deno.readLink(join(dest, "bin/sh")), "/bin/busybox");
    assert.equal(resolveInRoot(dest, "/bin/sh", [], hostFs).path, "/bin/busybox");
    assert.equal(resolveInRoot(dest, "/usr/bin/env", [], hostFs).path, "/bin/busybox");
    const bb = await Deno.lstat(join(dest, "bin/busybox"));
    assert.ok(bb.isFile && (bb.mode! & 0o777) === 0o755);
    assert.equal(bb.size, (await Deno.stat(busybox)).size);
    assert.ok(await isCompleteRootfs(dest));

    // --list-full names bin/busybox itself too: that one is the binary, not a link.
    const listed = (await output(busybox, ["--list-full"])).stdout.trim().split("\n")
      .filter((p) => p !== "bin/busybox").length;
    let links = 0;
    for (const d of ["", "bin", "sbin", "usr/bin", "usr/sbin"]) {
      for await (const e of Deno.readDir(join(dest, d))) if (e.isSymlink) links++;
    }
    assert.equal(links, listed, "one symlink per applet");

    const mode = async (p: string) => (await Deno.lstat(join(dest, p))).mode! & 0o7777;
    assert.equal(await mode("tmp"), 0o1777);
    assert.equal(await mode("root"), 0o700);
    assert.equal(await mode("."), 0o755);
    for (const d of ["dev", "proc", "sys", "etc", "home", "var", "run", "usr/bin", "usr/sbin", "sbin"]) {
      assert.ok((await Deno.lstat(join(dest, d))).isDirectory, d);
    }
    const passwd = await Deno.readTextFile(join(dest, "etc/passwd"));
    assert.match(passwd, /^root:x:0:0:root:\/root:\/bin\/sh$/m);
    assert.match(passwd, /^nobody:x:65534:65534:/m);
    const group = await Deno.readTextFile(join(dest, "etc/group"));
    assert.match(group, /^root:x:0:$/m);
    assert.match(group, /^tty:x:5:$/m);
    assert.match(group, /^nogroup:x:65534:$/m);
    assert.match(await Deno.readTextFile(join(dest, "etc/os-release")), /husk busybox rootfs/);
    assert.ok((await Deno.readTextFile(join(dest, "etc/hostname"))).trim().length > 0);

    if (isRoot) {
      const r = await output("chroot", [dest, "/bin/sh", "-c", "echo ok"]);
      assert.equal(r.stdout, "ok\n", r.stderr);
      const id = await output("chroot", [
        dest,
        "/bin/sh",
        "-c",
        "id -un; ls /usr/bin/[ >/dev/null && echo links",
      ]);
      assert.equal(id.stdout, "root\nlinks\n", id.stderr);
    }

    // An existing tree is never clobbered unless asked to.
    await assert.rejects(buildBusyboxRootfs(dest), /already exists/);
    await Deno.writeTextFile(join(dest, "marker"), "old");
    await buildBusyboxRootfs(dest, { replace: true });
    assert.equal(await isCompleteRootfs(dest), true);
    await assert.rejects(Deno.lstat(join(dest, "marker")), Deno.errors.NotFound);
    assert.deepEqual(await names(parent), ["bb"]);
  });
});

Deno.test("buildBusyboxRootfs: refuses a dynamically linked busybox and leaves nothing behind", async () => {
  await withTmp(async (parent) => {
    await assert.rejects(
      buildBusyboxRootfs(join(parent, "bb"), { busybox: Deno.execPath() }),
      /dynamically linked/,
    );
    assert.deepEqual(await names(parent), []);
  });
});

Deno.test("ensureRootfs offline: builds, links default, then is idempotent; --force rebuilds; stale tmp removed", async () => {
  await withTmp(async (parent) => {
    const rootfsDir = join(parent, "rootfs");
    await Deno.mkdir(join(rootfsDir, ".tmp-stale/bin"), { recursive: true });
    await Deno.writeTextFile(join(rootfsDir, "README.md"), "keep me\n");

    const first = await ensureRootfs({ rootfsDir, offline: true });
    assert.match(
      first,
      /^rootfs: built rootfs\/busybox-[\d.]+ from .+ \(--offline\); rootfs\/default -> busybox-/,
    );
    const target = await Deno.readLink(join(rootfsDir, "default"));
    assert.match(target, /^busybox-\d/);
    assert.ok(await isCompleteRootfs(join(rootfsDir, "default")));
    assert.deepEqual(await names(rootfsDir), [".lock", "README.md", target, "default"].sort());

    const second = await ensureRootfs({ rootfsDir, offline: true });
    assert.match(second, /already complete; nothing to do/);

    // default removed, tree still there: only the link is recreated.
    await Deno.remove(join(rootfsDir, "default"));
    assert.match(await ensureRootfs({ rootfsDir, offline: true }), /already built \(--offline\)/);
    assert.equal(await Deno.readLink(join(rootfsDir, "default")), target);

    await Deno.writeTextFile(join(rootfsDir, target, "marker"), "old");
    assert.match(await ensureRootfs({ rootfsDir, offline: true, force: true }), /^rootfs: built /);
    await assert.rejects(Deno.lstat(join(rootfsDir, target, "marker")), Deno.errors.NotFound);
    assert.deepEqual(await names(rootfsDir), [".lock", "README.md", target, "default"].sort());
  });
});

// --- the Alpine path, against a loopback server ----------------------------------------------

async function serveFile(body: Uint8Array, fn: (url: string) => Promise<void>): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    return new URL(req.url).pathname === "/mini.tar.gz"
      ? new Response(body.slice())
      : new Response("nope", { status: 404 });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("fetchAlpineRootfs / ensureRootfs: download, verify, extract; bad checksum and unreachable fall back", async () => {
  await withTmp(async (parent) => {
    // A small "minirootfs" tarball made from a busybox tree.
    await buildBusyboxRootfs(join(parent, "src"));
    const tarball = join(parent, "mini.tar.gz");
    const tar = await output("tar", ["-czf", tarball, "--numeric-owner", "-C", join(parent, "src"), "."]);
    assert.equal(tar.code, 0, tar.stderr);
    const body = await Deno.readFile(tarball);
    const sha256 = createHash("sha256").update(body).digest("hex");

    await serveFile(body, async (base) => {
      const good: AlpineSpec = { version: "9.9.9", url: `${base}/mini.tar.gz`, sha256 };
      const out = join(parent, "out");
      await Deno.mkdir(out);

      const dest = await fetchAlpineRootfs(join(out, "alpine"), good);
      assert.equal(dest, join(out, "alpine"));
      assert.ok(await isCompleteRootfs(dest));
      assert.equal((await Deno.lstat(join(dest, "tmp"))).mode! & 0o7777, 0o1777);
      assert.deepEqual(await names(out), ["alpine"]);

      await assert.rejects(
        fetchAlpineRootfs(join(out, "bad"), { ...good, sha256: "0".repeat(64) }),
        ChecksumError,
      );
      await assert.rejects(
        fetchAlpineRootfs(join(out, "missing"), { ...good, url: `${base}/missing.tar.gz` }),
        (e) => e instanceof DownloadError && !e.unreachable && /HTTP 404/.test(e.message),
      );
      assert.deepEqual(await names(out), ["alpine"], "failed downloads leave nothing behind");

      const rootfsDir = join(parent, "rootfs");
      assert.match(
        await ensureRootfs({ rootfsDir, alpine: good }),
        /^rootfs: downloaded and verified Alpine 9\.9\.9 into rootfs\/alpine-9\.9\.9; rootfs\/default -> alpine-9\.9\.9$/,
      );
      assert.match(
        await ensureRootfs({ rootfsDir, alpine: { ...good, sha256: "0".repeat(64) }, force: true }),
        /^rootfs: built rootfs\/busybox-\S+ from .* \(Alpine download failed its sha256 check\)/,
      );
    });

    // Nothing listens on the closed server's port any more: "unreachable", and the busybox fallback.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closed = listener.addr.port;
    listener.close();
    const rootfsDir = join(parent, "rootfs2");
    const unreachable: AlpineSpec = { version: "9.9.9", url: `http://127.0.0.1:${closed}/x.tar.gz`, sha256 };
    await assert.rejects(
      fetchAlpineRootfs(join(parent, "x"), unreachable),
      (e) => e instanceof DownloadError && e.unreachable,
    );
    assert.match(
      await ensureRootfs({ rootfsDir, alpine: unreachable }),
      /^rootfs: built rootfs2\/busybox-\S+ from .* \(Alpine download unreachable\); rootfs2\/default -> busybox-/,
    );
  });
});
