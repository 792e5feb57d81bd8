/** Published ports: `-p [hostIP:][hostPort:]containerPort[/proto]` with ranges, as Docker parses and prints them. */
import { InvalidInputError } from "../errors.ts";
import { parseAddress } from "./address.ts";

export type Protocol = "tcp" | "udp";

/** One published port. A hostPort of 0 is chosen when the container starts (a free ephemeral port). */
export interface PortMapping {
  /** "" for every address of the host. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

function portRange(text: string, spec: string): [number, number] {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const first = match ? Number(match[1]) : NaN;
  const last = match?.[2] ? Number(match[2]) : first;
  if (!(first >= 1 && last <= 65535 && first <= last)) {
    throw new InvalidInputError(
      `invalid port "${text}" in "${spec}": a port (1-65535) or a range such as 8000-8010`,
    );
  }
  return [first, last];
}

/** One -p value, ranges expanded. */
export function parsePublish(spec: string): PortMapping[] {
  const slash = spec.lastIndexOf("/");
  const protocol = slash === -1 ? "tcp" : spec.slice(slash + 1);
  if (protocol !== "tcp" && protocol !== "udp") {
    throw new InvalidInputError(`invalid protocol "${protocol}" in "${spec}": tcp or udp`);
  }
  const parts = (slash === -1 ? spec : spec.slice(0, slash)).split(":");
  if (parts.length > 3 || parts.some((p, i) => p === "" && i === parts.length - 1)) {
    throw new InvalidInputError(
      `invalid port mapping "${spec}": [hostIP:][hostPort:]containerPort[/tcp|/udp], such as 8080:80`,
    );
  }
  const [typedIp, hostPorts, containerPorts] = parts.length === 3
    ? parts
    : parts.length === 2
    ? ["", parts[0], parts[1]]
    : ["", "", parts[0]];
  if (typedIp !== "" && parseAddress(typedIp) === null) {
    throw new InvalidInputError(
      `invalid host address "${typedIp}" in "${spec}": an IPv4 address such as 127.0.0.1`,
    );
  }
  // 0.0.0.0 is every address, which the rest of husk writes "".
  const hostIp = typedIp === "0.0.0.0" ? "" : typedIp;
  const [cFirst, cLast] = portRange(containerPorts, spec);
  const count = cLast - cFirst + 1;
  let hFirst = 0;
  if (hostPorts !== "") {
    const [first, last] = portRange(hostPorts, spec);
    if (last - first + 1 !== count) {
      throw new InvalidInputError(
        `invalid port mapping "${spec}": the host range and the container range differ in size`,
      );
    }
    hFirst = first;
  }
  return Array.from({ length: count }, (_, i) => ({
    hostIp,
    hostPort: hFirst === 0 ? 0 : hFirst + i,
    containerPort: cFirst + i,
    protocol,
  }));
}

/** An exposed port as images and --expose write it: "80", "80/tcp", "53/udp", "8000-8002/tcp". */
export function parseExposed(spec: string): { port: number; protocol: Protocol }[] {
  const [ports, protocol = "tcp"] = spec.split("/");
  if (protocol !== "tcp" && protocol !== "udp") {
    throw new InvalidInputError(`invalid protocol "${protocol}" in exposed port "${spec}": tcp or udp`);
  }
  const [first, last] = portRange(ports, spec);
  return Array.from({ length: last - first + 1 }, (_, i) => ({ port: first + i, protocol }));
}

/** -P: every exposed port not already published, to a port the runtime chooses. */
export function publishAll(exposed: readonly string[], published: readonly PortMapping[]): PortMapping[] {
  const taken = new Set(published.map((p) => `${p.containerPort}/${p.protocol}`));
  const extra: PortMapping[] = [];
  for (const { port, protocol } of exposed.flatMap(parseExposed)) {
    const key = `${port}/${protocol}`;
    if (taken.has(key)) continue;
    taken.add(key);
    extra.push({ hostIp: "", hostPort: 0, containerPort: port, protocol });
  }
  return extra;
}

/** Two mappings of one host port and protocol on overlapping addresses, which cannot both be served. */
export function clash(a: PortMapping, b: PortMapping): boolean {
  return a.hostPort === b.hostPort && a.protocol === b.protocol &&
    (a.hostIp === "" || b.hostIp === "" || a.hostIp === b.hostIp);
}

/** `docker ps`'s PORTS column: 0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp. */
export function formatPorts(ports: readonly PortMapping[]): string {
  return ports.map((p) => `${p.hostIp || "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(
    ", ",
  );
}

/** `docker port`'s lines: 80/tcp -> 0.0.0.0:8080. */
export function formatPortLines(ports: readonly PortMapping[]): string[] {
  return ports.map((p) => `${p.containerPort}/${p.protocol} -> ${p.hostIp || "0.0.0.0"}:${p.hostPort}`);
}
