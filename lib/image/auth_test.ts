import { deepEqual, equal } from "node:assert/strict";
import { parseChallenge, tokenUrl } from "./auth.ts";

Deno.test("auth: a bearer challenge gives the token URL with the pull scope", () => {
  const c = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"')!;
  deepEqual(c, {
    scheme: "bearer",
    params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" },
  });
  equal(
    tokenUrl(c, "repository:library/alpine:pull"),
    "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull",
  );
  equal(parseChallenge('Basic realm="x"')?.scheme, "basic");
  equal(parseChallenge("Negotiate"), null);
});
