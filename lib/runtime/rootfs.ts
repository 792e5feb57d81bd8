/** Which root filesystem a container gets: --rootfs DIR, or the one `deno task rootfs` fetched. */
import { InvalidInputError } from "../errors.ts";

/** The project's rootfs/default, made by `deno task rootfs`. */
export const DEFAULT_ROOTFS = new URL("../../rootfs/default", import.meta.url).pathname;

/** The absolute, symlink-free path of a usable root filesystem, or a clear error. */
export function resolveRootfs(dir: string | undefined): string {
  const path = dir ?? DEFAULT_ROOTFS;
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    throw new InvalidInputError(
      dir === undefined
        ? `no root filesystem: run "deno task rootfs" to fetch one, or pass --rootfs DIR`
        : `root filesystem ${dir} does not exist`,
    );
  }
  if (!Deno.statSync(real).isDirectory) {
    throw new InvalidInputError(`root filesystem ${path} is not a directory`);
  }
  let empty = true;
  for (const _ of Deno.readDirSync(real)) {
    empty = false;
    break;
  }
  if (empty) {
    throw new InvalidInputError(`root filesystem ${path} is empty: it needs at least the command to run`);
  }
  return real;
}
