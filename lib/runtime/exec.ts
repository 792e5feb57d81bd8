/** Running another process in a running container (`husk exec`). */
import { waitPid } from "../../ffi/process.ts";
import { buildEnv, parseEnvEntry } from "../config/env.ts";
import type { ContainerConfig } from "../config/types.ts";
import { parseUser } from "../config/user.ts";
import { InvalidInputError, StateError } from "../errors.ts";
import type { ContainerRecord } from "../state/store.ts";
import type { StatePaths } from "../state/paths.ts";
import { openContainerCgroup } from "./cgroups.ts";
import { exitCodeOf } from "./container.ts";
import { isRunning } from "../state/liveness.ts";
import { type ContainerProcess, startExecProcess } from "./process.ts";

export interface ExecOptions {
  command: string[];
  env: string[];
  workdir?: string;
  user?: string;
  interactive: boolean;
  tty: boolean;
  consoleSize?: { rows: number; columns: number };
}

/** The exec's process, as a config: the container's, with the exec's command, env, user, workdir, terminal. */
export function execConfig(container: ContainerConfig, options: ExecOptions): ContainerConfig {
  if (options.command.length === 0) throw new InvalidInputError(`"husk exec" requires a command to run`);
  const cwd = options.workdir ?? container.process.cwd;
  if (!cwd.startsWith("/")) {
    throw new InvalidInputError(`invalid working directory "${cwd}": it must be absolute`);
  }
  const extra = options.env.map((e) => parseEnvEntry(e, (n) => Deno.env.get(n))).filter((e): e is string =>
    e !== null
  );
  const base = container.process.env.filter((e) => !e.startsWith("TERM="));
  return {
    ...container,
    process: {
      args: options.command,
      env: buildEnv([...base, ...extra], container.hostname, options.tty),
      cwd,
      user: options.user === undefined ? container.process.user : parseUser(options.user),
      terminal: options.tty,
      stdin: options.interactive,
      consoleSize: options.tty && options.consoleSize
        ? { height: options.consoleSize.rows, width: options.consoleSize.columns }
        : undefined,
    },
  };
}

export async function execInContainer(
  paths: StatePaths,
  record: ContainerRecord,
  options: ExecOptions,
): Promise<ContainerProcess> {
  if (!isRunning(record)) {
    throw new StateError(`container ${record.config.id.slice(0, 12)} is not running: start it before exec`);
  }
  // The new process moves itself into the container's cgroup before it runs anything, as the first did.
  const cgroup = openContainerCgroup(paths, record.config.id);
  return await startExecProcess(execConfig(record.config, options), record.state.pid, {
    cgroupFiles: cgroup?.selfJoinFiles(),
  });
}

/** Waits for an exec'd process; Docker's exit code. */
export async function waitExec(pid: number): Promise<number> {
  return exitCodeOf(await waitPid(pid));
}
