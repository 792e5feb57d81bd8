/** One step of a child's plan: a raw system call with what it does in words (for errors and the dry run). */
import { Named, type RawStep } from "../../ffi/spawn.ts";

export interface Step extends RawStep {
  what: string;
  /** Set on execve steps: the command as the user wrote it, and whether it was looked up along $PATH. */
  exec?: { command: string; searched: boolean };
}

/** A constant the dry run prints by its name (CLONE_NEWNET, SIOCSIFADDR, ...). */
export function named(value: number, name: string): Named {
  return new Named(value, name);
}
