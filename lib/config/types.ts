/**
 * The container's configuration, shaped after the OCI runtime spec (config.json): everything needed to start
 * the container, computed from the command line before anything touches the system.
 */

import type { ExtraHost } from "../network/dns.ts";
import type { PortMapping } from "../network/ports.ts";
import type { Resources } from "./resources.ts";
import type { SecurityConfig } from "./security.ts";
import type { UserNamespace } from "./userns.ts";

export type Namespace = "uts" | "pid" | "mount" | "ipc" | "network" | "cgroup" | "user";

/** An OCI mount: options are the mount(8)-style strings ("bind", "ro", "nosuid", "mode=755", ...). */
export interface Mount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** A device node created under the container's /dev. */
export interface Device {
  path: string;
  type: "c";
  major: number;
  minor: number;
  fileMode: number;
}

export interface User {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export interface ProcessConfig {
  args: string[];
  env: string[];
  cwd: string;
  user: User;
  /** Give the process a pseudo-terminal as stdin, stdout and stderr. */
  terminal: boolean;
  /** Keep stdin open (-i); otherwise stdin is /dev/null. */
  stdin: boolean;
  /** The terminal's initial size, set before the command runs (later changes follow SIGWINCH). */
  consoleSize?: { height: number; width: number };
}

export interface ContainerConfig {
  id: string;
  name: string;
  created: string;
  root: { path: string };
  hostname: string;
  process: ProcessConfig;
  namespaces: Namespace[];
  mounts: Mount[];
  devices: Device[];
  /** chroot instead of pivot_root, for a root filesystem on ramfs. */
  noPivot: boolean;
  /** Remove the container's record when it exits (--rm). */
  autoRemove: boolean;
  /** Detached containers' logs: bytes per file before rotation (one rotated file is kept). */
  log: { maxSize: number };
  /** Cgroup limits (memory, CPU, pids), in OCI's units. */
  resources: Resources;
  /** Capabilities, no_new_privs, seccomp, masked and read-only paths. */
  security: SecurityConfig;
  /** The user namespace's id mappings; null: the host's user namespace (--userns=host). */
  userns: UserNamespace | null;
  /** What happens when a detached container exits (a `stop` or `rm -f` is never followed by a restart). */
  restartPolicy: RestartPolicy;
  network: NetworkConfig;
  /** The image whose layers are overlaid at root.path; null for a plain directory (--rootfs). */
  image: ImageRootfs | null;
}

export interface ImageRootfs {
  /** The image ID ("sha256:..."), which `rmi` checks for users. */
  id: string;
  /** The name the user gave. */
  name: string;
  /** Extracted layer directories, lowest first. */
  layers: string[];
}

/**
 * How the container is networked. bridge: its own namespace with `eth0` on a husk network (a bridge);
 * none: its own namespace with only `lo`; host: the host's namespace; container: another container's.
 */
export interface NetworkConfig {
  mode: "bridge" | "none" | "host" | "container";
  /** bridge: the network's name ("bridge", the default network, or a user-defined one). */
  network: string | null;
  /** container: the full ID of the container whose network namespace is joined. */
  container: string | null;
  /** -p, and -P's exposed ports (a hostPort of 0 is chosen at start). */
  ports: PortMapping[];
  /** --expose (and, with images, their exposed ports): "80/tcp". */
  exposedPorts: string[];
  dns: { servers: string[]; search: string[]; options: string[] };
  extraHosts: ExtraHost[];
}

export interface RestartPolicy {
  name: "no" | "on-failure" | "always" | "unless-stopped";
  /** on-failure:N: at most N restarts (0: no limit). */
  maximumRetryCount: number;
}
