/**
 * User namespaces: root in the container is an unprivileged id on the host, the root filesystem appears owned
 * by the container's root (an id-mapped mount), volumes work, exec joins the namespace.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { cgroupsHolding, containerCgroups, husk, ROOTFS, withRoot } from "./helpers.ts";

async function hostUid(root: string, name: string): Promise<string> {
  const [info] = JSON.parse((await husk(root, ["inspect", name])).stdout);
  return Deno.readTextFileSync(`/proc/${info.State.Pid}/status`).match(/^Uid:\s+(\d+)/m)![1];
}

Deno.test("--userns=remap: root inside is uid 100000 outside; the rootfs is root's inside; volumes and exec work", () =>
  withRoot(async (root) => {
    const volume = await Deno.makeTempDir();
    try {
      await Deno.chmod(volume, 0o777);
      const run = await husk(root, [
        "run",
        "-d",
        "--name",
        "mapped",
        "--userns",
        "remap",
        "-v",
        `${volume}:/data`,
        "-v",
        `${volume}:/ro:ro`,
        "sh",
        "-c",
        "touch /data/made-inside; sleep 30",
      ]);
      equal(run.code, 0, run.stderr);
      equal(await hostUid(root, "mapped"), "100000");
      // Its process moved itself into its cgroup from inside the user namespace, in every hierarchy.
      const [info] = JSON.parse((await husk(root, ["inspect", "mapped"])).stdout);
      const hierarchies = containerCgroups(root);
      ok(hierarchies.length >= 5, `container cgroups: ${hierarchies}`);
      deepEqual(cgroupsHolding(root, info.State.Pid), hierarchies);
      const inside = await husk(root, [
        "exec",
        "mapped",
        "sh",
        "-c",
        [
          "id -u",
          "cat /proc/self/uid_map | tr -s ' '",
          "stat -c %u /bin/busybox",
          "touch /ro/nope 2>/dev/null || echo ro-refused",
        ].join("; "),
      ]);
      equal(inside.code, 0, inside.stderr);
      equal(inside.stdout, "0\n 0 100000 65536\n0\nro-refused\n");
      equal(
        Deno.statSync(`${volume}/made-inside`).uid,
        100000,
        "a file made inside is owned by the mapped id",
      );
      equal((await husk(root, ["rm", "-f", "mapped"])).code, 0);
    } finally {
      await Deno.remove(volume, { recursive: true });
    }
  }));

Deno.test("--uidmap: an explicit mapping", () =>
  withRoot(async (root) => {
    const r = await husk(root, [
      "run",
      "--rm",
      "--uidmap",
      "0:200000:1000",
      "sh",
      "-c",
      "id -u; cat /proc/self/gid_map",
    ]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /^0\n\s+0\s+200000\s+1000\n$/);
  }));

Deno.test("bad user namespace flags: one clear error, nothing created", () =>
  withRoot(async (root) => {
    const cases: [string[], RegExp][] = [
      [["--userns", "private"], /^husk: invalid --userns "private"/],
      [["--uidmap", "0:100000"], /^husk: invalid --uidmap "0:100000"/],
      [["--uidmap", "0:100000:100", "--uidmap", "50:300000:100"], /container ranges of two mappings overlap/],
      [["--uidmap", "1:100000:100"], /the container's root \(id 0\) must be mapped/],
      [["--userns", "host", "--uidmap", "0:1:1"], /need a user namespace/],
    ];
    for (const [flags, message] of cases) {
      const r = await husk(root, ["run", "--rm", ...flags, "true"]);
      equal(r.code, 125, r.stderr);
      match(r.stderr, message);
    }
  }));

Deno.test("a root filesystem that cannot be id-mapped (ramfs) is used through a chowned private copy", () =>
  withRoot(async (root) => {
    const ramfs = await Deno.makeTempDir({ prefix: "husk-ramfs-" });
    const sh = (script: string) => new Deno.Command("sh", { args: ["-c", script] }).outputSync();
    try {
      equal(sh(`mount -t ramfs ramfs '${ramfs}' && cp -a '${ROOTFS}/.' '${ramfs}/'`).code, 0);
      const r = await husk(root, [
        "run",
        "--rm",
        "--userns",
        "remap",
        "--rootfs",
        ramfs,
        "sh",
        "-c",
        "stat -c %u /bin/busybox; id -u",
      ]);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, "0\n0\n", "the copy is owned by the container's root");
      const copies = [...Deno.readDirSync(`${root}/userns-rootfs`)];
      equal(copies.length, 1);
      equal(Deno.statSync(`${root}/userns-rootfs/${copies[0].name}/bin/busybox`).uid, 100000);
      equal(Deno.statSync(`${ramfs}/bin/busybox`).uid, 0, "the original is untouched");
    } finally {
      sh(`umount -l '${ramfs}'`);
      await Deno.remove(ramfs, { recursive: true });
    }
  }));
