/** The container's confinement from Docker's flags: capabilities, no_new_privs, seccomp, masked paths. Pure. */
import { InvalidInputError } from "../errors.ts";
import { containerCapabilities } from "../security/capabilities.ts";

/** Docker's masked paths: files get /dev/null over them, directories an empty read-only tmpfs. */
export const MASKED_FILES: readonly string[] = [
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
];
export const MASKED_DIRS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
/** Docker's read-only paths. */
export const READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** Where the seccomp filter comes from: husk's default profile, none, or a Docker-format file's text. */
export type SeccompChoice = { kind: "default" } | { kind: "unconfined" } | {
  kind: "profile";
  path: string;
  text: string;
};

export interface SecurityConfig {
  privileged: boolean;
  /** Bounding, effective and permitted set (inheritable and ambient are empty), as Docker does. */
  capabilities: string[];
  noNewPrivileges: boolean;
  seccomp: SeccompChoice;
  maskedFiles: string[];
  maskedDirs: string[];
  readonlyPaths: string[];
  readonlyRootfs: boolean;
}

export interface SecurityFlags {
  capAdd: readonly string[];
  capDrop: readonly string[];
  privileged: boolean;
  securityOpt: readonly string[];
  readOnly: boolean;
}

/** --security-opt values: no-new-privileges[:true|false], seccomp=unconfined, seccomp=PROFILE.json. */
export function buildSecurity(
  flags: SecurityFlags,
  readProfile: (path: string) => string,
  hostCapabilities: readonly string[],
): SecurityConfig {
  let noNewPrivileges = false;
  let seccomp: SeccompChoice = { kind: "default" };
  for (const opt of flags.securityOpt) {
    const [key, value] = splitOption(opt);
    if (key === "no-new-privileges") {
      if (value !== undefined && value !== "true" && value !== "false") {
        throw new InvalidInputError(`invalid --security-opt "${opt}": no-new-privileges takes true or false`);
      }
      noNewPrivileges = value !== "false";
    } else if (key === "seccomp" && value) {
      seccomp = value === "unconfined"
        ? { kind: "unconfined" }
        : { kind: "profile", path: value, text: readProfile(value) };
    } else {
      throw new InvalidInputError(
        `invalid --security-opt "${opt}": use no-new-privileges, seccomp=unconfined or seccomp=PROFILE.json`,
      );
    }
  }
  const privileged = flags.privileged;
  return {
    privileged,
    capabilities: containerCapabilities(flags.capAdd, flags.capDrop, privileged, hostCapabilities),
    noNewPrivileges,
    // --privileged turns the filter and the masks off, as Docker's does (unless a profile is given).
    seccomp: privileged && seccomp.kind === "default" ? { kind: "unconfined" } : seccomp,
    maskedFiles: privileged ? [] : [...MASKED_FILES],
    maskedDirs: privileged ? [] : [...MASKED_DIRS],
    readonlyPaths: privileged ? [] : [...READONLY_PATHS],
    readonlyRootfs: flags.readOnly,
  };
}

function splitOption(opt: string): [string, string | undefined] {
  const at = opt.search(/[=:]/);
  return at === -1 ? [opt, undefined] : [opt.slice(0, at), opt.slice(at + 1)];
}
