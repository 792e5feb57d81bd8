/**
 * The child's life from clone to execve, as a list of system calls computed in advance (pure: the file system
 * is only read, through FsView, to resolve paths inside the root filesystem). ffi/spawn.ts runs the list;
 * `husk run --dry-run` prints it.
 */
import { controlSpace } from "../../ffi/fd.ts";
import { Struct } from "../../ffi/spawn.ts";
import type { ContainerConfig, Mount } from "../config/types.ts";
import { DEFAULT_PATH, lookupEnv } from "../config/env.ts";
import { DEV_SYMLINKS } from "../config/defaults.ts";
import { ExitCode, HuskError, InvalidInputError } from "../errors.ts";
import { type FsView, type Layer, resolveInRoot } from "../rootfs/resolve.ts";
import {
  AT_FDCWD,
  CLONE,
  CLOSE_RANGE_CLOEXEC,
  ERRNO,
  makedev,
  MNT_DETACH,
  MOVE_MOUNT_F_EMPTY_PATH,
  MS,
  O_CLOEXEC,
  O_NOCTTY,
  O_RDONLY,
  O_RDWR,
  PR_SET_PDEATHSIG,
  S_IFCHR,
  S_IFREG,
  SCM_RIGHTS,
  SIG_SETMASK,
  SIGCHLD,
  SIGKILL,
  SOL_SOCKET,
  TIOCGPTPEER,
  TIOCSCTTY,
  TIOCSPTLCK,
  TIOCSWINSZ,
} from "./linux.ts";
import { mountFlagNames, parseMountOptions } from "./mount_options.ts";
import { boundingSteps, capabilitySteps, maskSteps, seccompSteps } from "./confine.ts";
import { seccompProgram } from "../security/filter.ts";
import { named, type Step } from "./step.ts";
import { type InterfaceSetup, interfaceSteps, joinNetworkSteps, loopbackSteps } from "./network.ts";

/** The file descriptors the parent prepared before the clone. */
export interface Wiring {
  /**
   * The child blocks reading this until the parent has set up cgroups, id maps and network (a socket when
   * the go-ahead carries the cgroup files).
   */
  syncRead: number;
  syncWrite: number;
  /** The parent's end of the close-on-exec error pipe (the child keeps the write end until execve). */
  errRead: number;
  /** A socketpair through which the child sends its terminal's master side back (with -t). */
  console?: { child: number; parent: number };
  /** Detached: the write ends of the pipes the monitor reads the container's stdout and stderr from. */
  output?: { stdout: number; stderr: number };
  /** Foreground: the container dies with the runtime (a detached one outlives it). */
  dieWithParent: boolean;
  /** With a user namespace: the socket on which the runtime sends the id-mapped root filesystem. */
  rootfsSocket?: { child: number; parent: number };
  /** --network container:X: the other container's network namespace, to join instead of a new one. */
  netns?: number;
  /** The files through which the child moves itself into its cgroup, sent open with the go-ahead. */
  cgroup?: readonly string[];
}

export type { Step } from "./step.ts";

export interface ChildPlan {
  /** Namespace flags for clone, with SIGCHLD as the exit signal. */
  cloneFlags: bigint;
  steps: Step[];
}

const NAMESPACE_FLAGS = {
  mount: CLONE.NEWNS,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  user: CLONE.NEWUSER,
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  cgroup: CLONE.NEWCGROUP,
} as const;

export interface PlanContext {
  wiring: Wiring;
  /** Signals the runtime ignores: an ignored disposition survives execve, so the child resets these. */
  ignoredSignals: readonly number[];
  fs: FsView;
  /** On a bridge network: eth0, which the runtime moves into the namespace before the go-ahead. */
  eth0?: InterfaceSetup;
}

/** Namespace flags for the container's clone, with SIGCHLD as the exit signal. */
export function containerCloneFlags(config: ContainerConfig): bigint {
  // The cgroup namespace is unshared after the parent moved the child into its cgroup, so that the
  // container sees that cgroup as its root.
  const cloneNamespaces = config.namespaces.filter((ns) => ns !== "cgroup");
  return BigInt(cloneNamespaces.reduce((flags, ns) => flags | NAMESPACE_FLAGS[ns], SIGCHLD));
}

