/**
 * Docker-style flags (as Go's pflag reads them, which Docker uses): `--name value`, `--name=value`, `-e VALUE`,
 * `-eVALUE`, clusters of switches (`-it`), a switch given `=true` or `=false`, `--` to end the flags. A flag
 * that takes a value takes the next argument whatever it is (`--pids-limit -1`). A command's flags come before
 * its positional arguments, and everything from the first positional on (the container's command) is left
 * alone, so that `husk run -it alpine sh -c 'ls -l'` never reads `-c` as one of husk's flags.
 *
 * Written here rather than on node:util's parseArgs: loading node:util cost every command 5-7 ms.
 */
import { InvalidInputError } from "../errors.ts";

export interface Flag {
  name: string;
  short?: string;
  /** A flag that takes a value; its placeholder in the help (e.g. "LIST"). */
  value?: string;
  /** May be given several times (values collected in order). */
  multiple?: boolean;
  help: string;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: FlagValues;
  /** The first positional argument and everything after it. */
  rest: string[];
}

/**
 * Parses `args` for `flags` up to the first positional argument (or `--`); with `interspersed`, as Docker's
 * commands other than run, exec and top, flags may also follow positional arguments (`husk rm web -f`).
 */
export function parseFlags(
  args: readonly string[],
  flags: readonly Flag[],
  where: string,
  interspersed = false,
): Parsed {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short !== undefined).map((f) => [f.short!, f]));
  const fail = (message: string) =>
    new InvalidInputError(`${message} (see 'husk ${where ? `${where} ` : ""}--help')`);
  const values: FlagValues = {};
  const set = (flag: Flag, value: string | boolean) => {
    if (!flag.multiple) values[flag.name] = value;
    else values[flag.name] = [...(values[flag.name] as string[] | undefined ?? []), value as string];
  };
  /** The value of a flag that takes one: attached to it, else the next argument. */
  const valueOf = (flag: Flag, attached: string | null, i: number): [string, number] => {
    if (attached !== null) return [attached, i];
    if (i + 1 >= args.length) throw fail(`flag needs an argument: --${flag.name}`);
    return [args[i + 1], i + 1];
  };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (arg.length < 2 || arg[0] !== "-") {
      if (!interspersed) {
        rest.push(...args.slice(i));
        break;
      }
      rest.push(arg);
      continue;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const attached = eq < 0 ? null : arg.slice(eq + 1);
      const flag = byName.get(name);
      if (flag === undefined) throw fail(`unknown flag: --${name}`);
      if (flag.value === undefined) {
        set(flag, attached === null ? true : switchValue(flag, attached, fail));
      } else {
        let value: string;
        [value, i] = valueOf(flag, attached, i);
        set(flag, value);
      }
      continue;
    }
    // Short flags: switches, up to one that takes a value (the rest of the argument, or the next one).
    for (let j = 1; j < arg.length; j++) {
      const flag = byShort.get(arg[j]);
      if (flag === undefined) throw fail(`unknown flag: -${arg[j]}`);
      if (flag.value === undefined) {
        set(flag, true);
        continue;
      }
      const tail = arg.slice(j + 1);
      let value: string;
      [value, i] = valueOf(flag, tail === "" ? null : tail.replace(/^=/, ""), i);
      set(flag, value);
      break;
    }
  }
  return { values, rest };
}

/** `--rm=false`: a switch given a value takes true or false, as Docker's. */
function switchValue(flag: Flag, value: string, fail: (message: string) => Error): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw fail(`invalid value "${value}" for --${flag.name}: expected true or false`);
}

/** The help text of a command. */
export function usage(usageLine: string, summary: string, flags: readonly Flag[]): string {
  const left = (f: Flag) => `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.value ? ` ${f.value}` : ""}`;
  const width = Math.max(...flags.map((f) => left(f).length));
  return [
    `Usage:  ${usageLine}`,
    "",
    summary,
    "",
    "Options:",
    ...flags.map((f) => `  ${left(f).padEnd(width)}   ${f.help}`),
    "",
  ].join("\n");
}
