/**
 * `deno task rootfs`: make sure `<project>/rootfs/default` points at a usable root filesystem.
 *
 * 1. If `rootfs/default` already points at a complete rootfs, do nothing (unless `--force`).
 * 2. Try the pinned Alpine minirootfs from dl-cdn.alpinelinux.org (short connect timeout), verify its
 *    sha256, extract it with the system `tar` into `rootfs/.tmp-*` and rename it to `rootfs/alpine-<version>`.
 * 3. Otherwise (the usual case offline) build a busybox rootfs from Debian's busybox-static into
 *    `rootfs/.tmp-*` and rename it to `rootfs/busybox-<version>` once complete.
 * 4. Point `rootfs/default` at the result (temp symlink + rename, so the switch is atomic).
 * 5. Register it as an image (busybox:<version> and busybox:latest) in husk's state root.
 *
 * Everything that is ever visible under its final name is complete: partial work lives in `.tmp-*`
 * entries, which the next run removes. Runs are serialised by a lock on `rootfs/.lock`.
 */
import { createHash } from "node:crypto";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { hostFs, resolveInRoot } from "../lib/rootfs/resolve.ts";
import { findImage } from "../lib/image/catalog.ts";
import { importTarball } from "../lib/image/import.ts";
import { tagImage } from "../lib/image/manage.ts";
import { packDirectory } from "../lib/image/pack.ts";
import { readCatalog } from "../lib/image/store.ts";
import { statePaths } from "../lib/state/paths.ts";

export const ALPINE_VERSION = "3.20.3";

/** Published sha256 sums of alpine-minirootfs-3.20.3-<arch>.tar.gz (from the release's .sha256 files). */
const ALPINE_SHA256: Record<string, string> = {
  x86_64: "d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c",
  aarch64: "041fa34a81788242df9e78fa69b97ab45b8ec47ddbf88864755610414a7bf3de",
};

export interface AlpineSpec {
  version: string;
  url: string;
  sha256: string;
}

/** The pinned Alpine minirootfs for this machine's architecture, or null if none is pinned. */
export function alpineSpec(arch: string = Deno.build.arch): AlpineSpec | null {
  const sha256 = ALPINE_SHA256[arch];
  if (!sha256) return null;
  const minor = ALPINE_VERSION.split(".").slice(0, 2).join(".");
  return {
    version: ALPINE_VERSION,
    url: `https://dl-cdn.alpinelinux.org/alpine/v${minor}/releases/${arch}/` +
      `alpine-minirootfs-${ALPINE_VERSION}-${arch}.tar.gz`,
    sha256,
  };
}

const PROJECT_ROOT = resolve(import.meta.dirname ?? ".", "..");
const ROOTFS_DIR = join(PROJECT_ROOT, "rootfs");
const TMP_PREFIX = ".tmp-";
/** Where a busybox binary is looked for, in order (HUSK_BUSYBOX overrides). */
const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];
/** What every applet symlink points at: an absolute, in-rootfs path, as a distro would ship it. */
export const BUSYBOX_IN_ROOTFS = "/bin/busybox";

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested in rootfs_test.ts)
// ---------------------------------------------------------------------------------------------

/** "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary." -> "1.35.0" */
export function parseBusyboxVersion(banner: string): string {
  const m = /BusyBox v(\S+)/.exec(banner);
  if (!m) {
    throw new Error(`cannot find a "BusyBox vX.Y.Z" banner in: ${JSON.stringify(banner.slice(0, 200))}`);
  }
  const version = m[1].replace(/[.,;:]+$/, "");
  // The version becomes a directory name: keep it boring.
  if (!/^[0-9][0-9A-Za-z._+-]*$/.test(version)) {
    throw new Error(`unexpected busybox version ${JSON.stringify(version)}`);
  }
  return version;
}

export interface AppletLink {
  /** Path of the symlink, relative to the rootfs root, e.g. "bin/sh". */
  path: string;
  /** Symlink target, e.g. "/bin/busybox". */
  target: string;
}

/**
 * Turns `busybox --list-full` output ("usr/bin/[", "bin/sh", "linuxrc", ...) into a sorted, de-duplicated
 * list of symlinks to create. The busybox binary's own path is skipped; anything that could escape the
 * rootfs (absolute after trimming slashes, "..", ".", empty components) is rejected.
 */
