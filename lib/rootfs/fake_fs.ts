/** A fake host file system for resolution tests (a test double of resolve.ts's FsView). */
import type { FsView, Kind } from "./resolve.ts";

/**
 * A fake host file system: "dir", "file", "other", or "->target" for a symlink. Parents of every entry are
 * directories. lstat and stat follow symlinks in the leading components the way the kernel does on the
 * host (an absolute target starts at the host's /), so a resolver that leaked out of the rootfs would see it.
 */
export class FakeFs implements FsView {
  readonly entries = new Map<string, string>([["/", "dir"]]);
  readonly lstatCalls: string[] = [];

  constructor(spec: Record<string, string>) {
    for (const [path, kind] of Object.entries(spec)) {
      const parts = path.split("/").filter(Boolean);
      for (let i = 1; i < parts.length; i++) {
        const parent = "/" + parts.slice(0, i).join("/");
        if (!this.entries.has(parent)) this.entries.set(parent, "dir");
      }
      this.entries.set(path, kind);
    }
  }

  #walk(path: string, followLast: boolean): string | null {
    const queue = path.split("/").filter((p) => p !== "" && p !== ".");
    let current = "";
    let links = 0;
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === "..") {
        current = current.slice(0, current.lastIndexOf("/"));
        continue;
      }
      const next = `${current}/${part}`;
      const entry = this.entries.get(next);
      if (entry === undefined) return null;
      if (entry.startsWith("->") && (queue.length > 0 || followLast)) {
        if (++links > 40) throw new Error(`ELOOP: ${path}`);
        const target = entry.slice(2);
        if (target.startsWith("/")) current = "";
        queue.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
        continue;
      }
      if (queue.length > 0 && entry !== "dir") return null; // ENOTDIR
      current = next;
    }
    return current === "" ? "/" : current;
  }

  #kind(path: string | null): Kind | null {
    if (path === null) return null;
    const entry = this.entries.get(path)!;
    return entry.startsWith("->") ? "symlink" : entry as Kind;
  }

  lstat(path: string): Kind | null {
    this.lstatCalls.push(path);
    return this.#kind(this.#walk(path, false));
  }

  stat(path: string): Kind | null {
    return this.#kind(this.#walk(path, true));
  }

  readlink(path: string): string {
    const entry = this.entries.get(this.#walk(path, false) ?? "");
    if (!entry?.startsWith("->")) throw new Error(`EINVAL: ${path} is not a symlink`);
    return entry.slice(2);
  }
}
