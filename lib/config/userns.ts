/**
 * User namespaces (--userns, --uidmap, --gidmap): root in the container maps to an unprivileged range on the
 * host. Pure: the subordinate ranges of /etc/subuid and /etc/subgid come in as text.
 */
import { InvalidInputError } from "../errors.ts";

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface UserNamespace {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
}

/** husk's default range when /etc/subuid has no entry for "husk" (documented). */
export const DEFAULT_RANGE = { start: 100000, count: 65536 };

export interface UsernsFlags {
  userns?: string;
  uidmap: readonly string[];
  gidmap: readonly string[];
}

/** The subordinate range of user `name` in an /etc/subuid-style text ("name:start:count" lines). */
export function subordinateRange(text: string, name: string): { start: number; count: number } | null {
  for (const line of text.split("\n")) {
    const [user, start, count] = line.trim().split(":");
    if (user === name && /^\d+$/.test(start ?? "") && /^\d+$/.test(count ?? "")) {
      return { start: Number(start), count: Number(count) };
    }
  }
  return null;
}

export function buildUserns(
  flags: UsernsFlags,
  subuid: string,
  subgid: string,
): UserNamespace | null {
  const mode = flags.userns ?? (flags.uidmap.length + flags.gidmap.length > 0 ? "remap" : "host");
  if (mode !== "host" && mode !== "remap") {
    throw new InvalidInputError(`invalid --userns "${mode}": use host or remap`);
  }
  if (mode === "host") {
    if (flags.uidmap.length + flags.gidmap.length > 0) {
      throw new InvalidInputError("--uidmap and --gidmap need a user namespace: drop --userns=host");
    }
    return null;
  }
  const uidRange = subordinateRange(subuid, "husk");
  const gidRange = subordinateRange(subgid, "husk");
  const remap = (range: { start: number; count: number } | null): IdMapping[] => {
    const r = range ?? DEFAULT_RANGE;
    return [{ containerID: 0, hostID: r.start, size: r.count }];
  };
  const uids = flags.uidmap.length > 0
    ? flags.uidmap.map((m) => parseMapping(m, "--uidmap"))
    : remap(uidRange);
  const gids = flags.gidmap.length > 0
    ? flags.gidmap.map((m) => parseMapping(m, "--gidmap"))
    : flags.uidmap.length > 0
    ? uids
    : remap(gidRange);
  checkMappings(uids, "--uidmap", uidRange, "/etc/subuid");
  checkMappings(gids, "--gidmap", gidRange, "/etc/subgid");
  return { uidMappings: uids, gidMappings: gids };
}

/** "container:host:size", as --uidmap takes it. */
export function parseMapping(text: string, flag: string): IdMapping {
  const parts = text.split(":");
  if (parts.length !== 3 || parts.some((p) => !/^\d{1,10}$/.test(p))) {
    throw new InvalidInputError(
      `invalid ${flag} "${text}": expected CONTAINER_ID:HOST_ID:SIZE, e.g. 0:100000:65536`,
    );
  }
  const [containerID, hostID, size] = parts.map(Number);
  if (size === 0) throw new InvalidInputError(`invalid ${flag} "${text}": the size must be at least 1`);
  return { containerID, hostID, size };
}

function checkMappings(
  maps: readonly IdMapping[],
  flag: string,
  range: { start: number; count: number } | null,
  file: string,
): void {
  const overlap = (a: [number, number], b: [number, number]) => a[0] < b[0] + b[1] && b[0] < a[0] + a[1];
  maps.forEach((m, i) => {
    for (const other of maps.slice(i + 1)) {
      if (overlap([m.containerID, m.size], [other.containerID, other.size])) {
        throw new InvalidInputError(
          `${flag}: the container ranges of two mappings overlap (${m.containerID}...)`,
        );
      }
      if (overlap([m.hostID, m.size], [other.hostID, other.size])) {
        throw new InvalidInputError(`${flag}: the host ranges of two mappings overlap (${m.hostID}...)`);
      }
    }
    if (range && (m.hostID < range.start || m.hostID + m.size > range.start + range.count)) {
      throw new InvalidInputError(
        `${flag}: host ids ${m.hostID}-${m.hostID + m.size - 1} exceed husk's subordinate range ` +
          `${range.start}-${range.start + range.count - 1} in ${file}`,
      );
    }
  });
  if (!maps.some((m) => m.containerID === 0)) {
    throw new InvalidInputError(`${flag}: the container's root (id 0) must be mapped`);
  }
}

/** The text written to /proc/PID/uid_map or gid_map. */
export function mapText(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

/** The host id that container id `id` maps to, or null. */
export function hostIdOf(maps: readonly IdMapping[], id: number): number | null {
  const m = maps.find((m) => id >= m.containerID && id < m.containerID + m.size);
  return m ? m.hostID + (id - m.containerID) : null;
}
