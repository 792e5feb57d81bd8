/**
 * What one tar entry of a layer does to the layer's directory: the OCI image spec's whiteouts become
 * overlayfs's (a `.wh.NAME` file is a 0/0 character device NAME; `.wh..wh..opq` marks its directory opaque),
 * and any entry that would land outside the layer directory is refused. Pure.
 */
import { HuskError } from "../errors.ts";

/** A layer that cannot be extracted safely or correctly: names the entry. */
export class LayerError extends HuskError {}

export type EntryPlan =
  /** The layer's root itself ("./"): nothing to create. */
  | { kind: "root" }
  /** Hide everything lower layers hold in `dir`. */
  | { kind: "opaque"; dir: string }
  /** Hide `path` of lower layers. */
  | { kind: "whiteout"; path: string }
  /** Create `path`; a hard link's `target` is a path inside the layer too. */
  | { kind: "create"; path: string; target?: string };

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * `name` as a path relative to the layer directory ("a/b"), or null for the root. Leading "/" and "./" are
 * tolerated as tar does (they are relative to the archive), but a ".." component is refused: it escapes.
 */
export function entryPath(name: string): string | null {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new LayerError(`refusing layer entry "${name}": it escapes the layer (..)`);
  if (parts.some((p) => p.includes("\0"))) throw new LayerError(`refusing layer entry "${name}": NUL byte`);
  return parts.length === 0 ? null : parts.join("/");
}

/**
 * The plan for an entry. Symbolic links may point anywhere (an absolute target is resolved inside the
 * container, and extraction never follows a link: see layer.ts); a hard link must name an entry of this
 * layer by a relative path, or it could reach a host file.
 */
export function planEntry(name: string, type: string, linkname?: string): EntryPlan {
  const path = entryPath(name);
  if (path === null) return { kind: "root" };
  const slash = path.lastIndexOf("/");
  const dir = slash === -1 ? "" : path.slice(0, slash);
  const base = path.slice(slash + 1);
  if (base === OPAQUE) return { kind: "opaque", dir };
  if (base.startsWith(WHITEOUT)) {
    const hidden = base.slice(WHITEOUT.length);
    if (hidden === "" || hidden === "." || hidden === "..") {
      throw new LayerError(`refusing layer entry "${name}": a whiteout of nothing`);
    }
    return { kind: "whiteout", path: dir === "" ? hidden : `${dir}/${hidden}` };
  }
  if (type !== "link") return { kind: "create", path };
  if (linkname === undefined || linkname.startsWith("/")) {
    throw new LayerError(
      `refusing hard link "${name}" -> "${linkname}": the target must be inside the layer`,
    );
  }
  const target = entryPath(linkname);
  if (target === null) throw new LayerError(`refusing hard link "${name}" to the layer's root`);
  return { kind: "create", path, target };
}

/** Parent directories of `path`, outermost first: "a/b/c" -> ["a", "a/b"]. */
export function parents(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

/** The inverse for `husk save`/layer creation: an overlayfs whiteout of `path` as a tar entry name. */
export function whiteoutName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1
    ? `${WHITEOUT}${path}`
    : `${path.slice(0, slash + 1)}${WHITEOUT}${path.slice(slash + 1)}`;
}
