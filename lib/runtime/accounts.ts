/**
 * /etc/passwd and /etc/group of a container's root filesystem, read before it is mounted: from the topmost
 * image layer that has them (a whiteout hides lower ones), or from a plain directory. A path through a
 * symbolic link is not followed (it could lead out of the root filesystem): such a file counts as absent.
 */
import type { AccountFiles } from "../config/user.ts";

/** The file at `path` in the first of `roots` (topmost layer first) that has or hides it. */
function readThrough(roots: readonly string[], path: string): string | null {
  const parts = path.split("/").filter(Boolean);
  for (const root of roots) {
    let at = root;
    for (const [i, part] of parts.entries()) {
      at += `/${part}`;
      let info: Deno.FileInfo;
      try {
        info = Deno.lstatSync(at);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) break;
        throw e;
      }
      if (info.isCharDevice && info.rdev === 0) return null; // A whiteout: lower layers' copies are gone.
      const last = i === parts.length - 1;
      if (last ? !info.isFile : !info.isDirectory) return null;
      if (last) return Deno.readTextFileSync(at);
    }
  }
  return null;
}

/** The account files of a root filesystem made of `roots`, topmost first. */
export function accountFiles(roots: readonly string[]): AccountFiles {
  return { passwd: readThrough(roots, "/etc/passwd"), group: readThrough(roots, "/etc/group") };
}
