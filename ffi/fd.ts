/** File descriptors the runtime handles itself: pipes, socket pairs, descriptor passing, raw reads and writes. */
import { cstring, SysError } from "./libc.ts";
import { address, ptr, sys, syscall, syscallAsync } from "./native.ts";

const O_CLOEXEC = 0o2000000;
const AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000;
const EINTR = 4, AT_FDCWD = -100;

/** A close-on-exec pipe: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  sys("pipe2", "pipe2", ptr(fds), O_CLOEXEC);
  return [fds[0], fds[1]];
}

/** A close-on-exec pair of connected Unix stream sockets. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  sys("socketpair", "socketpair", AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ptr(fds));
  return [fds[0], fds[1]];
}

export function openFd(path: string, flags: number, mode = 0): number {
  return sys(`open ${path}`, "openat", AT_FDCWD, ptr(cstring(path)), flags | O_CLOEXEC, mode);
}

/** Closes descriptors, ignoring errors (used on cleanup paths). */
export function closeFds(...fds: (number | null | undefined)[]): void {
  for (const fd of fds) if (fd !== null && fd !== undefined && fd >= 0) syscall("close", fd);
}

export function writeAll(fd: number, data: Uint8Array<ArrayBuffer>): void {
  let done = 0;
  while (done < data.length) {
    const n = syscall("write", fd, ptr(data.subarray(done)), data.length - done);
    if (n < 0) {
      if (n === -EINTR) continue;
      throw new SysError("write", -n);
    }
    done += n;
  }
}

/**
 * Reads up to `buf.length` bytes on a worker thread, so the event loop keeps running while it blocks.
 * Returns 0 at end of file; EINTR is retried.
 */
export async function readAsync(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  for (;;) {
    const n = await syscallAsync("read", fd, Deno.UnsafePointer.of(buf), buf.length);
    if (n >= 0) return n;
    if (n !== -EINTR) throw new SysError("read", -n);
  }
}

/** Reads exactly `buf.length` bytes or up to end of file; returns how many arrived. */
export async function readFull(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const n = await readAsync(fd, buf.subarray(got));
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** CMSG_SPACE for `count` descriptors: the 16-byte header and the ints, padded to 8 bytes. */
export function controlSpace(count: number): number {
  return 16 + ((4 * count + 7) & ~7);
}

/** Receives one descriptor sent with SCM_RIGHTS; null when the peer closed without sending. */
export function receiveFd(socket: number): number | null {
  const data = new Uint8Array(1);
  const control = new Uint8Array(24);
  const iov = new BigUint64Array([address(data), 1n]);
  const msg = new BigUint64Array([0n, 0n, address(iov), 1n, address(control), BigInt(control.length), 0n]);
  let n: number;
  do n = syscall("recvmsg", socket, ptr(msg), MSG_CMSG_CLOEXEC); while (n === -EINTR);
  if (n < 0) throw new SysError("recvmsg", -n);
  if (n === 0) return null;
  const view = new DataView(control.buffer);
  if (view.getInt32(8, true) !== SOL_SOCKET || view.getInt32(12, true) !== SCM_RIGHTS) return null;
  return view.getInt32(16, true);
}

/** Sends descriptor `fd` over a Unix socket (SCM_RIGHTS, with one byte of data). */
export function sendFd(socket: number, fd: number): void {
  sendFds(socket, [fd]);
}

/** Sends descriptors in one message over a Unix socket (SCM_RIGHTS, with one byte of data). */
export function sendFds(socket: number, fds: readonly number[]): void {
  const data = new Uint8Array([0x2a]);
  const control = new Uint8Array(controlSpace(fds.length));
  const view = new DataView(control.buffer);
  view.setBigUint64(0, BigInt(16 + 4 * fds.length), true); // CMSG_LEN(n * sizeof(int))
  view.setInt32(8, SOL_SOCKET, true);
  view.setInt32(12, SCM_RIGHTS, true);
  fds.forEach((fd, i) => view.setInt32(16 + 4 * i, fd, true));
  const iov = new BigUint64Array([address(data), 1n]);
  const msg = new BigUint64Array([0n, 0n, address(iov), 1n, address(control), BigInt(control.length), 0n]);
  const r = syscall("sendmsg", socket, Deno.UnsafePointer.of(msg), 0);
  if (r < 0) throw new SysError("sendmsg", -r);
}
