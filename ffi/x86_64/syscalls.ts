import type { SyscallName } from "../syscalls.ts";

/**
 * x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl) of the raw calls husk makes.
 * Only the *at and dup3 forms are used, so that an arm64 table (which lacks open, mkdir, dup2...) has the same names.
 */
export const SYSCALLS_X86_64 = {
  read: 0,
  write: 1,
  close: 3,
  rt_sigaction: 13,
  rt_sigprocmask: 14,
  ioctl: 16,
  socket: 41,
  sendmsg: 46,
  recvmsg: 47,
  execve: 59,
  chdir: 80,
  umask: 95,
  setsid: 112,
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  pivot_root: 155,
  prctl: 157,
  chroot: 161,
  fchdir: 81,
  mount: 165,
  umount2: 166,
  sethostname: 170,
  openat: 257,
  mkdirat: 258,
  mknodat: 259,
  symlinkat: 266,
  unshare: 272,
  dup3: 292,
  close_range: 436,
  wait4: 61,
  exit_group: 231,
  clone: 56,
  setns: 308,
  getpid: 39,
} as const satisfies Record<SyscallName, number>;
