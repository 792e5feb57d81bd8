/**
 * A benchmark's measured times and their summary (median, percentiles), and the command lines that are
 * timed: shared by bench.ts and bench_images.ts.
 */

/** The p-th percentile (0..100) of `values`, linearly interpolated between the closest ranks (NaN if empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** The median of `values` (the mean of the middle two for an even count; NaN if empty). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** One measured benchmark. Times are in milliseconds. */
export interface BenchResult {
  name: string;
  /** How it was timed: "hyperfine", "loop" (Deno.Command wall time) or "in-process". */
  method: string;
  command: string;
  runs: number;
  median: number;
  min: number;
  max: number;
  mean: number;
  p90: number;
  /** Every run's time, in order. */
  times: number[];
}

/** A benchmark that could not run, and why. */
export interface Skipped {
  name: string;
  reason: string;
}

export function summarize(
  name: string,
  method: string,
  command: string,
  times: readonly number[],
): BenchResult {
  if (times.length === 0) throw new Error(`${name}: no runs`);
  return {
    name,
    method,
    command,
    runs: times.length,
    median: median(times),
    min: Math.min(...times),
    max: Math.max(...times),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    p90: percentile(times, 90),
    times: [...times],
  };
}

/** Quotes one argument for hyperfine's `-N` mode, which splits its command line like a POSIX shell would. */
export function quoteArg(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(quoteArg).join(" ");
}
