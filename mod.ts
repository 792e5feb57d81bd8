/**
 * husk as a library: start containers from a Deno program without the CLI.
 *
 * ```ts
 * import { defaultRunOptions, run, statePaths } from "./mod.ts";
 * const { exitCode } = await run(statePaths("/tmp/husk"), { ...defaultRunOptions(), command: ["/bin/true"], rm: true });
 * ```
 *
 * The container's stdin, stdout and stderr are this process's (stdin is /dev/null unless `interactive`).
 */
import type { RunOptions } from "./lib/config/options.ts";
import { startContainer } from "./lib/runtime/container.ts";
import type { ExitResult } from "./lib/runtime/status.ts";
import type { StatePaths } from "./lib/state/paths.ts";

export type { RunOptions } from "./lib/config/options.ts";
export { defaultRunOptions } from "./lib/config/options.ts";
export type { ContainerConfig, Mount, Namespace, ProcessConfig, User } from "./lib/config/types.ts";
export { buildConfig } from "./lib/config/build.ts";
export { Container, dryRun, startContainer } from "./lib/runtime/container.ts";
export type { ExitResult } from "./lib/runtime/status.ts";
export { planChild, type Step } from "./lib/spawn/plan.ts";
export { formatPlan } from "./lib/spawn/format.ts";
export { type StatePaths, statePaths } from "./lib/state/paths.ts";
export { ExitCode, HuskError, InvalidInputError, StartError, StateError } from "./lib/errors.ts";

/** Starts a container and waits for it to exit. */
export async function run(paths: StatePaths, options: RunOptions): Promise<ExitResult> {
  const container = await startContainer(paths, options);
  return await container.wait();
}