export function planAppletLinks(listFull: string, target: string = BUSYBOX_IN_ROOTFS): AppletLink[] {
  const self = target.replace(/^\/+/, "");
  const seen = new Set<string>();
  for (const raw of listFull.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const path = line.replace(/^\/+/, "");
    const parts = path.split("/");
    if (parts.some((p) => p === "" || p === "." || p === "..") || /[\0]/.test(path)) {
      throw new Error(`refusing suspicious applet path ${JSON.stringify(line)}`);
    }
    if (path === self) continue;
    seen.add(path);
  }
  return [...seen].sort().map((path) => ({ path, target }));
}

/** Directories (relative, parents first) that must exist before the links of `plan` can be created. */
export function linkParentDirs(plan: AppletLink[]): string[] {
  const dirs = new Set<string>();
  for (const { path } of plan) {
    const parts = path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return [...dirs].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

/** True when an ELF image has a PT_INTERP program header, i.e. is dynamically linked. Throws if not ELF. */
export function elfHasInterpreter(image: Uint8Array): boolean {
  if (image.length < 52 || image[0] !== 0x7f || image[1] !== 0x45 || image[2] !== 0x4c || image[3] !== 0x46) {
    throw new Error("not an ELF file");
  }
  const is64 = image[4] === 2;
  const le = image[5] === 1;
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const phoff = is64 ? Number(view.getBigUint64(0x20, le)) : view.getUint32(0x1c, le);
  const phentsize = view.getUint16(is64 ? 0x36 : 0x2a, le);
  const phnum = view.getUint16(is64 ? 0x38 : 0x2c, le);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > image.length) throw new Error("truncated ELF program header table");
    if (view.getUint32(off, le) === 3 /* PT_INTERP */) return true;
  }
  return false;
}

/** Mount points (from /proc/self/mountinfo text) equal to `dir` or below it. `dir` must be absolute. */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const base = dir.replace(/\/+$/, "") || "/";
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 5) continue;
    const mp = fields[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === base || mp.startsWith(base === "/" ? "/" : base + "/")) out.push(mp);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Filesystem helpers
// ---------------------------------------------------------------------------------------------

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function randomSuffix(): string {
  return crypto.randomUUID().slice(0, 8);
}

/** A rootfs is complete when /bin/sh resolves (inside it) to an executable file and /etc/passwd exists. */
export async function isCompleteRootfs(dir: string): Promise<boolean> {
  try {
    if (!(await Deno.stat(dir)).isDirectory) return false;
    const sh = await Deno.lstat(join(dir, resolveInRoot(dir, "/bin/sh", [], hostFs).path));
    if (!sh.isFile || ((sh.mode ?? 0o755) & 0o111) === 0) return false;
    await Deno.lstat(join(dir, "etc/passwd"));
    return true;
  } catch {
    return false;
  }
}

async function readMountinfo(): Promise<string> {
  try {
    return await Deno.readTextFile("/proc/self/mountinfo");
  } catch {
    return "";
  }
}

/** Refuses (throws) when something is mounted at or below `dir`: deleting it would reach into that mount. */
async function assertNoMounts(dir: string): Promise<void> {
  let real: string;
  try {
    real = await Deno.realPath(dir);
  } catch {
    return;
  }
  const mounts = mountPointsUnder(await readMountinfo(), real);
  if (mounts.length > 0) {
    throw new Error(`${dir} is in use: still mounted at ${mounts.join(", ")} (stop its containers first)`);
  }
}

/** rm -rf that never follows symlinks and refuses to descend into mounts. Missing paths are fine. */
async function safeRemove(path: string): Promise<void> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (st.isDirectory) await assertNoMounts(path);
  await Deno.remove(path, { recursive: st.isDirectory });
}

/**
 * Moves the finished tree `tmp` to `dest`. If `dest` exists, it is replaced only when `replace` is set
 * (old tree renamed to a .tmp- name first, then deleted), otherwise this throws.
 */
async function installTree(tmp: string, dest: string, replace: boolean): Promise<void> {
  if (await exists(dest)) {
    if (!replace) throw new Error(`${dest} already exists (use --force to rebuild it)`);
    await assertNoMounts(dest);
    const old = join(dirname(dest), `${TMP_PREFIX}old-${randomSuffix()}`);
    await Deno.rename(dest, old);
    await Deno.rename(tmp, dest);
    await safeRemove(old);
  } else {
    await Deno.rename(tmp, dest);
  }
}

