import { deepEqual, equal, throws } from "node:assert/strict";
import { apiHost, canonical, familiar, familiarRepository, parseReference } from "./reference.ts";

Deno.test("reference: Docker Hub defaults", () => {
  deepEqual(parseReference("alpine"), {
    domain: "docker.io",
    path: "library/alpine",
    tag: "latest",
    digest: undefined,
  });
  equal(canonical(parseReference("alpine")), "docker.io/library/alpine:latest");
  equal(canonical(parseReference("user/app:1.0")), "docker.io/user/app:1.0");
  equal(familiar(parseReference("docker.io/library/alpine:3")), "alpine:3");
  equal(familiarRepository("docker.io/user/app"), "user/app");
  equal(apiHost("docker.io"), "registry-1.docker.io");
});

Deno.test("reference: registries with ports, tags and digests", () => {
  const digest = "sha256:" + "a".repeat(64);
  deepEqual(parseReference(`127.0.0.1:5000/x/y:t@${digest}`), {
    domain: "127.0.0.1:5000",
    path: "x/y",
    tag: "t",
    digest,
  });
  deepEqual(parseReference(`localhost/y@${digest}`).tag, undefined);
  equal(parseReference("localhost:5000/y").tag, "latest");
  equal(familiar(parseReference("127.0.0.1:5000/y")), "127.0.0.1:5000/y:latest");
});

Deno.test("reference: bad ones are refused with a reason", () => {
  throws(() => parseReference("Alpine"), /invalid reference format "Alpine": repository names are lowercase/);
  throws(() => parseReference("alpine:"), /tag "" must be/);
  throws(() => parseReference("alpine@sha256:12"), /a digest is sha256:/);
  throws(() => parseReference("127.0.0.1:5000/"), /the name is empty/);
});
