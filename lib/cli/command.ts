/** What each subcommand module exports: its flags and its entry point (one argument struct per command). */
import { InvalidInputError } from "../errors.ts";
import type { StatePaths } from "../state/paths.ts";
import type { Flag, FlagValues } from "./flags.ts";

export interface CommandModule {
  usage: string;
  summary: string;
  flags: readonly Flag[];
  /** Flags may follow positional arguments (all of Docker's commands but those that take a command line). */
  interspersed?: boolean;
  /** Runs the command; resolves to the exit code. */
  main(paths: StatePaths, values: FlagValues, rest: string[]): Promise<number>;
}

/** A command made of subcommands (`husk network create|ls|inspect|rm`). */
export interface CommandGroup {
  usage: string;
  summary: string;
  subcommands: Record<string, CommandModule>;
}

/** Docker's answer to arguments given to a command that takes none. */
export function refuseArguments(command: string, rest: readonly string[]): void {
  if (rest.length > 0) throw new InvalidInputError(`"husk ${command}" accepts no arguments`);
}

/** Docker's answer to too few arguments: `"husk rm" requires at least 1 argument`. Returns them. */
export function needArguments(
  command: string,
  rest: readonly string[],
  what = "argument",
): readonly string[] {
  if (rest.length === 0) throw new InvalidInputError(`"husk ${command}" requires at least 1 ${what}`);
  return rest;
}

/** Docker's answer to another number of arguments than `count`: `"husk tag" requires exactly 2 arguments`. */
export function needExactly(
  command: string,
  rest: readonly string[],
  count: number,
  what = "argument",
): void {
  if (rest.length !== count) {
    throw new InvalidInputError(
      `"husk ${command}" requires exactly ${count} ${what}${count === 1 ? "" : "s"}`,
    );
  }
}
