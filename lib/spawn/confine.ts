/**
 * The child's confinement (pure): masked and read-only paths, a read-only root, the capability sets,
 * no_new_privs and the seccomp filter, each placed where the kernel allows it.
 */
import { Struct } from "../../ffi/spawn.ts";
import type { ContainerConfig } from "../config/types.ts";
import { CAPABILITIES, capabilityWords } from "../security/capabilities.ts";
import {
  ERRNO,
  LINUX_CAPABILITY_VERSION_3,
  MS,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_CAPBSET_DROP,
  PR_SET_NO_NEW_PRIVS,
  SECCOMP_SET_MODE_FILTER,
} from "./linux.ts";
import { mountFlagNames } from "./mount_options.ts";
import { named, type Step } from "./step.ts";

const flags = (value: number) => named(value, mountFlagNames(value));

/**
 * Before pivot_root, paths under `root`: /dev/null over masked files, an empty read-only tmpfs over masked
 * directories, read-only binds over the read-only paths (a path the kernel lacks is skipped: ENOENT), then
 * the root itself read-only with --read-only.
 */
export function maskSteps(config: ContainerConfig): Step[] {
  const root = config.root.path;
  const { security } = config;
  const steps: Step[] = [];
  for (const path of security.maskedFiles) {
    steps.push({
      call: "mount",
      args: ["/dev/null", root + path, null, flags(MS.BIND), null],
      okErrno: ERRNO.ENOENT,
      what: `mask ${path}`,
    });
  }
  for (const path of security.maskedDirs) {
    const f = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;
    steps.push({
      call: "mount",
      args: ["tmpfs", root + path, "tmpfs", flags(f), "size=0"],
      okErrno: ERRNO.ENOENT,
      what: `mask ${path}`,
    });
  }
  for (const path of security.readonlyPaths) {
    const remount = MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;
    steps.push(
      {
        call: "mount",
        args: [root + path, root + path, null, flags(MS.BIND | MS.REC), null],
        okErrno: ERRNO.ENOENT,
        what: `bind ${path} to make it read-only`,
      },
      {
        call: "mount",
        args: [null, root + path, null, flags(remount), null],
        okErrno: ERRNO.ENOENT,
        what: `make ${path} read-only`,
      },
    );
  }
  if (security.readonlyRootfs) {
    const remount = MS.BIND | MS.REMOUNT | MS.RDONLY;
    steps.push({
      call: "mount",
      args: [null, root, null, flags(remount), null],
      what: "make the root read-only",
    });
  }
  return steps;
}

/** While still privileged: drop every capability outside the set from the bounding set. */
export function boundingSteps(config: ContainerConfig): Step[] {
  const keep = new Set(config.security.capabilities);
  return Object.entries(CAPABILITIES).filter(([name]) => !keep.has(name)).map(([name, bit]) => ({
    call: "prctl" as const,
    args: [named(PR_CAPBSET_DROP, "PR_CAPBSET_DROP"), named(bit, name), 0, 0, 0],
    // A capability newer than the kernel does not exist there.
    okErrno: ERRNO.EINVAL,
    what: `drop ${name} from the bounding set`,
  }));
}

/**
 * After the switch of user: root keeps exactly the container's capabilities (effective and permitted;
 * inheritable and ambient empty); any other uid lost them all in setresuid.
 */
export function capabilitySteps(config: ContainerConfig): Step[] {
  const steps: Step[] = [];
  if (config.process.user.uid === 0) {
    const [low, high] = capabilityWords(config.security.capabilities);
    const header = new Uint8Array(new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]).buffer);
    const data = new Uint8Array(new Uint32Array([low, low, 0, high, high, 0]).buffer);
    steps.push({ call: "capset", args: [header, data], what: "set the capabilities" });
  }
  steps.push({
    call: "prctl",
    args: [named(PR_CAP_AMBIENT, "PR_CAP_AMBIENT"), named(PR_CAP_AMBIENT_CLEAR_ALL, "CLEAR_ALL"), 0, 0, 0],
    okErrno: ERRNO.EINVAL,
    what: "clear the ambient capabilities",
  });
  if (config.security.noNewPrivileges) {
    steps.push({
      call: "prctl",
      args: [named(PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS"), 1, 0, 0, 0],
      what: "no new privileges (setuid binaries gain nothing)",
    });
  }
  return steps;
}

/** seccomp(SECCOMP_SET_MODE_FILTER) of a classic BPF program (struct sock_fprog {u16 len; filter *}). */
export function seccompSteps(program: Uint8Array | null): Step[] {
  if (program === null) return [];
  const fprog = new Struct([program.length / 8, program], `sock_fprog{${program.length / 8} instructions}`);
  return [{
    call: "seccomp",
    args: [named(SECCOMP_SET_MODE_FILTER, "SECCOMP_SET_MODE_FILTER"), 0, fprog],
    what: "install the seccomp filter",
  }];
}
