import type { ResourceFlags } from "./resources.ts";

/** The options of `husk run`, as parsed from the command line (one struct per subcommand). */
export interface RunOptions {
  /** The root filesystem directory; the default rootfs when absent (and no image is named). */
  rootfs?: string;
  /** The image to run (a name or ID in the image store). */
  image?: string;
  /** --entrypoint: replaces the image's ENTRYPOINT ("" clears it). */
  entrypoint?: string;
  name?: string;
  hostname?: string;
  /** -e/--env entries, in order. */
  env: string[];
  /** --env-file paths, in order (read before -e entries, which win). */
  envFiles: string[];
  workdir?: string;
  user?: string;
  volumes: string[];
  tmpfs: string[];
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  /** The host terminal's size, for the container's terminal (with tty). */
  consoleSize?: { rows: number; columns: number };
  noPivot: boolean;
  /** -d: run in the background under a monitor, print the ID and return. */
  detach: boolean;
  /** --init: run tini as PID 1, which forwards signals and reaps zombies. */
  init: boolean;
  /** --restart: no, on-failure[:N], always, unless-stopped. */
  restart?: string;
  /** Bytes per log file before rotation (one rotated file is kept). */
  logMaxSize?: number;
  /** -m, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit, as typed. */
  resources: ResourceFlags;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  /** --security-opt values, as typed. */
  securityOpt: string[];
  /** --read-only: the root filesystem is mounted read-only. */
  readOnly: boolean;
  /** --userns host|remap, --uidmap, --gidmap, as typed. */
  userns?: string;
  uidmap: string[];
  gidmap: string[];
  /** --network: bridge (default), none, host, container:NAME or a network's name. */
  network?: string;
  /** -p values, as typed. */
  publish: string[];
  /** -P: publish every exposed port to a free host port. */
  publishAll: boolean;
  /** --expose values, as typed. */
  expose: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  /** --add-host values, as typed. */
  addHost: string[];
  command: string[];
}

export function defaultRunOptions(): RunOptions {
  return {
    env: [],
    envFiles: [],
    volumes: [],
    tmpfs: [],
    rm: false,
    interactive: false,
    tty: false,
    noPivot: false,
    detach: false,
    resources: {},
    capAdd: [],
    capDrop: [],
    privileged: false,
    securityOpt: [],
    readOnly: false,
    uidmap: [],
    gidmap: [],
    init: false,
    publish: [],
    publishAll: false,
    expose: [],
    dns: [],
    dnsSearch: [],
    dnsOption: [],
    addHost: [],
    command: [],
  };
}
