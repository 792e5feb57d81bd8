/**
 * The raw system calls husk makes by number (a container's child makes all of its calls this way), by name;
 * each architecture maps them to numbers.
 */
export const SYSCALL_NAMES = [
  "read",
  "write",
  "close",
  "rt_sigaction",
  "rt_sigprocmask",
  "ioctl",
  "socket",
  "sendmsg",
  "recvmsg",
  "execve",
  "chdir",
  "umask",
  "setsid",
  "setgroups",
  "setresuid",
  "setresgid",
  "pivot_root",
  "prctl",
  "chroot",
  "fchdir",
  "mount",
  "umount2",
  "sethostname",
  "openat",
  "mkdirat",
  "mknodat",
  "symlinkat",
  "unshare",
  "dup3",
  "close_range",
  "wait4",
  "exit_group",
  "clone",
  "setns",
  "getpid",
] as const;

export type SyscallName = typeof SYSCALL_NAMES[number];
