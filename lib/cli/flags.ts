/**
 * Docker-style flags on top of node:util's parseArgs: a command's flags come before its positional arguments,
 * and everything from the first positional on (the container's command) is left alone, so that
 * `husk run -it alpine sh -c 'ls -l'` never reads `-c` as one of husk's flags.
 */
import { parseArgs } from "node:util";
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
 * Parses `argv` for `flags` up to the first positional argument (or `--`); with `interspersed`, as Docker's
 * commands other than run, exec and top, flags may also follow positional arguments (`husk rm web -f`).
 */
export function parseFlags(
  args: readonly string[],
  flags: readonly Flag[],
  where: string,
  interspersed = false,
): Parsed {
  const argv = attachNegativeValues(args, flags, interspersed);
  const options = Object.fromEntries(flags.map((f) => [f.name, {
    type: f.value === undefined ? "boolean" as const : "string" as const,
    ...(f.short ? { short: f.short } : {}),
    ...(f.multiple ? { multiple: true } : {}),
  }]));
  // A lenient pass only finds where the positionals start; flags' values are known, so "-e X" is one flag.
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (interspersed) return parseInterspersed(argv, options, where);
  const stop = tokens.find((t) => t.kind === "positional" || t.kind === "option-terminator");
  const end = stop === undefined ? argv.length : stop.index;
  const rest = argv.slice(stop?.kind === "option-terminator" ? end + 1 : end);
  try {
    const { values } = parseArgs({
      args: argv.slice(0, end),
      options,
      strict: true,
      allowPositionals: false,
    });
    return { values: values as FlagValues, rest };
  } catch (e) {
    throw new InvalidInputError(`${flagError(e as Error)} (see 'husk ${where ? `${where} ` : ""}--help')`);
  }
}

function parseInterspersed(argv: string[], options: ParseArgsOptions, where: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: values as FlagValues, rest: positionals };
  } catch (e) {
    throw new InvalidInputError(`${flagError(e as Error)} (see 'husk ${where ? `${where} ` : ""}--help')`);
  }
}

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

/**
 * `--pids-limit -1` as Docker reads it: a flag that takes a value takes the next argument even when it is a
 * negative number, which parseArgs would take for a flag. Stops at the first positional argument.
 */
function attachNegativeValues(
  argv: readonly string[],
  flags: readonly Flag[],
  interspersed: boolean,
): string[] {
  const takesValue = new Set(
    flags.filter((f) => f.value !== undefined).flatMap((
      f,
    ) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]),
  );
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (takesValue.has(arg) && /^-\d/.test(argv[i + 1] ?? "")) {
      out.push(`${arg}=${argv[++i]}`.replace(/^(-\w)=/, "$1"));
      continue;
    }
    out.push(arg);
    if (arg === "--" || (!interspersed && !arg.startsWith("-"))) return [...out, ...argv.slice(i + 1)];
    // A flag's value is not where the command starts.
    if (takesValue.has(arg) && i + 1 < argv.length) out.push(argv[++i]);
  }
  return out;
}

/** parseArgs' long messages, as Docker's short ones. */
function flagError(e: Error & { code?: string }): string {
  const flag = e.message.match(/'(?:-\w, )?(--?[\w-]+)/)?.[1] ?? "";
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag: ${flag}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /argument missing/.test(e.message)
        ? `flag needs an argument: ${flag}`
        : `flag ${flag} takes no value`;
    default:
      return e.message;
  }
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
