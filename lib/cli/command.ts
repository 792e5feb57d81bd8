/** What each subcommand module exports: its flags and its entry point (one argument struct per command). */
import type { StatePaths } from "../state/paths.ts";
import type { Flag, FlagValues } from "./flags.ts";

export interface CommandModule {
  usage: string;
  summary: string;
  flags: readonly Flag[];
  /** Runs the command; resolves to the exit code. */
  main(paths: StatePaths, values: FlagValues, rest: string[]): Promise<number>;
}
