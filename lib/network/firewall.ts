/**
 * The firewall rules of husk's networks and published ports, as iptables-restore input (pure). Every rule
 * carries a comment tag naming its owner (a network or a container, under one state root), so that removing
 * an owner's rules is a matter of finding its tag in iptables-save's output: nothing else needs remembering,
 * and rules left by a crash are found the same way.
 */
import type { PortMapping } from "./ports.ts";

export type Table = "nat" | "filter";
export type Rules = Partial<Record<Table, string[]>>;

/** The comment on every rule of one owner: husk:<root tag>:<owner ID, 12 digits>. */
export function ownerTag(rootTag: string, ownerId: string): string {
  return `husk:${rootTag}:${ownerId.slice(0, 12)}`;
}

/** Every husk bridge's name starts with this: one wildcard rule keeps networks apart. */
const ALL_BRIDGES = "husk+";

export interface BridgeNetwork {
  bridge: string;
  /** CIDR, e.g. 10.88.0.0/16. */
  subnet: string;
}

/**
 * A network's rules: its containers' traffic to the outside is masqueraded; traffic from the host itself
 * (127.0.0.1 through a published port) is masqueraded into the bridge; in FORWARD, a network talks to
 * itself and the outside but to no other husk network, and receives replies and published traffic.
 */
export function networkRules(net: BridgeNetwork, tag: string): Rules {
  const c = `-m comment --comment ${tag}`;
  const b = net.bridge;
  // Inserted at the top, each above the one before: listed bottom first.
  const forward = [
    `-o ${b} -m conntrack --ctstate DNAT ${c} -j ACCEPT`,
    `-o ${b} -m conntrack --ctstate RELATED,ESTABLISHED ${c} -j ACCEPT`,
    `-i ${b} ${c} -j ACCEPT`,
    `-i ${b} -o ${ALL_BRIDGES} ${c} -j DROP`,
    `-i ${b} -o ${b} ${c} -j ACCEPT`,
  ];
  return {
    nat: [
      `-A POSTROUTING -s ${net.subnet} ! -o ${b} ${c} -j MASQUERADE`,
      `-A POSTROUTING -o ${b} -m addrtype --src-type LOCAL ${c} -j MASQUERADE`,
    ],
    filter: forward.map((rule) => `-I FORWARD 1 ${rule}`),
  };
}

/** DNAT of published ports to the container's address, from outside (PREROUTING) and from the host (OUTPUT). */
export function portRules(
  bridge: string,
  address: string,
  ports: readonly PortMapping[],
  tag: string,
): Rules {
  const nat = ports.flatMap((p) => {
    const match = `-m addrtype --dst-type LOCAL${p.hostIp ? ` -d ${p.hostIp}/32` : ""} -p ${p.protocol} ` +
      `-m ${p.protocol} --dport ${p.hostPort} -m comment --comment ${tag} ` +
      `-j DNAT --to-destination ${address}:${p.containerPort}`;
    return [`-A PREROUTING ! -i ${bridge} ${match}`, `-A OUTPUT ${match}`];
  });
  return { nat };
}

/** iptables-restore input that applies `rules` (with --noflush: other rules stay). */
export function restoreScript(rules: Rules): string {
  return Object.entries(rules)
    .filter(([, lines]) => lines.length > 0)
    .map(([table, lines]) => [`*${table}`, ...lines, "COMMIT", ""].join("\n"))
    .join("");
}

/** The rules in iptables-save output that carry one of `tags`. */
export function taggedRules(saved: string, tags: readonly string[]): Rules {
  const rules: Rules = {};
  let table: Table | null = null;
  for (const line of saved.split("\n")) {
    if (line.startsWith("*")) table = line === "*nat" || line === "*filter" ? line.slice(1) as Table : null;
    else if (table && line.startsWith("-A ") && tags.some((t) => hasTag(line, t))) {
      (rules[table] ??= []).push(line);
    }
  }
  return rules;
}

function hasTag(line: string, tag: string): boolean {
  return line.includes(`--comment ${tag} `) || line.includes(`--comment "${tag}"`) ||
    line.endsWith(`--comment ${tag}`);
}

/** The deletion of rules as iptables-save printed them. */
export function deletions(rules: Rules): Rules {
  return Object.fromEntries(
    Object.entries(rules).map(([table, lines]) => [table, lines.map((l) => "-D" + l.slice(2))]),
  );
}
