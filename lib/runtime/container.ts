/**
 * Creating, starting and finishing a container: the state record, the generated /etc files, the process.
 * The library API (mod.ts) and the CLI both drive containers through here.
 */
import { kill as killPid, waitPid, type WaitStatus } from "../../ffi/process.ts";
import { buildConfig, hostsFile } from "../config/build.ts";
import type { RunOptions } from "../config/options.ts";
import type { ContainerConfig } from "../config/types.ts";
import { InvalidInputError } from "../errors.ts";
import { isValidName, newId, newName } from "../state/ids.ts";
import { containerDir, type StatePaths } from "../state/paths.ts";
import { createRecord, removeRecord, takenNames, withLock, writeState } from "../state/store.ts";
import { type ContainerProcess, dryRunPlan, startContainerProcess } from "./process.ts";
import { hostFs } from "../rootfs/resolve.ts";
import type { ChildPlan } from "../spawn/plan.ts";
import { resolveRootfs } from "./rootfs.ts";

export interface ExitResult {
  status: WaitStatus;
  /** Docker's convention: the command's own code, or 128 + the signal that killed it. */
  exitCode: number;
}

export function exitCodeOf(status: WaitStatus): number {
  return status.exited ? status.code : 128 + status.signal;
}

/** A started container. */
export class Container {
  #exit: Promise<ExitResult> | undefined;

  constructor(
    readonly paths: StatePaths,
    readonly config: ContainerConfig,
    readonly process: ContainerProcess,
  ) {}

  get id(): string {
    return this.config.id;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Sends a signal to the container's first process. */
  kill(signal: number): boolean {
    return killPid(this.process.pid, signal);
  }

  /** Waits for the container to exit and records it (or removes it, with --rm). */
  wait(): Promise<ExitResult> {
    this.#exit ??= (async () => {
      const status = await waitPid(this.process.pid);
      const exitCode = exitCodeOf(status);
      if (this.config.autoRemove) {
        removeRecord(this.paths, this.id);
      } else {
        writeState(this.paths, this.id, {
          status: "exited",
          pid: this.process.pid,
          startedAt: this.config.created,
          finishedAt: new Date().toISOString(),
          exitCode,
        });
      }
      return { status, exitCode };
    })();
    return this.#exit;
  }
}

/** The child's plan for `options`, computed without creating anything (for --dry-run). */
export function dryRun(paths: StatePaths, options: RunOptions): ChildPlan {
  const config = configFor(paths, options, newId(), options.name ?? "dry-run");
  // The generated /etc files do not exist yet: plan as if they did.
  const etcDir = containerDir(paths, config.id) + "/";
  return dryRunPlan(config, { ...hostFs, stat: (p) => p.startsWith(etcDir) ? "file" : hostFs.stat(p) });
}

function configFor(paths: StatePaths, options: RunOptions, id: string, name: string): ContainerConfig {
  if (options.name !== undefined && !isValidName(options.name)) {
    throw new InvalidInputError(
      `invalid container name "${options.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  return buildConfig(options, {
    id,
    name,
    rootfs: resolveRootfs(options.rootfs),
    hostEnv: (n) => Deno.env.get(n),
    readEnvFile: (f) => {
      try {
        return Deno.readTextFileSync(f);
      } catch (e) {
        throw new InvalidInputError(`cannot read env file ${f}: ${(e as Error).message}`);
      }
    },
    etcDir: containerDir(paths, id),
    now: new Date(),
  });
}

/** Creates the container's record and starts its process; on failure nothing is left behind. */
export async function startContainer(paths: StatePaths, options: RunOptions): Promise<Container> {
  const id = newId();
  const config = await withLock(paths, () => {
    const name = options.name ?? newName(new Set(takenNames(paths).keys()));
    const config = configFor(paths, options, id, name);
    createRecord(paths, config);
    return config;
  });
  try {
    const dir = containerDir(paths, id);
    Deno.writeTextFileSync(`${dir}/hostname`, config.hostname + "\n");
    Deno.writeTextFileSync(`${dir}/hosts`, hostsFile(config.hostname));
    const process = await startContainerProcess(config);
    writeState(paths, id, {
      status: "running",
      pid: process.pid,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      exitCode: null,
    });
    return new Container(paths, config, process);
  } catch (e) {
    removeRecord(paths, id);
    throw e;
  }
}
