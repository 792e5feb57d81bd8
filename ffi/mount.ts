/** Mounting and detaching from the runtime's own process (the container's child plans its own mounts). */
import { cstring, SysError } from "./libc.ts";
import { ptr, sys, syscall } from "./native.ts";

const MNT_DETACH = 2;
const EINVAL = 22, ENOENT = 2;

export function mount(source: string, target: string, type: string, flags: bigint, data: string): void {
  const [s, t, y, d] = [source, target, type, data].map(cstring);
  sys(`mount ${type} on ${target}`, "mount", ptr(s), ptr(t), ptr(y), flags, ptr(d));
}

/** Detaches whatever is mounted at `path` (lazily: users keep their copy); nothing mounted is fine. */
export function detachMount(path: string): void {
  const r = syscall("umount2", ptr(cstring(path)), MNT_DETACH);
  if (r === 0) return;
  const code = -r;
  if (code !== EINVAL && code !== ENOENT) throw new SysError(`umount ${path}`, code);
}
