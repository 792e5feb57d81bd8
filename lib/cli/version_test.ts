import { equal, match } from "node:assert/strict";
import meta from "../../deno.json" with { type: "json" };
import { versionLine, versionReport } from "./version.ts";

Deno.test("versionLine: docker --version's shape, with the version deno.json declares", () => {
  equal(versionLine(), `husk version ${meta.version}`);
});

Deno.test("versionReport: husk's version, the Deno it runs on and Docker's os/arch names", () => {
  const report = versionReport();
  match(report, new RegExp(`^ Version: +${meta.version.replaceAll(".", "\\.")}$`, "m"));
  match(report, new RegExp(`^ Deno version: +${Deno.version.deno.replaceAll(".", "\\.")}$`, "m"));
  match(report, /^ OS\/Arch: +linux\/(amd64|arm64)$/m);
});
