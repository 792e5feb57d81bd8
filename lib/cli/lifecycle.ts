/**
 * The daily lifecycle commands (Docker's names, flags and exit codes): stop, kill, rm, wait, start, restart,
 * prune, and the hidden `cleanup` a detached container's monitor runs when the container has exited.
 */
import { InvalidInputError } from "../errors.ts";
import {
  afterRestartDelay,
  removeContainer,
  restartContainer,
  shouldRestart,
  signalContainer,
  stopContainer,
} from "../runtime/lifecycle.ts";
import {
  collectStale,
  currentRecords,
  finishContainer,
  readExitRecord,
  waitForExit,
} from "../runtime/status.ts";
import { releaseResources } from "../runtime/container.ts";
import { SIGNALS } from "../spawn/linux.ts";
import { containerDir, type StatePaths } from "../state/paths.ts";
import { readRecord, withLockAsync } from "../state/store.ts";
import { type CommandModule, needArguments, refuseArguments } from "./command.ts";
import { findContainer, forEachRef } from "./containers.ts";
import type { FlagValues } from "./flags.ts";

/** A signal given as KILL, SIGKILL or 9. */
export function parseSignal(text: string): number {
  const name = text.toUpperCase().replace(/^SIG/, "");
  if (/^\d+$/.test(name) && Number(name) >= 1 && Number(name) <= 64) return Number(name);
  const number = SIGNALS[name];
  if (number === undefined) throw new InvalidInputError(`invalid signal: ${text}`);
  return number;
}

export const stop: CommandModule = {
  interspersed: true,
  usage: "husk stop [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Stop running containers: SIGTERM, then SIGKILL after the grace period.",
  flags: [{
    name: "time",
    short: "t",
    value: "SECONDS",
    help: "seconds to wait before killing (default 10)",
  }],
  main: (paths, values, rest) => {
    const seconds = values.time === undefined ? 10 : Number(values.time);
    if (!Number.isInteger(seconds) || seconds < 0) {
      throw new InvalidInputError(`invalid --time "${values.time}": a whole number of seconds`);
    }
    return forEachRef(needArguments("stop", rest), async (ref) => {
      await stopContainer(paths, findContainer(paths, ref), seconds);
      console.log(ref);
    });
  },
};

export const kill: CommandModule = {
  interspersed: true,
  usage: "husk kill [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Send a signal to running containers (default SIGKILL).",
  flags: [{ name: "signal", short: "s", value: "SIGNAL", help: "signal to send (default KILL)" }],
  main: (paths, values, rest) => {
    const signal = parseSignal((values.signal as string | undefined) ?? "KILL");
    return forEachRef(needArguments("kill", rest), (ref) => {
      signalContainer(findContainer(paths, ref), signal);
      console.log(ref);
    });
  },
};

export const rm: CommandModule = {
  interspersed: true,
  usage: "husk rm [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Remove containers.",
  flags: [{ name: "force", short: "f", help: "kill and remove running containers" }],
  main: async (paths, values, rest) => {
    const code = await forEachRef(needArguments("rm", rest), async (ref) => {
      await removeContainer(paths, findContainer(paths, ref), values.force === true);
      console.log(ref);
    });
    await collectStale(paths);
    return code;
  },
};

export const wait: CommandModule = {
  interspersed: true,
  usage: "husk wait CONTAINER [CONTAINER...]",
  summary: "Wait until containers stop, then print their exit codes.",
  flags: [],
  main: (paths, _values, rest) =>
    forEachRef(needArguments("wait", rest), async (ref) => {
      const { exitCode } = await waitForExit(paths, findContainer(paths, ref).config.id);
      console.log(exitCode ?? -1);
    }),
};

export const start: CommandModule = {
  interspersed: true,
  usage: "husk start CONTAINER [CONTAINER...]",
  summary: "Start stopped containers (in the background).",
  flags: [],
  main: (paths, _values, rest) =>
    forEachRef(needArguments("start", rest), async (ref) => {
      const record = findContainer(paths, ref);
      if (record.state.status !== "running") await restartContainer(paths, record);
      console.log(ref);
    }),
};

export const restart: CommandModule = {
  interspersed: true,
  usage: "husk restart [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Stop (if running) and start containers again.",
  flags: stop.flags,
  main: (paths, values, rest) => {
    const seconds = values.time === undefined ? 10 : Number(values.time);
    return forEachRef(needArguments("restart", rest), async (ref) => {
      await stopContainer(paths, findContainer(paths, ref), seconds);
      await restartContainer(paths, findContainer(paths, ref));
      console.log(ref);
    });
  },
};

export const prune: CommandModule = {
  interspersed: true,
  usage: "husk prune [OPTIONS]",
  summary: "Remove all stopped containers.",
  flags: [{ name: "force", short: "f", help: "do not ask (husk never asks: accepted for Docker's scripts)" }],
  main: async (paths: StatePaths, _values: FlagValues, rest: string[]) => {
    refuseArguments("prune", rest);
    const stopped = currentRecords(paths).filter((r) => r.state.status !== "running");
    for (const record of stopped) await removeContainer(paths, record, false);
    await collectStale(paths);
    if (stopped.length > 0) {
      console.log(["Deleted Containers:", ...stopped.map((r) => r.config.id)].join("\n"));
    }
    console.log(`\nTotal reclaimed: ${stopped.length} container${stopped.length === 1 ? "" : "s"}`);
    return 0;
  },
};

/** Run by a detached container's monitor once the container has exited: records the exit. */
export const cleanup: CommandModule = {
  usage: "husk cleanup CONTAINER_ID",
  summary: "(internal) Record a detached container's exit; run by its monitor.",
  flags: [],
  main: async (paths, _values, rest) => {
    const [id] = needArguments("cleanup", rest);
    if (!/^[0-9a-f]{64}$/.test(id)) {
      throw new InvalidInputError(`cleanup needs a full container ID, not "${id}"`);
    }
    const exit = readExitRecord(containerDir(paths, id)) ?? { exitCode: null, finishedAt: new Date() };
    // The monitor execs this command, so it keeps the monitor's pid: a run that ended before a restart has a
    // pid that is no longer the record's, and must not touch the new run.
    const current = () => readRecord(paths, id).state.monitorPid === Deno.pid;
    let record;
    try {
      // Under the lock: a restart creates the next run's cgroup, of the same name, under it too.
      record = await withLockAsync(paths, async () => {
        if (!current()) return null;
        const { oomKilled } = await releaseResources(paths, id);
        finishContainer(paths, id, { ...exit, oomKilled });
        return readRecord(paths, id);
      });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0; // --rm, or removed meanwhile
      throw e;
    }
    if (record === null) return 0;
    if (shouldRestart(record)) {
      // A stop or rm during the delay wins.
      const now = await afterRestartDelay(paths, id);
      if (now !== null && shouldRestart(now) && now.state.monitorPid === Deno.pid) {
        await restartContainer(paths, now, now.state.restartCount + 1);
      }
    }
    return 0;
  },
};
