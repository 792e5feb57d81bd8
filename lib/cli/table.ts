/** Docker's text output: human sizes and durations, truncated commands, aligned tables. Pure. */

/** go-units' HumanSizeWithPrecision(size, 3), as `docker images` prints SIZE: "7.8MB", "512B". */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(3))}${units[i]}`;
}

/** go-units' HumanDuration, as `docker ps` prints it ("Less than a second", "About a minute", "3 hours"). */
export function humanDuration(ms: number): string {
  // As go-units: seconds and minutes are cut off, hours are rounded.
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** The COMMAND column: the command line quoted, cut to 20 characters with an ellipsis unless `full`. */
export function commandColumn(args: readonly string[], full: boolean): string {
  const line = args.join(" ");
  return JSON.stringify(full || line.length <= 20 ? line : line.slice(0, 19) + "…");
}

/** Columns separated by at least three spaces, as Docker's tabwriter does. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join("").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
