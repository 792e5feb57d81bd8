/**
 * A container's root filesystem from an image: an overlay of the image's layers (read-only, shared) under
 * the container's own upper and work directories, mounted at <container>/rootfs.
 *
 * The mount lives on the host only while the container starts: once its process runs in its own mount
 * namespace (which holds a private copy of the overlay), the host's is detached. The overlay then goes
 * away with the container's last process, so a crashed husk leaves no mount behind.
 */
import { mount } from "../../ffi/mount.ts";
import type { FsView } from "../rootfs/resolve.ts";

export interface OverlayDirs {
  target: string;
  upper: string;
  work: string;
}

/** The overlay's directories inside a container's state directory. */
export function overlayDirs(containerDir: string): OverlayDirs {
  return { target: `${containerDir}/rootfs`, upper: `${containerDir}/upper`, work: `${containerDir}/work` };
}

/**
 * The mount data: overlayfs takes the uppermost lower layer first. The layers share a directory, named
 * relative to it (the caller's working directory) so that many layers fit in the one page of mount data.
 */
export function overlayData(layerNames: readonly string[], dirs: OverlayDirs): string {
  const data = `lowerdir=${layerNames.toReversed().join(":")},upperdir=${dirs.upper},workdir=${dirs.work}`;
  if (data.length >= 4096) {
    throw new RangeError(`an image of ${layerNames.length} layers is more than an overlay mount can take`);
  }
  return data;
}

/** Mounts the overlay of `layers` (absolute directories in one parent, lowest first) for a container. */
export function mountOverlay(containerDir: string, layers: readonly string[]): OverlayDirs {
  const dirs = overlayDirs(containerDir);
  for (const dir of [dirs.target, dirs.upper, dirs.work]) {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
  }
  const parent = layers[0].slice(0, layers[0].lastIndexOf("/"));
  if (layers.some((l) => !l.startsWith(`${parent}/`))) throw new Error("image layers must share a directory");
  const data = overlayData(layers.map((l) => l.slice(parent.length + 1)), dirs);
  const cwd = Deno.cwd();
  // mount(2) is synchronous: nothing else runs while the working directory is the layers' parent.
  Deno.chdir(parent);
  try {
    mount("overlay", dirs.target, "overlay", 0n, data);
  } finally {
    Deno.chdir(cwd);
  }
  return dirs;
}

/**
 * A view of the overlay an image container will get, before it is mounted (for --dry-run): a path under
 * `target` is looked up in the layers, uppermost first; other paths are `base`'s.
 */
export function layeredFs(target: string, layers: readonly string[], base: FsView): FsView {
  const locate = (path: string): string => {
    if (path !== target && !path.startsWith(`${target}/`)) return path;
    const rel = path.slice(target.length);
    const found = layers.toReversed().find((layer) => base.lstat(layer + rel) !== null);
    return (found ?? layers[layers.length - 1]) + rel;
  };
  return {
    lstat: (path) => base.lstat(locate(path)),
    stat: (path) => base.stat(locate(path)),
    readlink: (path) => base.readlink(locate(path)),
  };
}
