/** `husk run`: start a container in the foreground, attached to this terminal, and exit with its code. */
import type { RunOptions } from "../config/options.ts";
import { attachConsole } from "../terminal/console.ts";
import { type Container, dryRun, startContainer } from "../runtime/container.ts";
import { formatPlan } from "../spawn/format.ts";
import type { StatePaths } from "../state/paths.ts";
import { forwardSignals } from "./signals.ts";

export async function runCommand(paths: StatePaths, options: RunOptions, planOnly: boolean): Promise<number> {
  if (planOnly) {
    console.log(formatPlan(dryRun(paths, options)));
    return 0;
  }
  // Listen before starting: a signal that arrives while the container starts is delivered once it runs.
  let container: Container | undefined;
  const early: number[] = [];
  const stopForwarding = forwardSignals((signal) => container ? container.kill(signal) : early.push(signal));
  try {
    const consoleSize = options.tty && Deno.stdout.isTerminal() ? Deno.consoleSize() : undefined;
    container = await startContainer(paths, { ...options, consoleSize });
    early.forEach((signal) => container!.kill(signal));
    const terminal = container.process.console === null
      ? null
      : attachConsole(container.process.console, { stdin: options.interactive });
    try {
      const { exitCode } = await container.wait();
      await terminal?.output;
      return exitCode;
    } finally {
      terminal?.detach();
    }
  } finally {
    stopForwarding();
  }
}
