/**
 * Resolves a path inside a container's root filesystem the way the kernel will once the container is running:
 * symlinks are followed relative to the container's root (an absolute link never leaves it, ".." stops at
 * "/"), and paths under a mount planned earlier look into that mount's source (or into nothing, for a fresh
 * tmpfs). This is what keeps `-v /x:/etc/evil-link` from mounting over a host path. Pure over `FsView`.
 */
import { InvalidInputError } from "../errors.ts";

export type Kind = "dir" | "file" | "symlink" | "other";

/** The few read-only file system queries resolution needs (a fake one in tests). */
export interface FsView {
  /** The kind of `path` without following a final symlink, or null when it does not exist. */
  lstat(path: string): Kind | null;
  /** The kind of `path` after following symlinks, or null when it does not exist. */
  stat(path: string): Kind | null;
  readlink(path: string): string;
}

/** A mount already planned: paths below `destination` live in `source` (null: a fresh, empty file system). */
export interface Layer {
  destination: string;
  source: string | null;
}

export interface Resolved {
  /** The container path with every symlink resolved. */
  path: string;
  /** What is there now: "missing" when it must be created. */
  kind: Kind | "missing";
  /** Directories to create (parents first), all inside the container's root. */
  missingParents: string[];
}

const MAX_LINKS = 40;

export function resolveInRoot(rootfs: string, path: string, layers: readonly Layer[], fs: FsView): Resolved {
  const queue = path.split("/").filter((p) => p !== "" && p !== ".");
  let current = "";
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === "..") {
      current = current.slice(0, current.lastIndexOf("/"));
      continue;
    }
    const next = `${current}/${part}`;
    const host = hostPath(rootfs, next, layers);
    const kind = kindAt(next, host, layers, fs);
    if (kind === null) {
      const rest = queue.filter((p) => p !== "..");
      if (rest.length !== queue.length) {
        throw new InvalidInputError(
          `cannot resolve "${path}" in the container: ".." below a missing directory`,
        );
      }
      const all = [next, ...rest.map((_, i) => `${next}/${rest.slice(0, i + 1).join("/")}`)];
      return { path: all.at(-1)!, kind: "missing", missingParents: all.slice(0, -1) };
    }
    if (kind === "symlink") {
      if (++links > MAX_LINKS) {
        throw new InvalidInputError(`cannot resolve "${path}" in the container: too many symlinks`);
      }
      const target = fs.readlink(host!);
      if (target.startsWith("/")) current = "";
      queue.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
      continue;
    }
    if (kind !== "dir" && queue.length > 0) {
      throw new InvalidInputError(`cannot resolve "${path}" in the container: "${next}" is not a directory`);
    }
    current = next;
    if (queue.length === 0) return { path: current, kind, missingParents: [] };
  }
  return { path: current === "" ? "/" : current, kind: "dir", missingParents: [] };
}

/** What `path` (living at `host` on the host) will be once the planned mounts are made. */
function kindAt(path: string, host: string | null, layers: readonly Layer[], fs: FsView): Kind | null {
  const mountPoint = layers.findLast((l) => l.destination === path);
  // A mount point is what its source is, symlinks followed (mount(2) follows them on the host); the root of a
  // fresh file system (tmpfs, proc) is a directory.
  if (mountPoint) return mountPoint.source === null ? "dir" : fs.stat(mountPoint.source);
  const kind = host === null ? null : fs.lstat(host);
  // A missing directory above a planned mount point will have been created for it.
  if (kind === null && layers.some((l) => l.destination.startsWith(path + "/"))) return "dir";
  return kind;
}

/** Where a container path lives on the host now, or null inside a fresh file system. */
function hostPath(rootfs: string, path: string, layers: readonly Layer[]): string | null {
  const layer = layers.findLast((l) => path === l.destination || path.startsWith(l.destination + "/"));
  if (!layer) return rootfs + path;
  if (layer.source === null) return null;
  return layer.source + path.slice(layer.destination.length);
}

/** The real file system, through Deno's synchronous calls. */
export const hostFs: FsView = {
  lstat: (path) => kindOf(() => Deno.lstatSync(path)),
  stat: (path) => kindOf(() => Deno.statSync(path)),
  readlink: (path) => Deno.readLinkSync(path),
};

function kindOf(stat: () => Deno.FileInfo): Kind | null {
  try {
    const info = stat();
    return info.isSymlink ? "symlink" : info.isDirectory ? "dir" : info.isFile ? "file" : "other";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}
