/** Pulls from a real registry (Debian's docker-registry on 127.0.0.1), filled with images built here. */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { husk, PROJECT, readUntil, sandboxOf, spawnHusk, withRoot } from "./helpers.ts";
import { type Registry, skopeoCopy, startRegistry, type Where } from "../tasks/registry.ts";
import { buildImage } from "./image_fixtures.ts";

/** Runs `fn` with a registry started in the root's network sandbox, stopped afterwards. */
async function withRegistry(
  root: string,
  options: { login?: { username: string; password: string } },
  fn: (registry: Registry, where: Where) => Promise<void>,
): Promise<void> {
  const where = { netns: sandboxOf(root), ...options };
  const registry = await startRegistry(root, where);
  try {
    await fn(registry, where);
  } finally {
    await registry.stop();
  }
}

Deno.test("pull: a multi-layer image from an index, run, rmi; a tampered blob is refused", () =>
  withRoot((root) =>
    withRegistry(root, {}, async (registry, where) => {
      const { layout, amd64, arm64 } = await buildImage(root);
      layout.tag("multi", layout.index([arm64, amd64]));
      await skopeoCopy(layout.dir, "multi", `docker://${registry.address}/test/multi:v1`, where);
      layout.tag("armonly", layout.index([arm64]));
      await skopeoCopy(layout.dir, "armonly", `docker://${registry.address}/test/armonly:v1`, where);
      const name = `${registry.address}/test/multi:v1`;

      const pulled = await husk(root, ["pull", "--insecure", name]);
      equal(pulled.code, 0, pulled.stderr);
      match(pulled.stdout, /v1: Pulling from 127\.0\.0\.1:\d+\/test\/multi\n/);
      match(pulled.stdout, /: Pull complete\n/);
      match(pulled.stdout, /Status: Downloaded newer image for 127\.0\.0\.1:\d+\/test\/multi:v1\n/);
      const again = await husk(root, ["pull", "--insecure", name]);
      match(again.stdout, /: Already exists\n/);
      match(again.stdout, /Status: Image is up to date for 127\.0\.0\.1:\d+\/test\/multi:v1\n/);
      const digest = pulled.stdout.match(/Digest: (sha256:[0-9a-f]{64})/)![1];
      const [image] = JSON.parse((await husk(root, ["image", "inspect", name])).stdout);
      deepEqual(image.RepoDigests, [`${registry.address}/test/multi@${digest}`]);
      equal(image.RootFS.Layers.length, 3);
      const byDigest = await husk(root, ["run", "--rm", `${registry.address}/test/multi@${digest}`, "true"]);
      equal(byDigest.stderr, "", "the image pulled by tag is found by the index's digest, not pulled again");

      const ran = await husk(root, ["run", "--rm", name]);
      equal(ran.stdout, "new\n", ran.stderr);
      const look = await husk(root, [
        "run",
        "--rm",
        name,
        "sh",
        "-c",
        'ls /data; ls /etc/gone 2>&1; echo $FROM_IMAGE; pwd; [ /data/new -ef /data/linked ] && echo "hard link"; cat /opt/zstd',
      ]);
      equal(
        look.stdout,
        "linked\nnew\nls: /etc/gone: No such file or directory\nyes\n/data\nhard link\nfrom a zstd layer\n",
        look.stderr,
      );

      const platform = await husk(root, ["pull", "--insecure", `${registry.address}/test/armonly:v1`]);
      equal(platform.code, 125);
      match(platform.stderr, /no matching manifest for linux\/amd64 in the manifest list entries/);
      const unknown = await husk(root, ["pull", "--insecure", `${registry.address}/test/multi:nope`]);
      match(unknown.stderr, /manifest for 127\.0\.0\.1:\d+\/test\/multi:nope not found: manifest unknown/);

      // A second repository whose top layer's blob is changed in the registry's storage.
      layout.tag("multi", layout.index([amd64]));
      await skopeoCopy(layout.dir, "multi", `docker://${registry.address}/test/tampered:v1`, where);
      equal((await husk(root, ["rmi", name])).code, 0);
      const top = (amd64 as unknown as { digest: string }).digest;
      const manifest = JSON.parse(await Deno.readTextFile(`${layout.dir}/blobs/sha256/${top.slice(7)}`));
      const layer: string = manifest.layers[1].digest.slice(7);
      const data = `${registry.storage}/docker/registry/v2/blobs/sha256/${layer.slice(0, 2)}/${layer}/data`;
      const bytes = await Deno.readFile(data);
      bytes[bytes.length - 20] ^= 0xff;
      await Deno.writeFile(data, bytes);
      const tampered = await husk(root, ["pull", "--insecure", `${registry.address}/test/tampered:v1`]);
      equal(tampered.code, 125);
      match(tampered.stderr, new RegExp(`layer sha256:${layer} failed verification`));
      equal((await husk(root, ["images", "-q"])).stdout, "");
      deepEqual([...Deno.readDirSync(`${root}/images/tmp`)], [], "nothing staged is left");
      ok([...Deno.readDirSync(`${root}/images/layers`)].length === 0, "no layer is left");
    })
  ));

