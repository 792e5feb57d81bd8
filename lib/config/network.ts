/** --network, -p/-P/--expose, --dns*, --add-host -> the container's NetworkConfig (pure). */
import { InvalidInputError } from "../errors.ts";
import { parseExtraHost, validateServers } from "../network/dns.ts";
import { parseExposed, parsePublish, publishAll } from "../network/ports.ts";
import { DEFAULT_NETWORK, isValidNetworkName } from "../network/names.ts";
import type { RunOptions } from "./options.ts";
import type { NetworkConfig } from "./types.ts";

export function buildNetwork(options: RunOptions, resolveContainer: (ref: string) => string): NetworkConfig {
  // Docker's "default" is the default network.
  const spec = options.network === undefined || options.network === "default"
    ? DEFAULT_NETWORK
    : options.network;
  const exposedPorts = options.expose.map((e) => {
    parseExposed(e);
    return e.includes("/") ? e : `${e}/tcp`;
  });
  const published = options.publish.flatMap(parsePublish);
  const ports = options.publishAll ? [...published, ...publishAll(exposedPorts, published)] : published;
  validateServers(options.dns);
  const config: NetworkConfig = {
    mode: "bridge",
    network: null,
    container: null,
    ports,
    exposedPorts,
    dns: { servers: options.dns, search: options.dnsSearch, options: options.dnsOption },
    extraHosts: options.addHost.map(parseExtraHost),
  };
  if (spec === "none" || spec === "host") {
    refusePorts(config, spec);
    return { ...config, mode: spec };
  }
  if (spec.startsWith("container:")) {
    const ref = spec.slice("container:".length);
    if (ref === "") {
      throw new InvalidInputError(`invalid --network "${spec}": container:NAME or container:ID`);
    }
    refusePorts(config, spec);
    if (config.dns.servers.length + config.dns.search.length + config.dns.options.length > 0) {
      throw new InvalidInputError(
        "conflicting options: --dns and the container network mode (the other container's resolver is used)",
      );
    }
    if (config.extraHosts.length > 0) {
      throw new InvalidInputError("conflicting options: --add-host and the container network mode");
    }
    return { ...config, mode: "container", container: resolveContainer(ref) };
  }
  if (!isValidNetworkName(spec)) {
    throw new InvalidInputError(
      `invalid --network "${spec}": bridge, none, host, container:NAME or a network's name`,
    );
  }
  return { ...config, network: spec };
}

function refusePorts(config: NetworkConfig, mode: string): void {
  if (config.ports.length > 0) {
    throw new InvalidInputError(
      `conflicting options: port publishing and the ${mode} network mode (publish ports on a bridge network)`,
    );
  }
}
