import { deepEqual, equal, match, rejects } from "node:assert/strict";
import { MediaType } from "./oci.ts";
import { parseReference } from "./reference.ts";
import { RegistryClient } from "./registry.ts";

/** A registry on 127.0.0.1 that wants a Bearer token from its own token endpoint. */
async function withFakeRegistry(fn: (address: string, seen: Request[]) => Promise<void>) {
  const seen: Request[] = [];
  const manifest = JSON.stringify({ schemaVersion: 2, config: {}, layers: [] });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    seen.push(request);
    const url = new URL(request.url);
    if (url.pathname === "/token") {
      return Response.json({
        token: url.searchParams.get("scope") === "repository:team/app:pull" ? "t0k" : "bad",
      });
    }
    if (request.headers.get("authorization") !== "Bearer t0k") {
      return new Response(null, {
        status: 401,
        headers: { "www-authenticate": `Bearer realm="http://${url.host}/token",service="fake"` },
      });
    }
    if (
      url.pathname === "/v2/team/app/manifests/v1" ||
      url.pathname.startsWith("/v2/team/app/manifests/sha256:")
    ) {
      return new Response(manifest, { headers: { "content-type": MediaType.ociManifest } });
    }
    const code = url.pathname.includes("/team/app/") ? "MANIFEST_UNKNOWN" : "NAME_UNKNOWN";
    return Response.json({ errors: [{ code }] }, { status: 404 });
  });
  try {
    await fn(`127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("registry: a Bearer challenge is answered with a token for the repository's pull scope", () =>
  withFakeRegistry(async (address, seen) => {
    const client = new RegistryClient(address, { insecure: true });
    const ref = parseReference(`${address}/team/app:v1`);
    const fetched = await client.manifest(ref, "v1");
    equal(fetched.mediaType, MediaType.ociManifest);
    match(fetched.digest, /^sha256:[0-9a-f]{64}$/);
    const token = new URL(seen[1].url);
    deepEqual([token.searchParams.get("service"), token.searchParams.get("scope")], [
      "fake",
      "repository:team/app:pull",
    ]);
    const accept = seen[0].headers.get("accept")!;
    for (
      const type of [
        MediaType.ociIndex,
        MediaType.ociManifest,
        MediaType.dockerList,
        MediaType.dockerManifest,
      ]
    ) {
      match(accept, new RegExp(type.replaceAll(".", "\\.").replaceAll("+", "\\+")));
    }
  }));

Deno.test("registry: Docker's words for an unknown tag and repository; a manifest not matching its digest", () =>
  withFakeRegistry(async (address) => {
    const client = new RegistryClient(address, { insecure: true });
    await rejects(
      client.manifest(parseReference(`${address}/team/app:nope`), "nope"),
      /manifest for 127\.0\.0\.1:\d+\/team\/app:nope not found: manifest unknown: manifest unknown/,
    );
    await rejects(
      client.manifest(parseReference(`${address}/other/app:v1`), "v1"),
      /pull access denied for 127\.0\.0\.1:\d+\/other\/app, repository does not exist or may require 'husk login'/,
    );
    await rejects(
      client.manifest(
        parseReference(`${address}/team/app@sha256:${"0".repeat(64)}`),
        `sha256:${"0".repeat(64)}`,
      ),
      /manifest sha256:0{64} failed verification: its content has digest sha256:[0-9a-f]{64}/,
    );
  }));
