/**
 * The runtime's side of a user namespace: the id maps of the new namespace, and the root filesystem as an
 * id-mapped mount (files owned by host root appear owned by the container's root), made by the runtime,
 * which is privileged over the host's mounts, and sent to the child to attach.
 */
import { closeFds, openFd, sendFd } from "../../ffi/fd.ts";
import { SysError } from "../../ffi/libc.ts";
import { syscall } from "../../ffi/native.ts";
import { hostIdOf, mapText, type UserNamespace } from "../config/userns.ts";

const AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000, AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = 0o2000000, MOUNT_ATTR_IDMAP = 0x00100000;

export function writeIdMaps(pid: number, userns: UserNamespace): void {
  Deno.writeTextFileSync(`/proc/${pid}/uid_map`, mapText(userns.uidMappings));
  Deno.writeTextFileSync(`/proc/${pid}/gid_map`, mapText(userns.gidMappings));
}

/**
 * Clones the tree at `rootfs`, id-maps it with the user namespace of `pid` and sends it over `socket`. Where
 * the kernel or the file system cannot id-map it, a private copy of the root filesystem, chowned once into
 * the mapped range and kept under `copies`, is sent instead. A root filesystem already `shifted` (an image's
 * overlay of chowned layers) is sent as it is.
 */
export async function sendIdmappedRoot(
  pid: number,
  rootfs: string,
  socket: number,
  userns: UserNamespace,
  copies: string,
  shifted = false,
): Promise<void> {
  const tree = openTree(rootfs);
  try {
    if (shifted || idmap(tree, pid, rootfs)) {
      sendFd(socket, tree);
      return;
    }
  } finally {
    closeFds(tree);
  }
  const copy = await chownedCopy(rootfs, userns, copies);
  const copyTree = openTree(copy);
  try {
    sendFd(socket, copyTree);
  } finally {
    closeFds(copyTree);
  }
}

function openTree(path: string): number {
  const bytes = new TextEncoder().encode(path + "\0");
  const tree = syscall(
    "open_tree",
    AT_FDCWD,
    Deno.UnsafePointer.of(bytes),
    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE,
  );
  if (tree < 0) throw new SysError(`open_tree ${path}`, -tree);
  return tree;
}

const EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95;

/** Id-maps a detached tree; false where the kernel or the file system does not support it. */
function idmap(tree: number, pid: number, rootfs: string): boolean {
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
    if (r === -EINVAL || r === -ENOSYS || r === -EOPNOTSUPP) return false;
    if (r < 0) throw new SysError(`id-map the root filesystem ${rootfs} (mount_setattr)`, -r);
    return true;
  } finally {
    closeFds(userns);
  }
}

/**
 * A copy of `rootfs` whose owners are shifted into the mapped range (uid u -> the host id of u), made once
 * per root filesystem and mapping (in a temporary directory, renamed into place when complete), named
 * `PREFIX-HASH` with a prefix (an image layer's digest, by which the image store collects it).
 */
export async function chownedCopy(
  rootfs: string,
  userns: UserNamespace,
  copies: string,
  prefix?: string,
): Promise<string> {
  const key = [rootfs, mapText(userns.uidMappings), mapText(userns.gidMappings)].join("|");
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  const name = hash.toString(16).padStart(8, "0");
  const copy = `${copies}/${prefix ? `${prefix}-${name}` : name}`;
  try {
    Deno.statSync(copy);
    return copy;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.mkdirSync(copies, { recursive: true, mode: 0o711 });
  const tmp = `${copy}.tmp-${crypto.randomUUID()}`;
  try {
    const cp = new Deno.Command("cp", { args: ["-a", "--", rootfs, tmp], stderr: "piped" }).outputSync();
    if (!cp.success) throw new Error(`copy ${rootfs}: ${new TextDecoder().decode(cp.stderr).trim()}`);
    // node:fs (for lchown, which Deno lacks) is loaded only here: its compatibility layer costs 20 ms.
    const { lchownSync } = await import("node:fs");
    shiftOwners(tmp, userns, lchownSync);
    Deno.renameSync(tmp, copy);
  } catch (e) {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch {
      // Never made.
    }
    throw e;
  }
  return copy;
}

/** lchown of every entry under `dir` (itself included) to the host ids its owners map to. */
function shiftOwners(
  dir: string,
  userns: UserNamespace,
  lchownSync: (path: string, uid: number, gid: number) => void,
): void {
  const shift = (path: string) => {
    const info = Deno.lstatSync(path);
    const uid = hostIdOf(userns.uidMappings, info.uid!) ?? OVERFLOW;
    const gid = hostIdOf(userns.gidMappings, info.gid!) ?? OVERFLOW;
    lchownSync(path, uid, gid);
    if (info.isDirectory) { for (const entry of Deno.readDirSync(path)) shift(`${path}/${entry.name}`); }
  };
  shift(dir);
}

/** The kernel's overflow id: what an unmapped owner appears as. */
const OVERFLOW = 65534;
