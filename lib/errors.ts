/**
 * The runtime's typed errors. Each carries the exit code Docker would use; only the CLI turns them into text
 * for a person.
 */

/** Docker's exit codes for failures of the runtime itself and of the container's command. */
export const ExitCode = {
  /** A command other than run failed (no such container, wrong state). */
  Failure: 1,
  /** The runtime failed (bad flag, bad config, a system call the runtime made). */
  Runtime: 125,
  /** The command exists but cannot be executed. */
  CannotExecute: 126,
  /** The command was not found. */
  NotFound: 127,
} as const;

export class HuskError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.Runtime, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid user input: flags, values, paths. Raised before anything is created. */
export class InvalidInputError extends HuskError {}

/** The container's process could not be started: names the failing step and errno. */
export class StartError extends HuskError {
  constructor(
    message: string,
    readonly step: string,
    readonly errno: number,
    exitCode: number = ExitCode.Runtime,
  ) {
    super(message, exitCode);
  }
}

/**
 * A container named by the user does not exist, is in the wrong state for the command, or a name is taken.
 * Docker's commands other than run exit 1 for these.
 */
export class StateError extends HuskError {
  constructor(message: string, exitCode: number = ExitCode.Failure) {
    super(message, exitCode);
  }
}

/** Setting up or tearing down a container's network failed (a tool's error, a subnet clash, a taken port). */
export class NetworkError extends HuskError {}
