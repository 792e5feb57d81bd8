/** The child's steps as text, strace-style, for `husk run --dry-run`. */
import { type Arg, Named, Stack, Struct } from "../../ffi/spawn.ts";
import { ERRNO } from "./linux.ts";
import type { ChildPlan, Step } from "./plan.ts";
import { CLONE } from "./linux.ts";

const ERRNO_NAMES = new Map(Object.entries(ERRNO).map(([name, n]) => [n as number, name]));

export function formatArg(arg: Arg): string {
  if (arg === null) return "NULL";
  if (typeof arg === "number" || typeof arg === "bigint") return String(arg);
  if (typeof arg === "string") return JSON.stringify(arg);
  if (arg instanceof Named) return arg.name;
  if (arg instanceof Struct) return `&${arg.name}`;
  if (arg instanceof Uint8Array) return `<${arg.length} bytes>`;
  if (arg instanceof Stack) return "<new stack>";
  return `[${arg.map((s) => JSON.stringify(s)).join(", ")}]`;
}

export function formatStep(step: Step): string {
  const args = step.args.map(formatArg);
  if (step.useSaved) args[0] = "$saved";
  if (step.storeSaved) args[1] = "&$saved";
  if (step.loadArg0) args[0] = `*${args[0]}`;
  const call = `${step.save ? "$saved = " : ""}${step.call}(${args.join(", ")})`;
  const ok = step.okErrno && step.parentContinuesAt === undefined
    ? ` (${ERRNO_NAMES.get(step.okErrno) ?? step.okErrno} is fine)`
    : "";
  const positive = step.positive ? " (0 is a failure)" : "";
  const fork = step.parentContinuesAt === undefined
    ? ""
    : ` (the caller goes on at ${step.parentContinuesAt})`;
  return `${call}${ok}${positive}${fork}  # ${step.what}`;
}

export function formatCloneFlags(flags: bigint): string {
  const names = Object.entries(CLONE).filter(([, bit]) => (flags & BigInt(bit)) !== 0n).map(([n]) =>
    `CLONE_${n}`
  );
  return [...names, "SIGCHLD"].join("|");
}

export function formatPlan(plan: ChildPlan): string {
  const width = String(plan.steps.length).length;
  return [
    `clone(${formatCloneFlags(plan.cloneFlags)})`,
    ...plan.steps.map((s, i) => `${String(i).padStart(width)}  ${formatStep(s)}`),
  ].join("\n");
}
