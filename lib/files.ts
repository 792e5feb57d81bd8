/** Files that may be missing: the one place that turns "not found" into null, and any other error into a throw. */

/** What `fn` returns, or null when it throws NotFound (a file that is not there). */
export function ifExists<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Whether `path` exists (a dangling symlink counts). */
export function exists(path: string): boolean {
  return ifExists(() => Deno.lstatSync(path)) !== null;
}

/** The text of `path`, or null when it does not exist. */
export function readTextIfExists(path: string): string | null {
  return ifExists(() => Deno.readTextFileSync(path));
}

/** The parsed JSON of `path`, or null when it does not exist. */
export function readJsonIfExists<T>(path: string): T | null {
  return ifExists(() => JSON.parse(Deno.readTextFileSync(path)));
}

/** The entries of the directory `dir`, none when it does not exist. */
export function listDirIfExists(dir: string): Deno.DirEntry[] {
  return ifExists(() => [...Deno.readDirSync(dir)]) ?? [];
}

/** Removes `path` (a file or an empty directory) if it exists. */
export function removeIfExists(path: string, options?: Deno.RemoveOptions): void {
  ifExists(() => Deno.removeSync(path, options));
}
