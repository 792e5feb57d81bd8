/** The images the pull and archive tests build for themselves. */
import { ROOTFS } from "./helpers.ts";
import { Layout } from "../tasks/registry.ts";

/**
 * A three-layer image: the busybox rootfs plus files to hide; then a gzipped layer with a whiteout, an
 * opaque directory and hard links; then a zstd layer
 * (or gzip, for archives). Indexed for amd64 and arm64 (the arm64 manifest has its
 * own config).
 */
export async function buildImage(dir: string, { zstd = true } = {}) {
  const layout = new Layout(`${dir}/layout`);
  const base = `${dir}/base`;
  await new Deno.Command("cp", { args: ["-a", ROOTFS, base] }).output();
  await Deno.mkdir(`${base}/data/old`, { recursive: true });
  await Deno.writeTextFile(`${base}/etc/gone`, "gone\n");
  await Deno.writeTextFile(`${base}/data/old/file`, "old\n");
  const top = `${dir}/top`;
  await Deno.mkdir(`${top}/etc`, { recursive: true });
  await Deno.mkdir(`${top}/data`);
  await Deno.writeTextFile(`${top}/etc/.wh.gone`, "");
  await Deno.writeTextFile(`${top}/data/.wh..wh..opq`, "");
  await Deno.writeTextFile(`${top}/data/new`, "new\n");
  await Deno.link(`${top}/data/new`, `${top}/data/linked`);
  const extra = `${dir}/extra`;
  await Deno.mkdir(`${extra}/opt`, { recursive: true });
  await Deno.writeTextFile(`${extra}/opt/zstd`, "from a zstd layer\n");
  const layers = [
    await layout.layer(base, "none"),
    await layout.layer(top, "gzip"),
    // Docker's archive format has no zstd layers.
    await layout.layer(extra, zstd ? "zstd" : "gzip"),
  ];
  const config = { Cmd: ["cat", "new"], Env: ["PATH=/bin:/usr/bin", "FROM_IMAGE=yes"], WorkingDir: "/data" };
  const amd64 = layout.image("amd64", layers, config);
  const arm64 = layout.image("arm64", layers, config);
  return { layout, amd64, arm64 };
}
