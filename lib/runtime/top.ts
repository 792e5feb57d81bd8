/** The processes of a running container, as the host sees them: every process in its PID namespace. */

export interface ProcessInfo {
  uid: number;
  pid: number;
  ppid: number;
  command: string;
}

/** The processes sharing the PID namespace of `pid` (the container's first process), in pid order. */
export function containerProcesses(pid: number): ProcessInfo[] {
  const ns = Deno.readLinkSync(`/proc/${pid}/ns/pid`);
  const found: ProcessInfo[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${entry.name}/ns/pid`) !== ns) continue;
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0").filter(Boolean).join(
        " ",
      );
      found.push({
        uid: Number(status.match(/^Uid:\s+(\d+)/m)?.[1] ?? -1),
        pid: Number(entry.name),
        ppid: Number(status.match(/^PPid:\s+(\d+)/m)?.[1] ?? 0),
        command: cmdline || `[${status.match(/^Name:\s+(.*)$/m)?.[1] ?? "?"}]`,
      });
    } catch {
      // The process ended while we looked.
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}
