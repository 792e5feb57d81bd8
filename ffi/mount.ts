/** Mounting and detaching from the runtime's own process (the container's child plans its own mounts). */
import { check, cstring, errno, libc, SysError } from "./libc.ts";

const MNT_DETACH = 2;
const EINVAL = 22, ENOENT = 2;

export function mount(source: string, target: string, type: string, flags: bigint, data: string): void {
  check(
    `mount ${type} on ${target}`,
    libc().mount(cstring(source), cstring(target), cstring(type), flags, cstring(data)),
  );
}

/** Detaches whatever is mounted at `path` (lazily: users keep their copy); nothing mounted is fine. */
export function detachMount(path: string): void {
  if (libc().umount2(cstring(path), MNT_DETACH) === 0) return;
  const code = errno();
  if (code !== EINVAL && code !== ENOENT) throw new SysError(`umount ${path}`, code);
}