async function makeTmpDir(parent: string): Promise<string> {
  await Deno.mkdir(parent, { recursive: true });
  return await Deno.makeTempDir({ dir: parent, prefix: TMP_PREFIX });
}

/** Removes leftovers of interrupted runs (`.tmp-*` entries) from `rootfsDir`. Call with the lock held. */
export async function removeStaleTmp(rootfsDir: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(rootfsDir)) {
    if (!entry.name.startsWith(TMP_PREFIX)) continue;
    await safeRemove(join(rootfsDir, entry.name));
    removed.push(entry.name);
  }
  return removed;
}

/** Atomically makes `<rootfsDir>/default` a symlink to `name`. Returns false if it already was. */
export async function pointDefault(rootfsDir: string, name: string): Promise<boolean> {
  const link = join(rootfsDir, "default");
  try {
    if ((await Deno.readLink(link)) === name) return false;
  } catch {
    // missing or not a symlink: replaced below (rename fails if it is a real directory)
  }
  const tmp = join(rootfsDir, `${TMP_PREFIX}link-${randomSuffix()}`);
  await Deno.symlink(name, tmp);
  try {
    await Deno.rename(tmp, link);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`cannot replace ${link} with a symlink to ${name}: ${(e as Error).message}`);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// busybox
// ---------------------------------------------------------------------------------------------

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<Deno.CommandOutput> {
  return await new Deno.Command(cmd, { args, env, stdin: "null", stdout: "piped", stderr: "piped" }).output();
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

export class BusyboxMissingError extends Error {}

/** The first 64 KiB of a file: enough for an ELF header and its program header table. */
async function readHead(path: string, size = 65536): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const buf = new Uint8Array(size);
  let n = 0;
  while (n < size) {
    const got = await file.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return buf.subarray(0, n);
}

/**
 * Path of a statically linked busybox on the host ($HUSK_BUSYBOX, /bin/busybox, /usr/bin/busybox).
 * Throws BusyboxMissingError if there is none (a dynamically linked one would not run in the rootfs).
 */
export async function locateStaticBusybox(): Promise<string> {
  const override = Deno.env.get("HUSK_BUSYBOX");
  const candidates = override ? [override] : BUSYBOX_CANDIDATES;
  const unusable: string[] = [];
  for (const path of candidates) {
    let image: Uint8Array;
    try {
      image = await readHead(path);
    } catch {
      continue;
    }
    let dynamicallyLinked: boolean;
    try {
      dynamicallyLinked = elfHasInterpreter(image);
    } catch (e) {
      unusable.push(`${path}: ${(e as Error).message}`);
      continue;
    }
    if (!dynamicallyLinked) return path;
    unusable.push(`${path}: dynamically linked`);
  }
  const found = unusable.length > 0 ? ` (${unusable.join("; ")})` : "";
  throw new BusyboxMissingError(`no statically linked busybox found in ${candidates.join(", ")}${found}`);
}

export async function busyboxVersion(busybox: string): Promise<string> {
  const out = await run(busybox, ["--help"]);
  return parseBusyboxVersion(decode(out.stdout) + decode(out.stderr));
}

async function aptGet(args: string[]): Promise<void> {
  const out = await run("apt-get", args, { DEBIAN_FRONTEND: "noninteractive" });
  if (!out.success) {
    throw new Error(
      `apt-get ${args.join(" ")} failed:\n${decode(out.stdout)}${decode(out.stderr)}`.trimEnd(),
    );
  }
}

/** locateStaticBusybox(), installing Debian's busybox-static with apt-get first if needed (root only). */
async function ensureStaticBusybox(): Promise<string> {
  try {
    return await locateStaticBusybox();
  } catch (e) {
    if (!(e instanceof BusyboxMissingError)) throw e;
    const hint = "install it with: sudo apt-get install -y busybox-static (or set HUSK_BUSYBOX)";
    if (Deno.uid() !== 0 || Deno.env.get("HUSK_BUSYBOX")) throw new Error(`${e.message}; ${hint}`);
    console.error("rootfs: installing busybox-static with apt-get ...");
    try {
      const install = ["install", "-y", "-q", "--no-install-recommends", "busybox-static"];
      await aptGet(install).catch(async () => {
        await aptGet(["update", "-qq"]);
        await aptGet(install);
      });
    } catch (err) {
      throw new Error(`${e.message}, and installing it failed: ${(err as Error).message}\n${hint}`);
    }
    return await locateStaticBusybox();
  }
}

const BASE_DIRS: [string, number][] = [
  ["bin", 0o755],
  ["sbin", 0o755],
  ["usr", 0o755],
  ["usr/bin", 0o755],
  ["usr/sbin", 0o755],
  ["dev", 0o755],
  ["proc", 0o555],
  ["sys", 0o555],
  ["tmp", 0o1777],
  ["etc", 0o755],
  ["root", 0o700],
  ["home", 0o755],
  ["var", 0o755],
  ["run", 0o755],
];

function baseFiles(version: string): [string, string][] {
  return [
    ["etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"],
    ["etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"],
    ["etc/hostname", "husk\n"],
    [
      "etc/os-release",
      `NAME="husk busybox rootfs"\nPRETTY_NAME="husk busybox rootfs (BusyBox ${version})"\n` +
      `ID=husk-busybox\nVERSION_ID="${version}"\n`,
    ],
  ];
}

export interface BuildResult {
  /** The finished rootfs directory (= destDir). */
  path: string;
  version: string;
  /** The host busybox binary that was copied in. */
  busybox: string;
}

/**
 * Builds a busybox rootfs at `destDir`: the tree is assembled in a `.tmp-*` sibling of `destDir` and
 * renamed into place only when complete (on failure the temp tree is removed). An existing `destDir`
 * is replaced only with `replace: true`. Needs a statically linked busybox on the host.
 */
export async function buildBusyboxRootfs(
  destDir: string,
  opts: { busybox?: string; replace?: boolean } = {},
): Promise<BuildResult> {
  const busybox = opts.busybox ?? await locateStaticBusybox();
  if (elfHasInterpreter(await readHead(busybox))) {
    throw new BusyboxMissingError(`${busybox} is dynamically linked; a rootfs needs busybox-static`);
  }
  const version = await busyboxVersion(busybox);
  const list = await run(busybox, ["--list-full"]);
  if (!list.success) throw new Error(`${busybox} --list-full failed: ${decode(list.stderr)}`);
  const plan = planAppletLinks(decode(list.stdout));
  if (!plan.some((l) => l.path === "bin/sh")) throw new Error(`${busybox} has no sh applet`);

  const dest = resolve(destDir);
  const tmp = await makeTmpDir(dirname(dest));
  try {
    await Deno.chmod(tmp, 0o755); // becomes the container's "/"
    for (const [dir, mode] of BASE_DIRS) {
      await Deno.mkdir(join(tmp, dir), { recursive: true });
      await Deno.chmod(join(tmp, dir), mode); // explicit: mkdir's mode is filtered by the umask
    }
    for (const dir of linkParentDirs(plan)) {
      await Deno.mkdir(join(tmp, dir), { recursive: true, mode: 0o755 });
    }
    await Deno.copyFile(busybox, join(tmp, "bin/busybox"));
    await Deno.chmod(join(tmp, "bin/busybox"), 0o755);
    for (const { path, target } of plan) await Deno.symlink(target, join(tmp, path));
    for (const [path, text] of baseFiles(version)) {
      await Deno.writeTextFile(join(tmp, path), text);
      await Deno.chmod(join(tmp, path), 0o644);
    }
    if (resolveInRoot(tmp, "/bin/sh", [], hostFs).path !== "/bin/busybox") {
      throw new Error("bin/sh does not resolve to busybox");
    }
    await installTree(tmp, dest, opts.replace ?? false);
  } finally {
    await safeRemove(tmp);
  }
  return { path: dest, version, busybox };
}

// ---------------------------------------------------------------------------------------------
// Alpine
// ---------------------------------------------------------------------------------------------

export class DownloadError extends Error {
  constructor(message: string, readonly unreachable: boolean) {
    super(message);
  }
}

export class ChecksumError extends Error {}

/**
 * Downloads `spec.url`, checks its sha256 against `spec.sha256`, extracts it with `tar` into a `.tmp-*`
 * sibling of `destDir` and renames it into place. `connectTimeoutMs` bounds the wait for the response
 * headers, `totalTimeoutMs` the whole download.
 */
export async function fetchAlpineRootfs(
  destDir: string,
  spec: AlpineSpec,
  opts: { connectTimeoutMs?: number; totalTimeoutMs?: number; replace?: boolean } = {},
): Promise<string> {
  const dest = resolve(destDir);
  const tmp = await makeTmpDir(dirname(dest));
  const ctl = new AbortController();
  const timeout = (what: string, ms: number) =>
    setTimeout(() => ctl.abort(new DOMException(`${what} timed out after ${ms} ms`, "TimeoutError")), ms);
  const connectMs = opts.connectTimeoutMs ?? 5000;
  const totalMs = opts.totalTimeoutMs ?? 120_000;
  const connectTimer = timeout("connecting", connectMs);
  const totalTimer = timeout("download", totalMs);
  try {
    const tarball = join(tmp, "minirootfs.tar.gz");
    const tree = join(tmp, "rootfs");
    let res: Response;
    try {
      res = await fetch(spec.url, { signal: ctl.signal });
    } catch (e) {
      throw new DownloadError(`${spec.url}: ${(e as Error).message}`, true);
    } finally {
      clearTimeout(connectTimer);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new DownloadError(`${spec.url}: HTTP ${res.status} ${res.statusText}`, false);
    }
    const hash = createHash("sha256");
    const file = await Deno.open(tarball, { write: true, createNew: true });
    try {
      await res.body
        .pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, out) {
              hash.update(chunk);
              out.enqueue(chunk);
            },
          }),
        )
        .pipeTo(file.writable);
    } catch (e) {
      throw new DownloadError(`${spec.url}: ${(e as Error).message}`, true);
    }
    const digest = hash.digest("hex");
    if (digest !== spec.sha256.toLowerCase()) {
      throw new ChecksumError(`${spec.url}: sha256 ${digest}, expected ${spec.sha256}`);
    }
    await Deno.mkdir(tree, { mode: 0o755 });
    await Deno.chmod(tree, 0o755);
    const tar = await run("tar", ["-xzf", tarball, "-C", tree, "--numeric-owner"]);
    if (!tar.success) throw new Error(`tar failed on ${tarball}: ${decode(tar.stderr).trim()}`);
    if (!(await isCompleteRootfs(tree))) throw new Error(`${spec.url} does not contain a usable rootfs`);
    await installTree(tree, dest, opts.replace ?? false);
    return dest;
  } finally {
    clearTimeout(connectTimer);
    clearTimeout(totalTimer);
    await safeRemove(tmp);
  }
}

