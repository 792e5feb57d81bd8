/** `husk version` and `husk --version`: which husk, on which Deno, for which platform (as `docker version`). */
import meta from "../../deno.json" with { type: "json" };
import { type CommandModule, refuseArguments } from "./command.ts";

/** `husk --version`'s one line, in the shape of `docker --version`. */
export function versionLine(): string {
  return `husk version ${meta.version}`;
}

/** `husk version`'s report: husk has no daemon, so there is only a client section. */
export function versionReport(): string {
  const arch = Deno.build.arch === "x86_64"
    ? "amd64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
  return [
    "Client:",
    ` Version:       ${meta.version}`,
    ` Deno version:  ${Deno.version.deno}`,
    ` V8 version:    ${Deno.version.v8}`,
    ` OS/Arch:       ${Deno.build.os}/${arch}`,
  ].join("\n");
}

export const version: CommandModule = {
  usage: "husk version",
  summary: "Show the husk version information.",
  flags: [],
  main: (_paths, _values, rest) => {
    refuseArguments("version", rest);
    console.log(versionReport());
    return Promise.resolve(0);
  },
};
