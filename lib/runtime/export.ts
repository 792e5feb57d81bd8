/** A container's filesystem as a tar stream, whether it runs, stopped, from an image or a directory. */
import { detachMount } from "../../ffi/mount.ts";
import { mountOverlay } from "../image/overlay.ts";
import { packDirectory } from "../image/pack.ts";
import { containerDir, type StatePaths } from "../state/paths.ts";
import type { ContainerRecord } from "../state/store.ts";
import { isRunning } from "../state/liveness.ts";

export function containerFilesystem(
  paths: StatePaths,
  record: ContainerRecord,
): { stream: ReadableStream<Uint8Array>; release(): void } {
  const { config } = record;
  if (isRunning(record)) {
    // Its overlay lives in its own mount namespace: reach it through the process, leaving out the kernel's
    // file systems mounted there.
    return {
      stream: packDirectory(`/proc/${record.state.pid}/root`, ["proc", "sys", "dev"]),
      release: () => {},
    };
  }
  if (!config.image) return { stream: packDirectory(config.root.path), release: () => {} };
  const dirs = mountOverlay(containerDir(paths, config.id), config.image.layers);
  return { stream: packDirectory(dirs.target), release: () => detachMount(dirs.target) };
}
