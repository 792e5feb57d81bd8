/**
 * Test support: a build context that reads nothing from the host (no environment, no env files, no seccomp
 * profile, two CPUs, no init binary, every capability), and a config built with it, as planning tests need.
 */
import { StateError } from "../errors.ts";
import { CAPABILITIES } from "../security/capabilities.ts";
import { buildConfig, type BuildContext } from "./build.ts";
import { defaultRunOptions, type RunOptions } from "./options.ts";
import type { ContainerConfig } from "./types.ts";

export const TEST_ID = "0123456789abcdef".repeat(4);

/** A host-independent build context; a test overrides what it looks at (name, time, ...). */
export function testContext(overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    id: TEST_ID,
    name: "test",
    rootfs: "/images/alpine",
    hostEnv: () => undefined,
    readEnvFile: (path) => {
      throw new Error(`unexpected env file ${path}`);
    },
    etcDir: "/state/containers/test",
    initBinary: null,
    host: { cpus: [0, 1] },
    readSeccompProfile: (path) => {
      throw new Error(`unexpected seccomp profile ${path}`);
    },
    hostCapabilities: Object.keys(CAPABILITIES),
    subordinateIds: () => ({ subuid: "", subgid: "" }),
    // One other container exists, "web" (ID "c0ffee" followed by zeros).
    resolveContainer: (ref: string) => {
      if (ref === "web" || "c0ffee".startsWith(ref) || ref.startsWith("c0ffee")) {
        return "c0ffee".padEnd(64, "0");
      }
      throw new StateError(`no such container: ${ref}`);
    },
    now: new Date(0),
    ...overrides,
  };
}

export function testConfig(
  rootfs: string,
  etcDir: string,
  options: Partial<RunOptions> = {},
): ContainerConfig {
  return buildConfig({ ...defaultRunOptions(), ...options }, testContext({ rootfs, etcDir }));
}
