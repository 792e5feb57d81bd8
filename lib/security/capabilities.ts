/** Linux capabilities by name (include/uapi/linux/capability.h) and Docker's rules for the container's set. */
import { InvalidInputError } from "../errors.ts";

export const CAPABILITIES: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** Docker's default set for a container that is not privileged (14 capabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" as CAP_NET_ADMIN; "ALL" stays "ALL". */
export function capabilityName(text: string, flag: string): string {
  const upper = text.trim().toUpperCase();
  if (upper === "ALL") return "ALL";
  const name = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  if (!(name in CAPABILITIES)) {
    throw new InvalidInputError(
      `${flag}: unknown capability "${text}" (names such as NET_ADMIN or CAP_SYS_TIME)`,
    );
  }
  return name;
}

/**
 * The container's capabilities, as Docker computes them: ALL in --cap-add grants every capability (less the
 * dropped ones); ALL in --cap-drop keeps only the added ones; otherwise the defaults less the dropped ones,
 * plus the added ones (a capability both dropped and added is kept). "Every capability" is every one the runtime itself holds (`host`): a process cannot grant more.
 */
export function containerCapabilities(
  add: readonly string[],
  drop: readonly string[],
  privileged: boolean,
  host: readonly string[],
): string[] {
  const added = add.map((c) => capabilityName(c, "--cap-add"));
  const dropped = drop.map((c) => capabilityName(c, "--cap-drop"));
  const missing = added.find((c) => c !== "ALL" && !host.includes(c));
  if (missing) {
    throw new InvalidInputError(`--cap-add: husk itself does not have ${missing}, so it cannot grant it`);
  }
  const all = Object.keys(CAPABILITIES).filter((c) => host.includes(c));
  if (privileged) return all;
  let set: Set<string>;
  if (added.includes("ALL")) set = new Set(all.filter((c) => !dropped.includes(c)));
  else if (dropped.includes("ALL")) set = new Set(added);
  else set = new Set([...DEFAULT_CAPABILITIES.filter((c) => !dropped.includes(c)), ...added]);
  return all.filter((c) => set.has(c));
}

/** The capability names in a /proc/PID/status mask (CapPrm, CapBnd...: hexadecimal). */
export function capabilitiesOfMask(hex: string): string[] {
  const mask = BigInt("0x" + hex);
  return Object.entries(CAPABILITIES).filter(([, bit]) => (mask >> BigInt(bit)) & 1n).map(([name]) => name);
}

/** The capability set as the two 32-bit words capset(2) takes. */
export function capabilityWords(names: readonly string[]): [number, number] {
  let low = 0, high = 0;
  for (const name of names) {
    const bit = CAPABILITIES[name];
    if (bit < 32) low |= 1 << bit;
    else high |= 1 << (bit - 32);
  }
  return [low >>> 0, high >>> 0];
}