export function planChild(config: ContainerConfig, ctx: PlanContext): ChildPlan {
  return { cloneFlags: containerCloneFlags(config), steps: containerSteps(config, ctx) };
}

/** The container's own steps, from the clone to its execve. */
export function containerSteps(config: ContainerConfig, ctx: PlanContext): Step[] {
  const layers: Layer[] = [];
  // The child builds its file system while the parent sets up the network: it waits for the go-ahead only
  // before it runs anything of the user's, then moves itself into its cgroup, so nothing escapes the cgroup,
  // and enters its cgroup namespace once it is in its cgroup.
  // With a user namespace, nothing can be made before the id maps are written: the wait comes first.
  const userns = config.userns !== null;
  const eth0 = ctx.eth0 ? interfaceSteps(ctx.eth0) : [];
  const released = syncSteps(ctx.wiring);
  return [
    ...startSteps(config, ctx.wiring),
    ...(userns ? [...released, ...becomeRootSteps(), ...eth0] : []),
    ...rootfsSteps(config, layers, ctx.fs, ctx.wiring),
    ...(config.noPivot ? chrootSteps(config.root.path) : pivotSteps(config.root.path)),
    ...stdioSteps(config, ctx.wiring),
    ...(userns ? [] : [...released, ...eth0]),
    ...cgroupNamespaceSteps(config),
    ...processSteps(config, layers, ctx.fs, ctx.ignoredSignals),
    ...execSteps(config, layers, ctx.fs),
  ];
}

