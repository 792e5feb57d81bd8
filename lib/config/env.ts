/** The container's environment: Docker's rules for -e, --env-file and the defaults. */
import { InvalidInputError } from "../errors.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * One -e value or env-file line: `NAME=value`, or `NAME` alone to take the host's value (dropped when the
 * host has none, as Docker does). Returns null for a variable to drop.
 */
export function parseEnvEntry(entry: string, hostEnv: (name: string) => string | undefined): string | null {
  const eq = entry.indexOf("=");
  const name = eq === -1 ? entry : entry.slice(0, eq);
  if (name === "" || /\s/.test(name)) {
    throw new InvalidInputError(`invalid environment variable: "${entry}" (expected NAME=value or NAME)`);
  }
  if (eq !== -1) return entry;
  const value = hostEnv(name);
  return value === undefined ? null : `${name}=${value}`;
}

/** The entries of an env file: one per line, blank lines and lines starting with # ignored. */
export function parseEnvFile(text: string, file: string): string[] {
  return text.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) =>
    l.trim() !== "" && !l.trimStart().startsWith("#")
  )
    .map((line) => {
      if (line.startsWith("=") || /^\s/.test(line)) {
        throw new InvalidInputError(`invalid line in env file ${file}: "${line}"`);
      }
      return line;
    });
}

/**
 * The final environment: PATH and HOSTNAME (and TERM with a terminal) first, then the user's entries,
 * a later entry replacing an earlier one of the same name. Nothing of the host's environment leaks in.
 */
export function buildEnv(userEntries: readonly string[], hostname: string, terminal: boolean): string[] {
  const vars = new Map<string, string>();
  const set = (entry: string) => vars.set(entry.slice(0, entry.indexOf("=")), entry);
  set(`PATH=${DEFAULT_PATH}`);
  set(`HOSTNAME=${hostname}`);
  if (terminal) set("TERM=xterm");
  userEntries.forEach(set);
  return [...vars.values()];
}

/** The value of NAME in an environment list. */
export function lookupEnv(env: readonly string[], name: string): string | undefined {
  const entry = env.findLast((e) => e.startsWith(name + "="));
  return entry?.slice(name.length + 1);
}
