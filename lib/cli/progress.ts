/**
 * Pull progress as Docker shows it: one line per layer, redrawn in place with a bar on a terminal; on
 * anything else, a plain line each time a layer's status changes.
 */
import { humanSize } from "./table.ts";

interface Line {
  status: string;
  done?: number;
  total?: number;
}

export function progressBar(done: number, total: number, width = 40): string {
  const filled = Math.min(width, Math.floor((done / Math.max(total, 1)) * width));
  const rest = filled < width ? ">" + " ".repeat(width - filled - 1) : "";
  return `[${"=".repeat(filled)}${rest}] ${humanSize(done)}/${humanSize(total)}`;
}

export class PullProgress {
  #lines = new Map<string, Line>();
  #drawn = 0;

  constructor(
    readonly terminal: boolean,
    readonly write: (text: string) => void = (t) => {
      Deno.stdout.writeSync(new TextEncoder().encode(t));
    },
  ) {}

  update(event: { digest: string; status: string; done?: number; total?: number }): void {
    const previous = this.#lines.get(event.digest);
    this.#lines.set(event.digest, event);
    if (!this.terminal) {
      if (previous?.status !== event.status) this.write(`${event.digest}: ${event.status}\n`);
      return;
    }
    this.#redraw();
  }

  #redraw(): void {
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const [digest, line] of this.#lines) {
      const bar = line.status === "Downloading" && line.total
        ? ` ${progressBar(line.done ?? 0, line.total)}`
        : "";
      text += `\x1b[2K${digest}: ${line.status}${bar}\n`;
    }
    this.#drawn = this.#lines.size;
    this.write(text);
  }
}
