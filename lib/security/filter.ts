/** The seccomp program a container gets: husk's default profile, none, or a Docker-format profile. */
import type { ContainerConfig } from "../config/types.ts";
import { compileProfile, DEFAULT_PROFILE, parseProfile } from "./seccomp.ts";

/** The classic BPF program for the container, or null when it runs unconfined. */
export function seccompProgram(config: ContainerConfig): Uint8Array | null {
  const choice = config.security.seccomp;
  if (choice.kind === "unconfined") return null;
  const profile = choice.kind === "default" ? DEFAULT_PROFILE : parseProfile(choice.text, choice.path);
  return compileProfile(profile, {
    capabilities: new Set(config.security.capabilities),
    source: choice.kind === "profile" ? choice.path : "the default profile",
  });
}