Deno.test("pull: an interrupted pull leaves nothing behind", () =>
  withRoot(async (root) => {
    await withRegistry(root, {}, async (registry, where) => {
      // Between husk and the registry: layer downloads stall after their first bytes.
      const proxy = new Deno.Command("nsenter", {
        args: [
          `--net=/run/netns/${where.netns}`,
          Deno.execPath(),
          "run",
          "-A",
          `${PROJECT}/tests/stalling_proxy.ts`,
          "5001",
          registry.address,
        ],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      try {
        await readUntil(proxy.stdout, /ready/);
        const { layout, amd64 } = await buildImage(root);
        layout.tag("v1", amd64);
        await skopeoCopy(layout.dir, "v1", `docker://${registry.address}/test/slow:v1`, where);
        const child = spawnHusk(root, ["pull", "--insecure", "127.0.0.1:5001/test/slow:v1"]);
        await readUntil(child.stdout, /Downloading/);
        child.kill("SIGINT");
        const status = await child.status;
        await child.stderr.cancel();
        equal(status.code, 130);
        deepEqual([...Deno.readDirSync(`${root}/images/tmp`)], [], "nothing staged is left");
        equal((await husk(root, ["images", "-q"])).stdout, "");
        // Killed outright, a pull leaves its staging directory to the next command that adds an image.
        const killed = spawnHusk(root, ["pull", "--insecure", "127.0.0.1:5001/test/slow:v1"]);
        await readUntil(killed.stdout, /Downloading/);
        killed.kill("SIGKILL");
        await killed.status;
        await killed.stderr.cancel();
        equal([...Deno.readDirSync(`${root}/images/tmp`)].length, 1);
        await new Deno.Command("tar", { args: ["-cf", `${root}/empty.tar`, "-T", "/dev/null"] }).output();
        equal((await husk(root, ["import", `${root}/empty.tar`, "empty"])).code, 0);
        deepEqual([...Deno.readDirSync(`${root}/images/tmp`)], [], "the killed pull's staging is gone");
        equal((await husk(root, ["rmi", "empty"])).code, 0);
      } finally {
        proxy.kill("SIGTERM");
        await proxy.status;
      }
    });
  }));

Deno.test("login: a registry that asks for a password (Basic); credentials are kept for pulls", () =>
  withRoot(async (root) => {
    const login = { username: "tester", password: "s3cret" };
    await withRegistry(root, { login }, async (registry, where) => {
      const { layout, amd64 } = await buildImage(root);
      layout.tag("v1", amd64);
      await skopeoCopy(layout.dir, "v1", `docker://${registry.address}/private/img:v1`, where);
      const name = `${registry.address}/private/img:v1`;
      const anonymous = await husk(root, ["pull", "--insecure", name]);
      equal(anonymous.code, 125);
      match(anonymous.stderr, /no basic auth credentials: run 'husk login'/);
      const loginWith = (password: string) =>
        husk(root, ["login", "--insecure", "-u", "tester", "--password-stdin", registry.address], {
          stdin: `${password}\n`,
        });
      const wrong = await loginWith("wrong");
      equal(wrong.code, 125);
      match(wrong.stderr, /login to 127\.0\.0\.1:\d+ failed: unauthorized/);
      const right = await loginWith("s3cret");
      equal(right.stdout, "Login Succeeded\n", right.stderr);
      equal((await Deno.stat(`${root}/auth.json`)).mode! & 0o777, 0o600, "credentials readable by root only");
      const pulled = await husk(root, ["pull", "-q", "--insecure", name]);
      equal(pulled.stdout, `${name}\n`, pulled.stderr);
      equal((await husk(root, ["run", "--rm", name])).stdout, "new\n");
      equal((await husk(root, ["rmi", name])).code, 0);
      const remote = await husk(root, ["login", "--insecure", "-u", "x", "-p", "y", "registry.example.com"]);
      match(remote.stderr, /--insecure is for registries on this machine only, not registry\.example\.com/);
    });
  }));

Deno.test("pull: concurrent pulls of one image store it once", () =>
  withRoot((root) =>
    withRegistry(root, {}, async (registry, where) => {
      const { layout, amd64 } = await buildImage(root);
      layout.tag("v1", amd64);
      await skopeoCopy(layout.dir, "v1", `docker://${registry.address}/test/twice:v1`, where);
      const name = `${registry.address}/test/twice:v1`;
      const pulls = await Promise.all([1, 2, 3].map(() => husk(root, ["pull", "-q", "--insecure", name])));
      for (const p of pulls) equal(p.stdout, `${name}\n`, p.stderr);
      equal((await husk(root, ["images", "-q"])).stdout.split("\n").filter(Boolean).length, 1);
      equal([...Deno.readDirSync(`${root}/images/layers`)].length, 3, "each layer once");
      deepEqual([...Deno.readDirSync(`${root}/images/tmp`)], []);
      equal((await husk(root, ["rmi", name])).code, 0);
    })
  ));
