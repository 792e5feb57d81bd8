/**
 * The cgroup v2 code path on a real kernel: Debian's kernel booted in QEMU (software emulation) with a pure
 * cgroup2 hierarchy that has every controller, running the same limit scenarios as tests/cgroups_test.ts
 * through lib/cgroups (see tasks/cgroup-v2-vm/). About 20 s here; the kernel is cached in ~/.cache/husk/cgroup-v2-vm.
 * Needs qemu-system-x86 and cpio (tasks/install-deps.sh installs them); HUSK_SKIP_VM=1 skips it.
 */
import { ok } from "node:assert/strict";
import { missingTools, runVm } from "../tasks/cgroup-v2-vm/vm.ts";

Deno.test({
  name: "cgroups v2 in a VM: pids, memory OOM, cpu throttling, stats, cleanup on a real cgroup2 kernel",
  ignore: Deno.env.get("HUSK_SKIP_VM") === "1",
  sanitizeResources: false,
  fn: async () => {
    const missing = missingTools();
    ok(missing.length === 0, `cannot boot the cgroup v2 VM, missing: ${missing.join(", ")}`);
    const result = await runVm({ timeoutMs: 300_000 });
    for (const c of result.checks) console.log(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
    console.log(`  build ${result.buildSeconds.toFixed(1)} s, boot + run ${result.runSeconds.toFixed(1)} s`);
    const failed = result.checks.filter((c) => !c.ok);
    if (!result.completed || failed.length > 0 || result.checks.length === 0) {
      console.log(result.console.split("\n").filter((l) => !l.includes("HUSK-CHECK")).slice(-40).join("\n"));
    }
    ok(result.completed, "the guest's driver did not finish (console above)");
    ok(result.checks.length >= 40, `only ${result.checks.length} checks reported`);
    ok(failed.length === 0, `failed: ${failed.map((c) => `${c.name} (${c.detail})`).join("; ")}`);
  },
});
