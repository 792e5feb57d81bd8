/** The seccomp program a container gets: husk's default profile, none, or a Docker-format profile. */
import type { ContainerConfig } from "../config/types.ts";
import { compileProfile, DEFAULT_PROFILE, parseProfile } from "./seccomp.ts";

/** The classic BPF program for the container, or null when it runs unconfined. */
export function seccompProgram(config: ContainerConfig): Uint8Array | null {
  const choice = config.security.seccomp;
  if (choice.kind === "unconfined") return null;
  if (choice.kind === "profile") {
    return compileProfile(parseProfile(choice.text, choice.path), {
      capabilities: new Set(config.security.capabilities),
      source: choice.path,
    });
  }
  // The default profile depends only on the capabilities: compiled once per set (a library starts many).
  const key = config.security.capabilities.join(",");
  let program = compiledDefaults.get(key);
  if (!program) {
    program = compileProfile(DEFAULT_PROFILE, {
      capabilities: new Set(config.security.capabilities),
      source: "the default profile",
    });
    compiledDefaults.set(key, program);
  }
  return program;
}

const compiledDefaults = new Map<string, Uint8Array>();
