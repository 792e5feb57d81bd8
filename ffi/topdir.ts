/**
 * The "top of directory hierarchy" inode flag (`chattr +T`), which ext4's Orlov allocator reads: the
 * directories made inside such a directory are spread over the block groups with the most free inodes,
 * instead of beside their parent. On ext4 without a journal, creating a file in a group of many recently
 * deleted inodes (a store whose layers were just removed) scans all of them: the kernel spent 30% of a
 * pull's CPU time there. Other filesystems ignore or refuse the flag; either is fine.
 */
import { cstring } from "./libc.ts";
import { ptr, syscall } from "./native.ts";

const FS_IOC_GETFLAGS = 0x80086601, FS_IOC_SETFLAGS = 0x40086602, FS_TOPDIR_FL = 0x00020000;
const AT_FDCWD = -100, O_RDONLY = 0, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000;

/** Sets the flag on directory `path` if its filesystem keeps it; whether it is set. */
export function markTopDirectory(path: string): boolean {
  const fd = syscall("openat", AT_FDCWD, ptr(cstring(path)), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  try {
    // The kernel reads and writes an int, whatever the ioctl's declared size.
    const flags = new Int32Array(1);
    if (syscall("ioctl", fd, FS_IOC_GETFLAGS, ptr(flags)) !== 0) return false;
    if (flags[0] & FS_TOPDIR_FL) return true;
    flags[0] |= FS_TOPDIR_FL;
    return syscall("ioctl", fd, FS_IOC_SETFLAGS, ptr(flags)) === 0;
  } finally {
    syscall("close", fd);
  }
}
