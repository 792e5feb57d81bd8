/**
 * An image's run config (Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts) under the command line's
 * options, by Docker's rules. Pure.
 */
import { InvalidInputError } from "../errors.ts";
import type { RunConfig } from "../image/oci.ts";

/** A resolved image as the config builder needs it. */
export interface ImageContext {
  /** The image ID ("sha256:..."). */
  id: string;
  /** The name the user gave. */
  name: string;
  /** Extracted layer directories, lowest first. */
  layers: string[];
  config: RunConfig;
}

export interface ImageDefaults {
  command: string[];
  /** The image's variables, before the user's. */
  env: string[];
  workdir?: string;
  user?: string;
  exposedPorts: string[];
}

/**
 * The process to run: ENTRYPOINT followed by the command, where the command is the user's, else the image's
 * Cmd. `--entrypoint` replaces the image's ENTRYPOINT and drops its Cmd ("" clears the entrypoint).
 */
export function imageCommand(
  image: RunConfig,
  command: readonly string[],
  entrypoint: string | undefined,
): string[] {
  const entry = entrypoint !== undefined ? (entrypoint === "" ? [] : [entrypoint]) : image.Entrypoint ?? [];
  const cmd = command.length > 0 ? command : entrypoint !== undefined ? [] : image.Cmd ?? [];
  const args = [...entry, ...cmd];
  if (args.length === 0) {
    throw new InvalidInputError("no command specified: the image has no Cmd or Entrypoint; give a command");
  }
  return args;
}

export function imageDefaults(
  image: RunConfig,
  options: { command: readonly string[]; entrypoint?: string; workdir?: string; user?: string },
): ImageDefaults {
  return {
    command: imageCommand(image, options.command, options.entrypoint),
    env: image.Env ?? [],
    workdir: options.workdir ?? (image.WorkingDir || undefined),
    user: options.user ?? (image.User || undefined),
    exposedPorts: Object.keys(image.ExposedPorts ?? {}).map((p) => p.includes("/") ? p : `${p}/tcp`).sort(),
  };
}
