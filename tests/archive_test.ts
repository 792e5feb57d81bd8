/** load (both archive forms), save, export: archives written by skopeo and by husk itself. */
import { equal, match } from "node:assert/strict";
import { husk, withRoot } from "./helpers.ts";
import { skopeoCopy } from "../tasks/registry.ts";
import { buildImage } from "./image_fixtures.ts";

Deno.test("load: docker save archives in the manifest.json form and the OCI form; save; export", () =>
  withRoot(async (root) => {
    const { layout, amd64 } = await buildImage(root, { zstd: false });
    layout.tag("v1", amd64);
    await skopeoCopy(layout.dir, "v1", `docker-archive:${root}/legacy.tar:legacy/img:1`);
    await skopeoCopy(layout.dir, "v1", `oci-archive:${root}/oci.tar:oci/img:2`);

    const legacy = await husk(root, ["load", "-i", `${root}/legacy.tar`]);
    equal(legacy.stdout, "Loaded image: legacy/img:1\n", legacy.stderr);
    const oci = await husk(root, ["load", "-i", `${root}/oci.tar`]);
    equal(oci.code, 0, oci.stderr);
    match(oci.stdout, /^Loaded image/);
    const run = await husk(root, ["run", "--rm", "legacy/img:1", "sh", "-c", "cat /data/new; ls /etc/gone"]);
    equal(run.stdout, "new\n");
    equal(run.code, 1, "the whiteout hides /etc/gone");

    // husk's own archive loads into a fresh store.
    const saved = await husk(root, ["save", "-o", `${root}/saved.tar`, "legacy/img:1"]);
    equal(saved.code, 0, saved.stderr);
    await withRoot(async (other) => {
      const again = await husk(other, ["load", "-i", `${root}/saved.tar`]);
      equal(again.stdout, "Loaded image: legacy/img:1\n", again.stderr);
      equal((await husk(other, ["run", "--rm", "legacy/img:1"])).stdout, "new\n");
      equal((await husk(other, ["rmi", "legacy/img:1"])).code, 0);
    });

    // export: a stopped container's filesystem, its own writes included.
    equal(
      (await husk(root, ["run", "--name", "writer", "legacy/img:1", "sh", "-c", "echo mine > /data/mine"]))
        .code,
      0,
    );
    equal((await husk(root, ["export", "-o", `${root}/fs.tar`, "writer"])).code, 0);
    const list = await new Deno.Command("tar", { args: ["-tf", `${root}/fs.tar`] }).output();
    match(new TextDecoder().decode(list.stdout), /^data\/mine$/m);
    equal((await husk(root, ["rm", "writer"])).code, 0);

    const bad = await husk(root, ["load", "-i", `${root}/fs.tar`]);
    equal(bad.code, 125);
    match(bad.stderr, /the archive holds no image/);
    // A digest that would name a path outside the store is refused.
    const evil = `${root}/evil-layout`;
    await Deno.mkdir(evil);
    await Deno.writeTextFile(`${evil}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
    await Deno.writeTextFile(
      `${evil}/index.json`,
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: "x", digest: "sha256:../../../../etc/passwd", size: 1 }],
      }),
    );
    await new Deno.Command("tar", { args: ["-C", evil, "-cf", `${root}/evil.tar`, "."] }).output();
    const refused = await husk(root, ["load", "-i", `${root}/evil.tar`]);
    equal(refused.code, 125);
    match(
      refused.stderr,
      /invalid blob digest "sha256:..\/..\/..\/..\/etc\/passwd": husk takes sha256 digests only/,
    );
  }));
