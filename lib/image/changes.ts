/**
 * `husk import --change`: the Dockerfile instructions that set an image's run config (CMD, ENTRYPOINT,
 * ENV, WORKDIR, USER, EXPOSE), as `docker import -c` takes them. Pure.
 */
import { InvalidInputError } from "../errors.ts";
import type { RunConfig } from "./oci.ts";

/** CMD and ENTRYPOINT: the JSON form, or the shell form run by /bin/sh -c. */
function commandForm(text: string, change: string): string[] {
  if (!text.trimStart().startsWith("[")) return ["/bin/sh", "-c", text];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    list = null;
  }
  if (!Array.isArray(list) || !list.every((a) => typeof a === "string")) {
    throw new InvalidInputError(`invalid --change "${change}": expected a JSON array of strings`);
  }
  return list;
}

export function applyChanges(changes: readonly string[]): RunConfig {
  const run: RunConfig = {};
  for (const change of changes) {
    const m = change.match(/^\s*(\w+)\s+(.*)$/s);
    const [instruction, rest] = m ? [m[1].toUpperCase(), m[2].trim()] : ["", ""];
    switch (instruction) {
      case "CMD":
        run.Cmd = commandForm(rest, change);
        break;
      case "ENTRYPOINT":
        run.Entrypoint = commandForm(rest, change);
        break;
      case "ENV": {
        const eq = rest.indexOf("=");
        const space = rest.search(/\s/);
        // ENV NAME=value, or the older ENV NAME value.
        const entry = eq !== -1 && (space === -1 || eq < space)
          ? rest
          : `${rest.slice(0, space)}=${rest.slice(space).trim()}`;
        run.Env = [...(run.Env ?? []), entry];
        break;
      }
      case "WORKDIR":
        run.WorkingDir = rest;
        break;
      case "USER":
        run.User = rest;
        break;
      case "EXPOSE":
        run.ExposedPorts = {
          ...run.ExposedPorts,
          ...Object.fromEntries(rest.split(/\s+/).map((p) => [p.includes("/") ? p : `${p}/tcp`, {}])),
        };
        break;
      default:
        throw new InvalidInputError(
          `unsupported --change "${change}": use CMD, ENTRYPOINT, ENV, WORKDIR, USER or EXPOSE`,
        );
    }
  }
  return run;
}
