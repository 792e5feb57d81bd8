/** -v/--volume and --tmpfs: Docker's syntax turned into OCI mounts. */
import { InvalidInputError } from "../errors.ts";
import type { Mount } from "./types.ts";

const VOLUME_MODES = new Set(["ro", "rw"]);

/**
 * `-v /host:/container[:ro|rw]` as a recursive bind mount. Named volumes do not exist yet, so the host
 * path must be absolute.
 */
export function parseVolume(spec: string): Mount {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new InvalidInputError(`invalid volume "${spec}": expected /host/path:/container/path[:ro]`);
  }
  const [source, destination, mode = "rw"] = parts;
  if (!source.startsWith("/")) {
    throw new InvalidInputError(
      `invalid volume "${spec}": the host path "${source}" must be absolute (named volumes are not supported)`,
    );
  }
  if (!destination.startsWith("/")) {
    throw new InvalidInputError(
      `invalid volume "${spec}": the container path "${destination}" must be absolute`,
    );
  }
  if (!VOLUME_MODES.has(mode)) {
    throw new InvalidInputError(`invalid volume "${spec}": unknown mode "${mode}" (use ro or rw)`);
  }
  return {
    destination: normalize(destination),
    type: "bind",
    source: normalize(source),
    options: ["rbind", mode],
  };
}

/** `--tmpfs /path[:options]`, with Docker's defaults (noexec, nosuid, nodev, 64 MiB) unless overridden. */
export function parseTmpfs(spec: string): Mount {
  const colon = spec.indexOf(":");
  const destination = colon === -1 ? spec : spec.slice(0, colon);
  const extra = colon === -1 ? [] : spec.slice(colon + 1).split(",").filter((o) => o !== "");
  if (!destination.startsWith("/")) {
    throw new InvalidInputError(`invalid tmpfs "${spec}": the container path must be absolute`);
  }
  const options = ["noexec", "nosuid", "nodev", "size=65536k"];
  for (const o of extra) {
    const key = o.split("=")[0];
    const idx = options.findIndex((x) => x.split("=")[0] === key || (o === "exec" && x === "noexec"));
    if (idx !== -1) options.splice(idx, 1);
    options.push(o);
  }
  return { destination: normalize(destination), type: "tmpfs", source: "tmpfs", options };
}

/** An absolute path without ".", "..", or repeated slashes ("/.." stays at "/"). */
export function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}
