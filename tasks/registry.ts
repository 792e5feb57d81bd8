/**
 * A registry to pull from, for the tests and the benchmark: Debian's docker-registry on 127.0.0.1 (a free
 * port), and OCI layouts built on the spot (layers tarred with GNU tar) that skopeo pushes into it.
 */
import { ok } from "node:assert/strict";
import { sha256 } from "../lib/image/digest.ts";
import { gzipSync, zstdCompressSync } from "node:zlib";

export interface Registry {
  address: string;
  storage: string;
  stop(): Promise<void>;
}

export interface Where {
  /** A network namespace (`ip netns` name) to serve and push in: its own 127.0.0.1. */
  netns?: string;
  /** Only this user may push and pull (Basic auth from an htpasswd file). */
  login?: Login;
}

/** argv run in `netns` when one is given (nsenter execs: the pid is the command's own). */
const inNetns = (netns: string | undefined, argv: string[]) =>
  netns === undefined ? argv : ["nsenter", `--net=/run/netns/${netns}`, ...argv];

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether process `pid` has a TCP socket listening on `port` (in whatever network namespace it is). */
function listens(pid: number, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  try {
    return Deno.readTextFileSync(`/proc/${pid}/net/tcp`).split("\n")
      .some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex) && line.trim().split(/\s+/)[3] === "0A");
  } catch {
    return false;
  }
}

export interface Login {
  username: string;
  password: string;
}

/** A bcrypt hash for an htpasswd file, by the system's libcrypt (libxcrypt knows "$2b$"). */
function bcrypt(password: string): string {
  const lib = Deno.dlopen("libcrypt.so.1", {
    crypt: { parameters: ["buffer", "buffer"], result: "pointer" },
  });
  try {
    const text = (s: string) => new TextEncoder().encode(s + "\0");
    const salt = Array.from(
      crypto.getRandomValues(new Uint8Array(22)),
      (b) => "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[b % 64],
    ).join("");
    const hash = lib.symbols.crypt(text(password), text(`$2b$05$${salt}`));
    return Deno.UnsafePointerView.getCString(hash!);
  } finally {
    lib.close();
  }
}

/**
 * Starts a registry serving `dir`/storage on 127.0.0.1 only: the host's (a free port), or a network
 * namespace's (port 5000, which nothing else there uses).
 */
export async function startRegistry(dir: string, where: Where = {}): Promise<Registry> {
  const port = where.netns === undefined ? freePort() : 5000;
  const storage = `${dir}/registry`;
  let auth = "";
  if (where.login) {
    await Deno.writeTextFile(`${dir}/htpasswd`, `${where.login.username}:${bcrypt(where.login.password)}\n`);
    auth = `auth:\n  htpasswd:\n    realm: husk-test\n    path: ${dir}/htpasswd\n`;
  }
  await Deno.writeTextFile(
    `${dir}/registry.yml`,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n` +
      `http:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const [command, ...args] = inNetns(where.netns, ["docker-registry", "serve", `${dir}/registry.yml`]);
  const child = new Deno.Command(command, { args, stdout: "null", stderr: "null" }).spawn();
  for (let i = 0; !listens(child.pid, port); i++) {
    if (i > 200) throw new Error("the registry did not start");
    await new Promise((r) => setTimeout(r, 25));
  }
  const address = `127.0.0.1:${port}`;
  return {
    address,
    storage,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** An OCI layout under construction. */
export class Layout {
  constructor(readonly dir: string) {
    Deno.mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  }

  blob(data: Uint8Array | string): { digest: string; size: number } {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const digest = sha256(bytes);
    Deno.writeFileSync(`${this.dir}/blobs/sha256/${digest.slice(7)}`, bytes);
    return { digest, size: bytes.length };
  }

  /** A layer from a directory: tarred by GNU tar, compressed as asked; returns its descriptor and diff_id. */
  async layer(source: string, compression: "none" | "gzip" | "zstd") {
    const plain = await new Deno.Command("tar", {
      args: ["-C", source, "--numeric-owner", "-cf", "-", "."],
      stdout: "piped",
    }).output();
    ok(plain.success);
    const data = compression === "gzip"
      ? gzipSync(plain.stdout)
      : compression === "zstd"
      ? zstdCompressSync(plain.stdout)
      : plain.stdout;
    const mediaType = `application/vnd.oci.image.layer.v1.tar${
      compression === "none" ? "" : `+${compression}`
    }`;
    return { desc: { mediaType, ...this.blob(new Uint8Array(data)) }, diffId: sha256(plain.stdout) };
  }

  /** A manifest for `architecture` with these layers and run config; returns its descriptor. */
  image(architecture: string, layers: { desc: object; diffId: string }[], config: object) {
    const configBlob = this.blob(JSON.stringify({
      architecture,
      os: "linux",
      created: "2026-01-02T03:04:05Z",
      config,
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }));
    const manifest = this.blob(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
      layers: layers.map((l) => l.desc),
    }));
    return {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      ...manifest,
      platform: { architecture, os: "linux" },
    };
  }

  /** An index of several platforms' manifests, as a blob. */
  index(manifests: object[]) {
    const index = this.blob(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests,
    }));
    return { mediaType: "application/vnd.oci.image.index.v1+json", ...index };
  }

  /** Writes index.json naming `desc` as `tag`. */
  tag(tag: string, desc: object): void {
    Deno.writeTextFileSync(
      `${this.dir}/index.json`,
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ ...desc, annotations: { "org.opencontainers.image.ref.name": tag } }],
      }),
    );
  }
}

/** skopeo copy of the layout's `tag` (all platforms) to `dest` (a docker://, docker-archive:... name). */
export async function skopeoCopy(
  layout: string,
  tag: string,
  dest: string,
  where: Where = {},
): Promise<void> {
  const creds = where.login ? [`--dest-creds=${where.login.username}:${where.login.password}`] : [];
  const [command, ...args] = inNetns(where.netns, [
    "skopeo",
    "copy",
    "--quiet",
    "--all",
    "--dest-tls-verify=false",
    ...creds,
    `oci:${layout}:${tag}`,
    dest,
  ]);
  const r = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  ok(r.success, new TextDecoder().decode(r.stderr));
}
