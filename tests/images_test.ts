/** Images: the store, overlays per container, the image config at run, rmi/tag/prune, import. */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { containers, husk, PROJECT, ROOTFS, withRoot } from "./helpers.ts";

/** rootfs/default as a tarball (GNU tar), imported as `name` with a Cmd. */
export async function importRootfs(root: string, name: string): Promise<string> {
  const tarball = `${root}/rootfs.tar`;
  const tar = await new Deno.Command("tar", { args: ["-C", ROOTFS, "--numeric-owner", "-cf", tarball, "."] })
    .output();
  ok(tar.success, "tar of the rootfs");
  const r = await husk(root, ["import", "-c", 'CMD ["/bin/sh"]', tarball, name]);
  equal(r.code, 0, r.stderr);
  await Deno.remove(tarball);
  return r.stdout.trim();
}

Deno.test("images: run from an imported image; each container writes to its own upper layer", () =>
  withRoot(async (root) => {
    const id = await importRootfs(root, "bb:1");
    match(id, /^sha256:[0-9a-f]{64}$/);
    const list = await husk(root, ["images"]);
    match(
      list.stdout,
      /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbb\s+1\s+[0-9a-f]{12}\s+.* ago\s+2\.\d+MB\n$/,
    );
    const one = await husk(root, [
      "run",
      "--name",
      "one",
      "bb:1",
      "sh",
      "-c",
      "echo mine > /etc/motd; cat /etc/motd",
    ]);
    equal(one.stdout, "mine\n", one.stderr);
    const two = await husk(root, [
      "run",
      "--rm",
      "bb:1",
      "sh",
      "-c",
      "cat /etc/motd 2>&1; rm /bin/ls; ls /bin/ls",
    ]);
    match(two.stdout, /No such file/, "the first container's file is not in the second");
    equal(two.code, 1, "ls was removed in the second container");
    const three = await husk(root, ["run", "--rm", "bb:1", "ls", "/bin/ls"]);
    equal(three.stdout, "/bin/ls\n", "the image itself is unchanged");
    // The stopped container keeps its writes until it is removed.
    equal(await Deno.readTextFile(`${root}/containers/${containers(root)[0]}/upper/etc/motd`), "mine\n");
    equal((await husk(root, ["rm", "one"])).code, 0);
    equal((await husk(root, ["rmi", "bb:1"])).code, 0);
    deepEqual([...Deno.readDirSync(`${root}/images/layers`)], [], "the layer went with the image");
  }));

Deno.test("images: the image config applies at run; --entrypoint and flags override it", () =>
  withRoot(async (root) => {
    const tarball = `${root}/rootfs.tar`;
    await new Deno.Command("tar", { args: ["-C", ROOTFS, "--numeric-owner", "-cf", tarball, "."] }).output();
    const changes = [
      'ENTRYPOINT ["/bin/sh", "-c", "echo $0 $@ $GREETING; pwd; id -un"]',
      'CMD ["from-cmd"]',
      "ENV GREETING=hello",
      "WORKDIR /tmp",
      "USER nobody",
      "EXPOSE 80 53/udp",
    ].flatMap((c) => ["-c", c]);
    equal((await husk(root, ["import", ...changes, tarball, "conf"])).code, 0);
    const r = await husk(root, ["run", "--name", "conf1", "conf"]);
    equal(r.stdout, "from-cmd hello\n/tmp\nnobody\n", r.stderr);
    const [image] = JSON.parse((await husk(root, ["image", "inspect", "conf"])).stdout);
    deepEqual([image.RepoTags, image.Config.User, image.Config.Cmd, image.Os], [
      ["conf:latest"],
      "nobody",
      ["from-cmd"],
      "linux",
    ]);
    const [inspected] = JSON.parse((await husk(root, ["inspect", "conf1"])).stdout);
    equal(inspected.Image, image.Id);
    match(inspected.Image, /^sha256:[0-9a-f]{64}$/);
    equal(inspected.Config.Image, "conf");
    deepEqual(inspected.Config.ExposedPorts, { "53/udp": {}, "80/tcp": {} });
    equal((await husk(root, ["rm", "conf1"])).code, 0);
    const published = await husk(root, [
      "run",
      "-d",
      "--name",
      "pub",
      "-P",
      "--entrypoint",
      "sleep",
      "conf",
      "30",
    ]);
    equal(published.code, 0, published.stderr);
    match(
      (await husk(root, ["port", "pub"])).stdout,
      /^80\/tcp -> 0\.0\.0\.0:\d+$/m,
      "-P publishes the image's EXPOSE",
    );
    equal((await husk(root, ["rm", "-f", "pub"])).code, 0);
    const mine = await husk(root, ["run", "--rm", "-u", "0", "-w", "/", "-e", "GREETING=hi", "conf", "arg"]);
    equal(mine.stdout, "arg hi\n/\nroot\n", "flags override the image; the command replaces Cmd");
    const entry = await husk(root, [
      "run",
      "--rm",
      "--entrypoint",
      "/bin/echo",
      "conf",
      "from",
      "entrypoint",
    ]);
    equal(entry.stdout, "from entrypoint\n");
    const none = await husk(root, ["run", "--rm", "--entrypoint", "", "conf"]);
    equal(none.code, 125);
    match(none.stderr, /no command specified/);
    await importRootfs(root, "bb");
    const cmd = await husk(root, ["run", "--rm", "-i", "bb"], { stdin: "echo default cmd\n" });
    equal(cmd.stdout, "default cmd\n", "the image's Cmd (/bin/sh) runs");
    const ps = await husk(root, ["run", "-d", "--name", "bg", "bb", "sleep", "30"]);
    equal(ps.code, 0, ps.stderr);
    match((await husk(root, ["ps"])).stdout, /\bbb\s+"sleep 30"/);
    const refused = await husk(root, ["rmi", "bb"]);
    equal(refused.code, 1);
    match(
      refused.stderr,
      /Error response from daemon: conflict: unable to remove repository reference "bb" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/,
    );
    equal((await husk(root, ["rm", "-f", "bg"])).code, 0);
  }));

