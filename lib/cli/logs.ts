/** `husk logs [-f] [--tail N] [-t] [--since T] CONTAINER`: a detached container's output, stdout and stderr apart. */
import { InvalidInputError, StateError } from "../errors.ts";
import { exitRecorded } from "../logs/exit.ts";
import { follow } from "../logs/follow.ts";
import { formatLine, type LogLine, readLogLines } from "../logs/read.ts";
import { containerDir } from "../state/paths.ts";
import { isMonitorOf } from "../state/liveness.ts";
import { type CommandModule, needExactly } from "./command.ts";
import { findContainer } from "./containers.ts";

/** --since: an RFC 3339 time, a Unix timestamp, or a duration before now (10s, 5m, 2h). */
export function parseSince(text: string, now: Date): Date {
  const relative = text.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)$/);
  if (relative) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[relative[2] as "ms" | "s" | "m" | "h"];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000);
  // RFC 3339 (a date, optionally with a time); Date.parse alone would also take free text.
  const rfc3339 = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;
  const time = rfc3339.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) {
    throw new InvalidInputError(
      `invalid --since "${text}": use a time (2026-11-23T10:00:00Z) or a duration (10m)`,
    );
  }
  return new Date(time);
}

function parseTail(text: string | undefined): number | undefined {
  if (text === undefined || text === "all") return undefined;
  if (!/^\d+$/.test(text)) {
    throw new InvalidInputError(`invalid --tail "${text}": a number of lines, or "all"`);
  }
  return Number(text);
}

export const logs: CommandModule = {
  interspersed: true,
  usage: "husk logs [OPTIONS] CONTAINER",
  summary: "Show a detached container's output (stdout and stderr kept apart).",
  flags: [
    { name: "follow", short: "f", help: "keep printing new output until the container exits" },
    { name: "tail", short: "n", value: "N", help: 'only the last N lines (default "all")' },
    { name: "timestamps", short: "t", help: "show when each line was written" },
    { name: "since", value: "TIME", help: "only lines since a time or a duration before now (10m)" },
  ],
  main: async (paths, values, rest) => {
    needExactly("logs", rest, 1, "container");
    const record = findContainer(paths, rest[0]);
    if (!record.state.detached && record.state.status !== "created") {
      throw new StateError(
        `container ${rest[0]} ran in the foreground: its output went to the terminal, not to a log`,
      );
    }
    const dir = containerDir(paths, record.config.id);
    const options = {
      tail: parseTail(values.tail as string | undefined),
      since: values.since === undefined ? undefined : parseSince(values.since as string, new Date()),
    };
    const print = async (line: LogLine) => {
      const out = line.stream === "stdout" ? Deno.stdout : Deno.stderr;
      const bytes = formatLine(line, { timestamps: values.timestamps === true });
      for (let done = 0; done < bytes.length;) done += await out.write(bytes.subarray(done));
    };
    if (values.follow) {
      // A killed monitor never records the exit: its absence ends the follow too.
      const monitor = record.state.monitorPid;
      const exited = async () =>
        await exitRecorded(dir) || monitor === null || !isMonitorOf(monitor, record.config.id);
      for await (const line of follow(dir, { ...options, exited })) await print(line);
    } else {
      for (const line of await readLogLines(dir, options)) await print(line);
    }
    return 0;
  },
};
