/**
 * Where husk keeps its state: `--root` / HUSK_ROOT, default /var/lib/husk. Everything a container needs
 * afterwards (records, logs, exit records, the monitor program) lives there: nothing needs /run, and separate
 * roots (tests, users) never see each other.
 */
import { resolve } from "node:path";

export const DEFAULT_ROOT = "/var/lib/husk";

export interface StatePaths {
  /** Absolute and normalized. */
  root: string;
}

export function statePaths(root?: string): StatePaths {
  const chosen = root || Deno.env.get("HUSK_ROOT") || DEFAULT_ROOT;
  return { root: resolve(Deno.cwd(), chosen) };
}

export const containersDir = (p: StatePaths) => `${p.root}/containers`;
export const containerDir = (p: StatePaths, id: string) => `${p.root}/containers/${id}`;
export const lockFile = (p: StatePaths) => `${p.root}/containers.lock`;