function describeAlpineFailure(e: unknown): string {
  if (e instanceof DownloadError && e.unreachable) return "Alpine download unreachable";
  if (e instanceof ChecksumError) return "Alpine download failed its sha256 check";
  return `Alpine download failed: ${(e as Error).message.split("\n")[0]}`;
}

// ---------------------------------------------------------------------------------------------
// The task
// ---------------------------------------------------------------------------------------------

export interface EnsureOptions {
  /** The directory holding the rootfs trees and the `default` link (normally <project>/rootfs). */
  rootfsDir: string;
  /** Rebuild/re-download even if a complete rootfs exists. */
  force?: boolean;
  /** Do not try the Alpine download. */
  offline?: boolean;
  /** Alpine tarball to try; defaults to the pinned one for this architecture (null: skip). */
  alpine?: AlpineSpec | null;
  connectTimeoutMs?: number;
  /** Host busybox to use; defaults to locating (and, as root, installing) busybox-static. */
  busybox?: string;
}

async function withLock<T>(rootfsDir: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(rootfsDir, { recursive: true });
  let lock: Deno.FsFile;
  try {
    lock = await Deno.open(join(rootfsDir, ".lock"), { create: true, write: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    throw new Error(`${rootfsDir} is not writable (${e.message}); run as root: sudo deno task rootfs`);
  }
  try {
    await lock.lock(true);
    return await fn();
  } finally {
    lock.close(); // releases the flock
  }
}

/** Does the work of `deno task rootfs`; returns the one-line report. */
export async function ensureRootfs(opts: EnsureOptions): Promise<string> {
  const rootfsDir = resolve(opts.rootfsDir);
  const shown = (name: string) => `${basename(rootfsDir)}/${name}`;
  const force = opts.force ?? false;
  return await withLock(rootfsDir, async () => {
    for (const name of await removeStaleTmp(rootfsDir)) {
      console.error(`rootfs: removed leftover ${shown(name)} of an interrupted run`);
    }

    if (!force) {
      let current: string | null = null;
      try {
        current = await Deno.readLink(join(rootfsDir, "default"));
      } catch {
        // no default yet
      }
      if (
        current !== null && await isCompleteRootfs(isAbsolute(current) ? current : join(rootfsDir, current))
      ) {
        const link = shown("default");
        return `rootfs: ${link} -> ${current} is already complete; nothing to do (--force rebuilds)`;
      }
    }

    const finish = async (name: string, what: string) => {
      await pointDefault(rootfsDir, name);
      return `rootfs: ${what}; ${shown("default")} -> ${name}`;
    };

    // 1. Alpine
    const spec = opts.alpine === undefined ? alpineSpec() : opts.alpine;
    let why: string;
    if (opts.offline) {
      why = "--offline";
    } else if (spec === null) {
      why = `no Alpine minirootfs pinned for ${Deno.build.arch}`;
    } else {
      const name = `alpine-${spec.version}`;
      const dest = join(rootfsDir, name);
      if (!force && await isCompleteRootfs(dest)) return await finish(name, `${shown(name)} already present`);
      try {
        await fetchAlpineRootfs(dest, spec, { connectTimeoutMs: opts.connectTimeoutMs, replace: true });
        return await finish(name, `downloaded and verified Alpine ${spec.version} into ${shown(name)}`);
      } catch (e) {
        why = describeAlpineFailure(e);
        if (e instanceof ChecksumError) console.error(`rootfs: WARNING: ${e.message}; not using it`);
      }
    }

    // 2. busybox
    const busybox = opts.busybox ?? await ensureStaticBusybox();
    const version = await busyboxVersion(busybox);
    const name = `busybox-${version}`;
    const dest = join(rootfsDir, name);
    if (!force && await isCompleteRootfs(dest)) {
      return await finish(name, `${shown(name)} already built (${why})`);
    }
    await buildBusyboxRootfs(dest, { busybox, replace: true });
    const source = BUSYBOX_CANDIDATES.includes(busybox) ? "Debian's busybox-static" : busybox;
    return await finish(name, `built ${shown(name)} from ${source} (${why})`);
  });
}

const USAGE = `usage: deno task rootfs [--force] [--offline]

Makes rootfs/default point at a root filesystem: the pinned Alpine ${ALPINE_VERSION} minirootfs when
dl-cdn.alpinelinux.org is reachable, otherwise one built from the host's static busybox.
  --force    rebuild even if a complete rootfs is already there
  --offline  do not try the Alpine download
Environment: HUSK_BUSYBOX=/path/to/static/busybox overrides the busybox binary used.`;

export async function main(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      force: { type: "boolean", default: false },
      offline: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return USAGE;
  return await ensureRootfs({ rootfsDir: ROOTFS_DIR, force: values.force, offline: values.offline });
}

/** "busybox-1.35.0" -> ["busybox:1.35.0", "busybox:latest"]: the names the rootfs is registered under. */
export function imageNames(dirName: string): string[] {
  const dash = dirName.indexOf("-");
  const [repo, tag] = dash === -1 ? [dirName, "latest"] : [dirName.slice(0, dash), dirName.slice(dash + 1)];
  return [...new Set([`${repo}:${tag}`, `${repo}:latest`])];
}

/**
 * Registers rootfs/default as an image in husk's state root (HUSK_ROOT, else /var/lib/husk), so that
 * `husk run busybox` works offline. Does nothing when the image is already there (unless `force`).
 */
export async function registerImage(rootfsDir: string, force: boolean): Promise<string> {
  const dir = await Deno.realPath(join(rootfsDir, "default"));
  const names = imageNames(basename(dir));
  const paths = statePaths();
  const known = readCatalog(paths);
  if (!force && names.every((n) => findImage(known, n) !== null)) {
    return `rootfs: image ${names.join(", ")} already in ${paths.root}`;
  }
  const created = (await Deno.stat(dir)).mtime ?? new Date(0);
  const id = await importTarball(paths, packDirectory(dir), names[0], { Cmd: ["/bin/sh"] }, created);
  for (const name of names.slice(1)) tagImage(paths, id, name);
  return `rootfs: registered ${names.join(", ")} (${id.slice(7, 19)}) in ${paths.root}`;
}

if (import.meta.main) {
  try {
    console.log(await main(Deno.args));
    try {
      console.log(await registerImage(ROOTFS_DIR, Deno.args.includes("--force")));
    } catch (e) {
      // The root filesystem itself is there: an image store that cannot be written is not fatal.
      console.error(`rootfs: WARNING: not registered as an image: ${(e as Error).message}`);
    }
  } catch (e) {
    console.error(`rootfs: error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
