/** Where husk keeps its state: `--root` / HUSK_ROOT (default /var/lib/husk), runtime files under /run/husk. */
export const DEFAULT_ROOT = "/var/lib/husk";
export const DEFAULT_RUN_ROOT = "/run/husk";

export interface StatePaths {
  root: string;
  /** Runtime files (gone at reboot): with a custom root, they live inside it so roots never share them. */
  run: string;
}

export function statePaths(root?: string): StatePaths {
  const chosen = root ?? Deno.env.get("HUSK_ROOT") ?? DEFAULT_ROOT;
  const absolute = chosen.startsWith("/") ? chosen : `${Deno.cwd()}/${chosen}`;
  return { root: absolute, run: absolute === DEFAULT_ROOT ? DEFAULT_RUN_ROOT : `${absolute}/run` };
}

export const containersDir = (p: StatePaths) => `${p.root}/containers`;
export const containerDir = (p: StatePaths, id: string) => `${p.root}/containers/${id}`;
export const lockFile = (p: StatePaths) => `${p.root}/containers.lock`;
