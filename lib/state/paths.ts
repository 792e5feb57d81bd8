/**
 * Where husk keeps its state: `--root` / HUSK_ROOT, default /var/lib/husk. Everything a container needs
 * afterwards (records, logs, exit records, the monitor program) lives there: nothing needs /run, and separate
 * roots (tests, users) never see each other.
 */
export const DEFAULT_ROOT = "/var/lib/husk";

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

export const containersDir = (p: StatePaths) => `${p.root}/containers`;
export const containerDir = (p: StatePaths, id: string) => `${p.root}/containers/${id}`;
export const lockFile = (p: StatePaths) => `${p.root}/containers.lock`;
