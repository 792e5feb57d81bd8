/**
 * Where husk keeps its state: `--root` / HUSK_ROOT, default /var/lib/husk. Everything a container needs
 * afterwards (records, logs, exit records, the monitor program) lives there. The files a container needs only
 * while it runs (its /etc/hostname, hosts and resolv.conf, written at each start) live in a run directory on
 * /run (a tmpfs, as podman's runroot): /run/husk for the default root, /run/husk/root-<tag> for another, so
 * that separate roots (tests, users) never see each other.
 */
export const DEFAULT_ROOT = "/var/lib/husk";
const DEFAULT_RUN = "/run/husk";

export interface StatePaths {
  /** Absolute and normalized. */
  root: string;
}

export function statePaths(root?: string): StatePaths {
  const chosen = root || Deno.env.get("HUSK_ROOT") || DEFAULT_ROOT;
  return { root: absolutePath(chosen) };
}

/** `path` made absolute (from the working directory) and normalized: no ".", "..", "//" or trailing "/". */
function absolutePath(path: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${Deno.cwd()}/${path}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/** A short tag of the state root (8 hex digits of its FNV-1a hash), for host-wide names that must not clash. */
export function rootTag(paths: StatePaths): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(paths.root)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

/** The root's run directory (see above). */
export function runDir(paths: StatePaths): string {
  return paths.root === DEFAULT_ROOT ? DEFAULT_RUN : `${DEFAULT_RUN}/root-${rootTag(paths)}`;
}

/** A container's runtime files: the /etc files it binds, written at each start. */
export const containerRunDir = (p: StatePaths, id: string) => `${runDir(p)}/containers/${id}`;
export const networksDir = (p: StatePaths) => `${p.root}/networks`;
export const containersDir = (p: StatePaths) => `${p.root}/containers`;
export const containerDir = (p: StatePaths, id: string) => `${p.root}/containers/${id}`;
export const lockFile = (p: StatePaths) => `${p.root}/containers.lock`;
