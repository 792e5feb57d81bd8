/**
 * The few file operations the cgroup code makes, behind an interface so that unit tests can run against a fake
 * cgroupfs (fake_fs.ts). The real one writes each value with a single write(2) on a file opened without
 * O_CREAT, as the kernel's cgroup files want.
 */

/** A cgroup file open for writing: each value is one write(2) (devices.allow takes one rule per write). */
export interface CgroupFile {
  write(value: string): void;
  close(): void;
}
import { HuskError } from "../errors.ts";
import { exists } from "../files.ts";

export interface CgroupFs {
  /** The file's content; throws Deno.errors.NotFound when it does not exist. */
  read(path: string): string;
  /** Opens an existing file for writing. */
  open(path: string): CgroupFile;
  /** Creates one directory (not its parents); throws Deno.errors.AlreadyExists when it exists. */
  mkdir(path: string): void;
  /** Removes one (cgroup) directory. */
  rmdir(path: string): void;
  exists(path: string): boolean;
  /** The names of the subdirectories of `path` ([] when it does not exist). */
  subdirs(path: string): string[];
  /**
   * Sends SIGKILL to `pid` (a process already gone is not an error). Part of this interface so that a fake
   * cgroupfs never signals a real process.
   */
  kill(pid: number): void;
}

/** A cgroup operation the kernel refused: names the file (or directory), the value and the reason. */
export class CgroupError extends HuskError {
  constructor(message: string, readonly path: string = "", readonly code: string = "") {
    super(message);
  }
}

const encoder = new TextEncoder();

export const realFs: CgroupFs = {
  read: (path) => Deno.readTextFileSync(path),
  open(path) {
    const file = Deno.openSync(path, { write: true });
    return {
      write(value) {
        const data = encoder.encode(value);
        const n = file.writeSync(data);
        if (n !== data.length) throw new Error(`short write (${n} of ${data.length} bytes)`);
      },
      close: () => file.close(),
    };
  },
  mkdir: (path) => Deno.mkdirSync(path),
  rmdir: (path) => Deno.removeSync(path),
  exists,
  subdirs(path) {
    try {
      return [...Deno.readDirSync(path)].filter((e) => e.isDirectory).map((e) => e.name).sort();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
  },
  kill(pid) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch (e) {
      if (errnoOf(e) !== "ESRCH" && !(e instanceof Deno.errors.NotFound)) throw e;
    }
  },
};

/** The errno name of a failed system call ("EBUSY"), or "" when the error has none. */
export function errnoOf(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" ? code : "";
}

/** The reason part of an error's message, without Deno's "(os error N): open '...'" tail. */
export function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/ \(os error \d+\).*$/s, "");
}