function startSteps(config: ContainerConfig, w: Wiring): Step[] {
  const steps: Step[] = [];
  if (w.dieWithParent) {
    steps.push({
      call: "prctl",
      args: [named(PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG"), named(SIGKILL, "SIGKILL"), 0, 0, 0],
      what: "die with the runtime",
    });
  }
  const close = (fd: number, what: string): Step => ({ call: "close", args: [fd], what });
  steps.push(
    close(w.syncWrite, "close the parent's end of the sync pipe"),
    close(w.errRead, "close the parent's end of the error pipe"),
  );
  if (w.console) steps.push(close(w.console.parent, "close the parent's console socket"));
  if (w.rootfsSocket) steps.push(close(w.rootfsSocket.parent, "close the parent's end of the rootfs socket"));
  if (w.netns !== undefined) steps.push(...joinNetworkSteps(w.netns));
  if (config.namespaces.includes("network")) steps.push(...loopbackSteps());
  if (config.namespaces.includes("uts")) {
    const name = new TextEncoder().encode(config.hostname);
    steps.push({ call: "sethostname", args: [config.hostname, name.length], what: `set the hostname` });
  }
  return steps;
}

/** Waits until the runtime has set up what needs the pid (cgroup, id maps). End of file: the runtime died. */
/**
 * The wait for the go-ahead. With cgroup files, the go-ahead carries them, opened by the runtime once the
 * cgroup and its limits are in place, and the child moves itself into its cgroup by writing "0" (itself) to
 * each: a thread moving itself costs the kernel far less than being moved by its parent (lib/cgroups,
 * selfJoinFiles), and the write is checked against the opener's credentials, so it works from inside a new
 * user namespace as well.
 */
export function syncSteps(w: Wiring): Step[] {
  const what = "wait for the runtime to finish setting up (end of file: it died)";
  const files = w.cgroup ?? [];
  if (files.length === 0) {
    return [
      { call: "read", args: [w.syncRead, new Uint8Array(1), 1], positive: true, what },
      { call: "close", args: [w.syncRead], what: "close the sync pipe" },
    ];
  }
  const { steps, slots } = receiveSteps(w.syncRead, `${what}; receive the cgroup files`, files.length);
  return [
    ...steps,
    { call: "close", args: [w.syncRead], what: "close the sync socket" },
    ...files.flatMap((file, i): Step[] => [
      {
        call: "write",
        args: [slots[i], "0", 1],
        loadArg0: true,
        positive: true,
        what: `join the cgroup: ${file}`,
      },
      { call: "close", args: [slots[i]], loadArg0: true, what: `close ${file}` },
    ]),
  ];
}

/** Once the child is in its cgroup: a cgroup namespace, so that it sees that cgroup as its root. */
function cgroupNamespaceSteps(config: ContainerConfig): Step[] {
  if (!config.namespaces.includes("cgroup")) return [];
  return [{
    call: "unshare",
    args: [named(CLONE.NEWCGROUP, "CLONE_NEWCGROUP")],
    what: "enter a new cgroup namespace",
  }];
}

/** In a new user namespace, with the maps written: become its root (host root is unmapped there). */
function becomeRootSteps(): Step[] {
  return [
    { call: "setresgid", args: [0, 0, 0], what: "become root of the user namespace (gid)" },
    { call: "setresuid", args: [0, 0, 0], what: "become root of the user namespace (uid)" },
  ];
}

/**
 * Receives `count` descriptors sent in one message with SCM_RIGHTS; `slots` are where their numbers land (for
 * steps with loadArg0).
 */
export function receiveSteps(
  socket: number,
  what: string,
  count = 1,
): { steps: Step[]; slots: Uint8Array[] } {
  const control = new Uint8Array(controlSpace(count));
  const iov = new Struct([new Uint8Array(1), 1], "iovec");
  const msghdr = new Struct([0, 0, iov, 1, control, control.length, 0], "msghdr{SCM_RIGHTS}");
  // The received descriptors' numbers are in the control message, after its 16-byte header.
  return {
    steps: [{ call: "recvmsg", args: [socket, msghdr, 0], positive: true, what }],
    slots: Array.from({ length: count }, (_, i) => control.subarray(16 + 4 * i, 20 + 4 * i)),
  };
}

/** Mounts, devices and links, in the host's view before pivot_root; `layers` collects the planned mounts. */
function rootfsSteps(config: ContainerConfig, layers: Layer[], fs: FsView, w: Wiring): Step[] {
  const root = config.root.path;
  const userns = config.userns !== null;
  const steps: Step[] = [
    { call: "umask", args: [0], what: "create device nodes and directories with exact modes" },
    {
      call: "mount",
      args: ["", "/", null, named(MS.REC | MS.PRIVATE, "MS_REC|MS_PRIVATE"), null],
      what: "keep the container's mounts from propagating to the host",
    },
    ...(w.rootfsSocket ? idmappedRootSteps(root, w.rootfsSocket.child) : [{
      call: "mount" as const,
      args: [root, root, null, named(MS.BIND | MS.REC, "MS_BIND|MS_REC"), null],
      what: `bind the root filesystem ${root} onto itself (pivot_root needs a mount point)`,
    }]),
  ];
  for (const mount of config.mounts) steps.push(...mountSteps(root, mount, layers, fs, userns));
  for (const d of config.devices) {
    const target = resolveInRoot(root, d.path, layers, fs);
    const at = named(AT_FDCWD, "AT_FDCWD");
    steps.push(...mkdirSteps(root, target.missingParents));
    if (userns) {
      // Device nodes cannot be made in a user namespace: the host's are bound in their place.
      steps.push(
        {
          call: "mknodat",
          args: [at, root + target.path, named(S_IFREG | 0o666, "S_IFREG|0666"), 0],
          okErrno: ERRNO.EEXIST,
          what: `create the mount point for ${d.path}`,
        },
        {
          call: "mount",
          args: [d.path, root + target.path, null, named(MS.BIND, "MS_BIND"), null],
          what: `bind ${d.path}`,
        },
      );
      continue;
    }
    steps.push({
      call: "mknodat",
      args: [
        at,
        root + target.path,
        named(S_IFCHR | d.fileMode, `S_IFCHR|0${d.fileMode.toString(8)}`),
        makedev(d.major, d.minor),
      ],
      okErrno: ERRNO.EEXIST,
      what: `create the device ${d.path}`,
    });
  }
  for (const [link, target] of DEV_SYMLINKS) {
    steps.push({
      call: "symlinkat",
      args: [target, named(AT_FDCWD, "AT_FDCWD"), root + link],
      okErrno: ERRNO.EEXIST,
      what: `link ${link} to ${target}`,
    });
  }
  steps.push(...maskSteps(config));
  return steps;
}

/**
 * The root filesystem, id-mapped by the runtime (its files owned by host root appear owned by the
 * container's root) and sent as a detached mount: attached over the root path.
 */
function idmappedRootSteps(root: string, socket: number): Step[] {
  const { steps, slots: [slot] } = receiveSteps(socket, "receive the id-mapped root filesystem");
  return [
    ...steps,
    {
      call: "move_mount",
      args: [
        slot,
        "",
        named(AT_FDCWD, "AT_FDCWD"),
        root,
        named(MOVE_MOUNT_F_EMPTY_PATH, "MOVE_MOUNT_F_EMPTY_PATH"),
      ],
      loadArg0: true,
      what: `attach the id-mapped root filesystem on ${root}`,
    },
  ];
}

function mountSteps(root: string, mount: Mount, layers: Layer[], fs: FsView, userns: boolean): Step[] {
  const { flags, data } = parseMountOptions(mount.options);
  const bind = (flags & MS.BIND) !== 0;
  const sourceKind = bind ? fs.stat(mount.source) : "dir";
  if (sourceKind === null) {
    throw new InvalidInputError(
      `invalid mount ${mount.source}:${mount.destination}: ${mount.source} does not exist on the host`,
    );
  }
  const target = resolveInRoot(root, mount.destination, layers, fs);
  const at = root + target.path;
  const steps = mkdirSteps(root, target.missingParents);
  if (target.kind === "missing") {
    steps.push(
      sourceKind === "dir" ? mkdirStep(at, `create the mount point ${target.path}`) : {
        call: "mknodat",
        args: [named(AT_FDCWD, "AT_FDCWD"), at, named(S_IFREG | 0o644, "S_IFREG|0644"), 0],
        okErrno: ERRNO.EEXIST,
        what: `create the mount point ${target.path}`,
      },
    );
  }
  const what = `mount ${bind ? mount.source : mount.type} on ${mount.destination}`;
  // A bind mount ignores MS_RDONLY and friends on the first call: they take a remount.
  const firstFlags = bind ? flags & (MS.BIND | MS.REC) : flags;
  steps.push({
    call: "mount",
    args: [
      mount.source,
      at,
      bind ? null : mount.type,
      named(firstFlags, mountFlagNames(firstFlags)),
      data === "" ? null : data,
    ],
    what,
  });
  const remountFlags = flags & ~(MS.BIND | MS.REC);
  if (bind && remountFlags !== 0) {
    // In a user namespace the source's nosuid and nodev are locked: a remount must keep them.
    const f = MS.BIND | MS.REMOUNT | remountFlags | (userns ? MS.NOSUID | MS.NODEV : 0);
    steps.push({
      call: "mount",
      args: [null, at, null, named(f, mountFlagNames(f)), null],
      what: `${what} (remount with its options)`,
    });
  }
  layers.push({ destination: target.path, source: bind ? mount.source : null });
  return steps;
}

function mkdirStep(path: string, what: string): Step {
  return {
    call: "mkdirat",
    args: [named(AT_FDCWD, "AT_FDCWD"), path, named(0o755, "0755")],
    okErrno: ERRNO.EEXIST,
    what,
  };
}

function mkdirSteps(prefix: string, dirs: readonly string[]): Step[] {
  return dirs.map((d) => mkdirStep(prefix + d, `create the directory ${d}`));
}

function pivotSteps(root: string): Step[] {
  return [
    { call: "chdir", args: [root], what: "enter the root filesystem" },
    { call: "pivot_root", args: [".", "."], what: "make the root filesystem the root (pivot_root)" },
    { call: "umount2", args: [".", named(MNT_DETACH, "MNT_DETACH")], what: "detach the host's root" },
    { call: "chdir", args: ["/"], what: "enter the new root" },
  ];
}

/** For a root filesystem that cannot be pivoted (ramfs): move it over / and chroot, as runc's --no-pivot. */
function chrootSteps(root: string): Step[] {
  return [
    { call: "chdir", args: [root], what: "enter the root filesystem" },
    {
      call: "mount",
      args: [root, "/", null, named(MS.MOVE, "MS_MOVE"), null],
      what: "move the root filesystem over /",
    },
    { call: "chroot", args: ["."], what: "chroot into the root filesystem" },
    { call: "chdir", args: ["/"], what: "enter the new root" },
  ];
}

export function stdioSteps(config: ContainerConfig, w: Wiring): Step[] {
  const closeStd = (fd: number): Step => ({
    call: "close",
    args: [fd],
    okErrno: ERRNO.EBADF,
    what: `free descriptor ${fd}`,
  });
  if (config.process.terminal) {
    if (!w.console) throw new Error("a terminal needs a console socket");
    // Open the terminal in the container's own devpts so that `tty` shows /dev/pts/0; the lowest free
    // descriptor is taken each time, which puts the master on 0 and the slave on 1.
    return [
      closeStd(0),
      {
        call: "openat",
        args: [
          named(AT_FDCWD, "AT_FDCWD"),
          "/dev/pts/ptmx",
          named(O_RDWR | O_NOCTTY | O_CLOEXEC, "O_RDWR|O_NOCTTY|O_CLOEXEC"),
          0,
        ],
        what: "open a new pseudo-terminal",
      },
      {
        call: "ioctl",
        args: [0, named(TIOCSPTLCK, "TIOCSPTLCK"), new Uint8Array(4)],
        what: "unlock the pseudo-terminal",
      },
      ...windowSizeSteps(config.process.consoleSize),
      closeStd(1),
      {
        call: "ioctl",
        args: [0, named(TIOCGPTPEER, "TIOCGPTPEER"), named(O_RDWR | O_NOCTTY, "O_RDWR|O_NOCTTY")],
        what: "open the terminal's slave side",
      },
      {
        call: "sendmsg",
        args: [w.console.child, scmRights(0), 0],
        positive: true,
        what: "send the terminal to the runtime",
      },
      { call: "dup3", args: [1, 0, 0], what: "make the terminal stdin" },
      { call: "dup3", args: [1, 2, 0], what: "make the terminal stderr" },
      { call: "setsid", args: [], what: "start a session" },
      {
        call: "ioctl",
        args: [0, named(TIOCSCTTY, "TIOCSCTTY"), 0],
        what: "make the terminal the controlling terminal",
      },
    ];
  }
  const output: Step[] = w.output
    ? [
      { call: "dup3", args: [w.output.stdout, 1, 0], what: "send stdout to the monitor" },
      { call: "dup3", args: [w.output.stderr, 2, 0], what: "send stderr to the monitor" },
    ]
    : [];
  if (config.process.stdin) return output;
  return [
    ...output,
    closeStd(0),
    {
      call: "openat",
      args: [named(AT_FDCWD, "AT_FDCWD"), "/dev/null", named(O_RDONLY, "O_RDONLY"), 0],
      what: "make /dev/null stdin",
    },
  ];
}

/** Sets the terminal's size before the command can ask for it. */
function windowSizeSteps(size: { height: number; width: number } | undefined): Step[] {
  if (!size) return [];
  const winsize = new Uint8Array(new Uint16Array([size.height, size.width, 0, 0]).buffer);
  return [{
    call: "ioctl",
    args: [0, named(TIOCSWINSZ, "TIOCSWINSZ"), winsize],
    what: `set the terminal's size to ${size.height}x${size.width}`,
  }];
}

/** A msghdr carrying descriptor `fd` (SCM_RIGHTS) with one byte of data. */
function scmRights(fd: number): Struct {
  const cmsg = new Uint8Array(24);
  const view = new DataView(cmsg.buffer);
  view.setBigUint64(0, 20n, true); // CMSG_LEN(sizeof(int))
  view.setInt32(8, SOL_SOCKET, true);
  view.setInt32(12, SCM_RIGHTS, true);
  view.setInt32(16, fd, true);
  const iov = new Struct([new Uint8Array([0x2a]), 1], "iovec");
  return new Struct([0, 0, iov, 1, cmsg, cmsg.length, 0], `msghdr{SCM_RIGHTS fd ${fd}}`);
}

export function processSteps(
  config: ContainerConfig,
  layers: readonly Layer[],
  fs: FsView,
  ignoredSignals: readonly number[],
): Step[] {
  const { cwd, user } = config.process;
  const dir = resolveInRoot(config.root.path, cwd, layers, fs);
  const missing = dir.kind === "missing" ? [...dir.missingParents, dir.path] : [];
  const groups = new Uint8Array(new Uint32Array([user.gid, ...user.additionalGids]).buffer);
  // Without no_new_privs, installing a filter takes CAP_SYS_ADMIN: before the capabilities go. With it, last,
  // so that the filter sees as little of husk's own work as possible.
  const filter = seccompSteps(seccompProgram(config));
  const early = !config.security.noNewPrivileges;
  const steps: Step[] = [
    ...missing.map((d) => mkdirStep(d, `create the working directory ${d}`)),
    { call: "chdir", args: [cwd], what: `enter the working directory ${cwd}` },
    ...boundingSteps(config),
    ...(early ? filter : []),
    { call: "setgroups", args: [groups.length / 4, groups], what: "set the supplementary groups" },
    { call: "setresgid", args: [user.gid, user.gid, user.gid], what: `switch to gid ${user.gid}` },
    { call: "setresuid", args: [user.uid, user.uid, user.uid], what: `switch to uid ${user.uid}` },
    ...capabilitySteps(config),
    ...(early ? [] : filter),
    { call: "umask", args: [0o022], what: "the usual umask" },
    {
      call: "close_range",
      args: [3, 0xffffffff, named(CLOSE_RANGE_CLOEXEC, "CLOSE_RANGE_CLOEXEC")],
      what: "let no other descriptor of the runtime into the container",
    },
  ];
  for (const sig of ignoredSignals) {
    steps.push({
      call: "rt_sigaction",
      args: [sig, new Uint8Array(32), null, 8],
      what: `reset signal ${sig} to its default`,
    });
  }
  steps.push({
    call: "rt_sigprocmask",
    args: [named(SIG_SETMASK, "SIG_SETMASK"), new Uint8Array(8), null, 8],
    what: "unblock every signal",
  });
  return steps;
}

/**
 * execve of the command. A bare name is looked up along the container's $PATH now, through the planned
 * mounts, as execvp would do inside; not finding it is Docker's 127 before anything starts.
 */
export function execSteps(config: ContainerConfig, layers: readonly Layer[], fs: FsView): Step[] {
  const { args, env } = config.process;
  const command = args[0];
  const exec = (path: string, searched: boolean): Step[] => [
    { call: "execve", args: [path, args, env], what: `execve ${path}`, exec: { command, searched } },
  ];
  if (command.includes("/")) return exec(command, false);
  const dirs = (lookupEnv(env, "PATH") ?? DEFAULT_PATH).split(":").filter((d) => d.startsWith("/"));
  for (const dir of dirs) {
    const path = `${dir.replace(/\/$/, "")}/${command}`;
    if (isFile(config.root.path, path, layers, fs)) return exec(path, true);
  }
  throw new HuskError(`exec: "${command}": executable file not found in $PATH`, ExitCode.NotFound);
}

function isFile(root: string, path: string, layers: readonly Layer[], fs: FsView): boolean {
  try {
    const found = resolveInRoot(root, path, layers, fs);
    return found.kind === "file" || found.kind === "other";
  } catch (e) {
    if (e instanceof InvalidInputError) return false;
    throw e;
  }
}
