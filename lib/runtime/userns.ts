/**
 * The runtime's side of a user namespace: the id maps of the new namespace, and the root filesystem as an
 * id-mapped mount (files owned by host root appear owned by the container's root), made by the runtime,
 * which is privileged over the host's mounts, and sent to the child to attach.
 */
import { closeFds, openFd, sendFd } from "../../ffi/fd.ts";
import { SysError } from "../../ffi/libc.ts";
import { syscall } from "../../ffi/native.ts";
import { mapText, type UserNamespace } from "../config/userns.ts";

const AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000, AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = 0o2000000, MOUNT_ATTR_IDMAP = 0x00100000;

export function writeIdMaps(pid: number, userns: UserNamespace): void {
  Deno.writeTextFileSync(`/proc/${pid}/uid_map`, mapText(userns.uidMappings));
  Deno.writeTextFileSync(`/proc/${pid}/gid_map`, mapText(userns.gidMappings));
}

/** Clones the tree at `rootfs`, id-maps it with the user namespace of `pid`, sends it over `socket`. */
export function sendIdmappedRoot(pid: number, rootfs: string, socket: number): void {
  const path = new TextEncoder().encode(rootfs + "\0");
  const tree = syscall(
    "open_tree",
    AT_FDCWD,
    Deno.UnsafePointer.of(path),
    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE,
  );
  if (tree < 0) throw new SysError(`open_tree ${rootfs}`, -tree);
  let userns: number | null = null;
  try {
    userns = openFd(`/proc/${pid}/ns/user`, 0);
    // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
    const attr = new BigUint64Array([BigInt(MOUNT_ATTR_IDMAP), 0n, 0n, BigInt(userns)]);
    const empty = new Uint8Array(1);
    const r = syscall(
      "mount_setattr",
      tree,
      Deno.UnsafePointer.of(empty),
      AT_EMPTY_PATH | AT_RECURSIVE,
      Deno.UnsafePointer.of(attr),
      32,
    );
    if (r < 0) {
      throw new SysError(
        `id-map the root filesystem ${rootfs} (mount_setattr; the kernel and file system must support it)`,
        -r,
      );
    }
    sendFd(socket, tree);
  } finally {
    closeFds(tree, userns);
  }
}
