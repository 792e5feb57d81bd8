/**
 * Runs a helper program (ip, iptables-restore) with pipes for its stdin, stdout and stderr, started by husk's
 * own routine (spawn.ts) rather than by Deno.Command: the routine's child shares the runtime's memory until
 * its execve, as posix_spawn's does, where Deno.Command forks, copying the page tables of a large process
 * (4 to 6 ms for the first program a husk command runs, on its main thread).
 */
import { closeFds, pipe, readAsync, readFull, writeAll } from "./fd.ts";
import { strerror } from "./libc.ts";
import { waitPid, type WaitStatus } from "./process.ts";
import { type RawStep, spawn } from "./spawn.ts";

const SIGCHLD = 17n, SIG_SETMASK = 2, CLOSE_RANGE_CLOEXEC = 4;

export interface ProgramResult {
  status: WaitStatus;
  stdout: string;
  stderr: string;
}

/** A program that could not be started: `errno` from its execve (ENOENT: no such file). */
export class ProgramStartError extends Error {
  constructor(readonly path: string, readonly errno: number) {
    super(`cannot run ${path}: ${strerror(errno)}`);
    this.name = "ProgramStartError";
  }
}

/**
 * Runs `path` (absolute) with `args` and `env`, `input` on its stdin; resolves when it has ended. The input
 * is written before the output is read: it must fit in a pipe (64 KiB) unless the program reads it first.
 */
export async function runProgram(
  path: string,
  args: readonly string[],
  env: readonly string[],
  input: Uint8Array<ArrayBuffer>,
): Promise<ProgramResult> {
  const open = new Set<number>();
  const take = (pair: [number, number]) => (pair.forEach((fd) => open.add(fd)), pair);
  const close = (...fds: number[]) => {
    closeFds(...fds);
    for (const fd of fds) open.delete(fd);
  };
  try {
    const [inRead, inWrite] = take(pipe());
    const [outRead, outWrite] = take(pipe());
    const [errRead, errWrite] = take(pipe());
    const [reportRead, reportWrite] = take(pipe());
    const steps: RawStep[] = [
      // The pipes' ends are close-on-exec; their copies as 0, 1 and 2 are not.
      { call: "dup3", args: [inRead, 0, 0] },
      { call: "dup3", args: [outWrite, 1, 0] },
      { call: "dup3", args: [errWrite, 2, 0] },
      { call: "close_range", args: [3, 0xffffffff, CLOSE_RANGE_CLOEXEC] },
      // The start routine blocks every signal before its clone.
      { call: "rt_sigprocmask", args: [SIG_SETMASK, new Uint8Array(8), null, 8] },
      { call: "execve", args: [path, [path.slice(path.lastIndexOf("/") + 1), ...args], [...env]] },
    ];
    const { pid, memory } = spawn(SIGCHLD, steps, reportWrite);
    close(inRead, outWrite, errWrite, reportWrite);
    const report = new Uint8Array(8);
    // End of file: execve succeeded (the child no longer reads `memory`); else {step, errno}.
    const failed = await readFull(reportRead, report) === 8;
    void memory;
    if (failed) {
      await waitPid(pid);
      throw new ProgramStartError(path, new DataView(report.buffer).getUint32(4, true));
    }
    try {
      writeAll(inWrite, input);
    } catch {
      // It exited without reading its input: its status and stderr say why.
    }
    close(inWrite);
    const [stdout, stderr] = await Promise.all([readToEnd(outRead), readToEnd(errRead)]);
    return { status: await waitPid(pid), stdout, stderr };
  } finally {
    close(...open);
  }
}

/** Everything a pipe carries until its end of file, as text. */
async function readToEnd(fd: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const buf = new Uint8Array(16384);
    const n = await readAsync(fd, buf);
    if (n === 0) return text + decoder.decode();
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
}
