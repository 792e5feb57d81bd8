/** Where a detached container's monitor comes from, and what it runs when the container has exited. */
import { installMonitor, MONITOR_NAME } from "../../ffi/elf.ts";
import type { StatePaths } from "../state/paths.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Where the monitor executable lives: under the state root (not /run, which is often mounted noexec). */
export function monitorPath(paths: StatePaths): string {
  return `${paths.root}/bin/${MONITOR_NAME}`;
}

/** Writes the monitor executable if it is missing or stale; returns its path. */
export function installedMonitor(paths: StatePaths): string {
  return installMonitor(`${paths.root}/bin`);
}

/** `husk cleanup ID`: run by the monitor once the container has exited (as podman's conmon runs its exit command). */
export function exitCommand(paths: StatePaths, id: string): string[] {
  return [Deno.execPath(), "run", "-A", "-q", MAIN, "--root", paths.root, "cleanup", id];
}

/** The environment of the monitor and its exit command: enough for Deno to find its cache. */
export function monitorEnv(): string[] {
  return ["PATH", "HOME", "DENO_DIR"].flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [`${name}=${value}`];
  });
}
