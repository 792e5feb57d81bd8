/**
 * The host side of a container's terminal (-t): copies between the host's stdio and the terminal's master,
 * puts the host terminal in raw mode while attached (restored on every exit path) and keeps the container's
 * window size in step with the host's (SIGWINCH).
 */
import { closeFds, readAsync, writeAll } from "../../ffi/fd.ts";
import { ptr, syscall } from "../../ffi/native.ts";
import { TIOCSWINSZ } from "../spawn/linux.ts";

export interface Console {
  /** Resolves when the container side is closed and its output has been copied. */
  output: Promise<void>;
  /** Restores the host terminal and stops listening; idempotent. */
  detach(): void;
}

/** Sets the terminal's window size (rows, columns). */
export function setWindowSize(master: number, rows: number, columns: number): void {
  const size = new Uint16Array([rows, columns, 0, 0]);
  syscall("ioctl", master, TIOCSWINSZ, ptr(size));
}

export function attachConsole(master: number, options: { stdin: boolean }): Console {
  const raw = options.stdin && Deno.stdin.isTerminal();
  if (raw) Deno.stdin.setRaw(true);
  const resize = () => {
    if (!Deno.stdout.isTerminal()) return;
    const { rows, columns } = Deno.consoleSize();
    setWindowSize(master, rows, columns);
  };
  Deno.addSignalListener("SIGWINCH", resize);
  let detached = false;
  const detach = () => {
    if (detached) return;
    detached = true;
    Deno.removeSignalListener("SIGWINCH", resize);
    if (raw) Deno.stdin.setRaw(false);
  };
  let closed = false;
  // Checked right before each write, so input never goes to a descriptor number reused after the close.
  if (options.stdin) void copyInput(master, () => detached || closed);
  const output = copyOutput(master).finally(() => {
    closed = true;
    closeFds(master);
  });
  return { output, detach };
}

async function copyOutput(master: number): Promise<void> {
  const buf = new Uint8Array(32 * 1024);
  for (;;) {
    let n: number;
    try {
      n = await readAsync(master, buf);
    } catch {
      return; // EIO: every slave descriptor is closed, the container is gone.
    }
    if (n === 0) return;
    let done = 0;
    while (done < n) done += await Deno.stdout.write(buf.subarray(done, n));
  }
}

async function copyInput(master: number, stopped: () => boolean): Promise<void> {
  const buf = new Uint8Array(4096);
  while (!stopped()) {
    const n = await Deno.stdin.read(buf);
    if (n === null || stopped()) return;
    try {
      writeAll(master, buf.subarray(0, n));
    } catch {
      return;
    }
  }
}
