import { CAPABILITIES } from "../security/capabilities.ts";
/**
 * Test support: a container config built from run options with a fixed, host-independent context (no
 * environment, no env files, two CPUs, no init binary), as the planning tests need it.
 */
import { buildConfig } from "./build.ts";
import { defaultRunOptions, type RunOptions } from "./options.ts";
import type { ContainerConfig } from "./types.ts";

export const TEST_ID = "0123456789abcdef".repeat(4);

export function testConfig(
  rootfs: string,
  etcDir: string,
  options: Partial<RunOptions> = {},
): ContainerConfig {
  return buildConfig({ ...defaultRunOptions(), ...options }, {
    id: TEST_ID,
    name: "test",
    rootfs,
    hostEnv: () => undefined,
    readEnvFile: () => "",
    etcDir,
    initBinary: null,
    host: { cpus: [0, 1] },
    readSeccompProfile: (path) => {
      throw new Error(`unexpected seccomp profile ${path}`);
    },
    hostCapabilities: Object.keys(CAPABILITIES),
    subordinateIds: () => ({ subuid: "", subgid: "" }),
    now: new Date(0),
  });
}