Deno.test("images: tag, rmi of one name, prune, unknown images", () =>
  withRoot(async (root) => {
    const id = await importRootfs(root, "bb:1");
    equal((await husk(root, ["tag", "bb:1", "other/name:2"])).code, 0);
    const list = await husk(root, ["images", "-q"]);
    equal(list.stdout, `${id.slice(7, 19)}\n`);
    equal((await husk(root, ["rmi", "bb:1"])).stdout, "Untagged: bb:1\n");
    equal((await husk(root, ["run", "--rm", "other/name:2", "true"])).code, 0);
    const unknown = await husk(root, ["run", "--rm", "nope:1", "true"]);
    equal(unknown.code, 125);
    match(unknown.stderr, /Unable to find image .nope:1. locally/);
    const word = await husk(root, ["run", "--rm", "alpine", "sh"]);
    equal(word.code, 127, "a plain word is a command of rootfs/default, as before images");
    equal(word.stderr, 'husk: exec: "alpine": executable file not found in $PATH\n');
    const missing = await husk(root, ["rmi", "nope"]);
    match(missing.stderr, /Error response from daemon: No such image: nope:latest/);
    equal((await husk(root, ["image", "prune"])).stdout, "Total reclaimed space: 0B\n");
    const all = await husk(root, ["image", "prune", "-a"]);
    match(
      all.stdout,
      /^Deleted Images:\nUntagged: other\/name:2\nDeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 2\.\d+MB\n$/,
    );
    deepEqual([...Deno.readDirSync(`${root}/images/blobs/sha256`)], []);
  }));

Deno.test("images: a layer entry escaping its directory is refused and nothing is kept", () =>
  withRoot(async (root) => {
    const dir = await Deno.makeTempDir({ dir: root });
    await Deno.writeTextFile(`${dir}/evil`, "x");
    const tarball = `${root}/evil.tar`;
    const tar = await new Deno.Command("tar", {
      args: ["-C", dir, "-cf", tarball, "--transform", "s,^evil,../../evil,", "evil"],
    }).output();
    ok(tar.success);
    const r = await husk(root, ["import", tarball, "evil"]);
    equal(r.code, 125);
    match(r.stderr, /refusing layer entry "..\/..\/evil": it escapes the layer/);
    deepEqual([...Deno.readDirSync(`${root}/images/tmp`)], [], "no staging left");
    equal((await husk(root, ["images", "-q"])).stdout, "");
    ok(!PROJECT.includes("evil"));
  }));

Deno.test("images: in a user namespace, the layers are chowned copies and writes stay the container's", () =>
  withRoot(async (root) => {
    await importRootfs(root, "bb");
    const r = await husk(root, [
      "run",
      "--name",
      "mapped",
      "--userns",
      "remap",
      "bb",
      "sh",
      "-c",
      "echo x > /mine",
    ]);
    equal(r.code, 0, r.stderr);
    const upper = `${root}/containers/${containers(root)[0]}/upper`;
    equal((await Deno.stat(`${upper}/mine`)).uid, 100000, "the container's root is 100000 on the host");
    equal((await husk(root, ["run", "--rm", "bb", "ls", "/mine"])).code, 1, "the image is unchanged");
    equal((await husk(root, ["rm", "mapped"])).code, 0);
    equal((await husk(root, ["rmi", "bb"])).code, 0);
    deepEqual([...Deno.readDirSync(`${root}/images/userns`)], [], "the chowned layers went with the image");
  }));
