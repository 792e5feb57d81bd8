/** `husk port CONTAINER [PRIVATE_PORT[/PROTO]]`: a running container's published ports, as Docker prints them. */
import { InvalidInputError, StateError } from "../errors.ts";
import { formatPortLines, parseExposed } from "../network/ports.ts";
import { leaseOf } from "../runtime/network.ts";
import type { CommandModule } from "./command.ts";
import { findContainer } from "./containers.ts";

export const port: CommandModule = {
  interspersed: true,
  usage: "husk port CONTAINER [PRIVATE_PORT[/PROTO]]",
  summary: "List a container's port mappings, or the host ports of one of its ports.",
  flags: [],
  main: (paths, _values, rest) => {
    if (rest.length < 1 || rest.length > 2) {
      throw new InvalidInputError(`"husk port" requires 1 or 2 arguments: CONTAINER [PRIVATE_PORT[/PROTO]]`);
    }
    const record = findContainer(paths, rest[0]);
    const ports = leaseOf(paths, record.config.id)?.ports ?? [];
    if (rest.length === 1) {
      formatPortLines(ports).forEach((line) => console.log(line));
      return Promise.resolve(0);
    }
    const [{ port: wanted, protocol }] = parseExposed(rest[1]);
    const matching = ports.filter((p) => p.containerPort === wanted && p.protocol === protocol);
    if (matching.length === 0) {
      throw new StateError(`no public port '${wanted}/${protocol}' published for ${rest[0]}`);
    }
    matching.forEach((p) => console.log(`${p.hostIp || "0.0.0.0"}:${p.hostPort}`));
    return Promise.resolve(0);
  },
};
