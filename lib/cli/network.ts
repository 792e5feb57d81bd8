/** `husk network create|ls|inspect|rm`: user-defined bridge networks, as Docker's. */
import { InvalidInputError } from "../errors.ts";
import { allNetworks, createNetwork, findNetwork, removeNetwork } from "../network/networks.ts";
import { type Lease, type NetworkRecord, readLeases, withNetworkLock } from "../network/store.ts";
import { collectStale } from "../runtime/status.ts";
import type { StatePaths } from "../state/paths.ts";
import {
  type CommandGroup,
  type CommandModule,
  needArguments,
  needExactly,
  refuseArguments,
} from "./command.ts";
import { forEachRef, inspectEach } from "./containers.ts";
import { renderTable } from "./table.ts";

/** -o/--opt: the one driver option husk knows, Docker's MTU option (or plain mtu=N). */
function mtuOption(options: readonly string[]): number | undefined {
  let mtu: number | undefined;
  for (const option of options) {
    const [key, value] = option.split("=", 2);
    if (key !== "com.docker.network.driver.mtu" && key !== "mtu") {
      throw new InvalidInputError(`unknown network option "${key}": only com.docker.network.driver.mtu=N`);
    }
    mtu = Number(value);
    if (!Number.isInteger(mtu)) throw new InvalidInputError(`invalid mtu "${value}": a number such as 1400`);
  }
  return mtu;
}

const create: CommandModule = {
  interspersed: true,
  usage: "husk network create [OPTIONS] NETWORK",
  summary: "Create a bridge network.",
  flags: [
    { name: "driver", short: "d", value: "DRIVER", help: "bridge (the only driver)" },
    { name: "subnet", value: "CIDR", help: "the network's subnet (default: a free 10.89.N.0/24)" },
    { name: "gateway", value: "IP", help: "the bridge's address (default: the subnet's first)" },
    { name: "opt", short: "o", value: "KEY=VALUE", multiple: true, help: "com.docker.network.driver.mtu=N" },
  ],
  main: (paths, values, rest) => {
    needExactly("network create", rest, 1);
    const driver = values.driver as string | undefined;
    if (driver !== undefined && driver !== "bridge") {
      throw new InvalidInputError(`unknown network driver "${driver}": husk has bridge networks only`);
    }
    const record = createNetwork(paths, {
      name: rest[0],
      subnet: values.subnet as string | undefined,
      gateway: values.gateway as string | undefined,
      mtu: mtuOption((values.opt as string[] | undefined) ?? []),
    });
    console.log(record.id);
    return Promise.resolve(0);
  },
};

/** The modes that are not networks of their own, listed as Docker lists them. */
const BUILTIN = [
  { id: "", name: "host", driver: "host" },
  { id: "", name: "none", driver: "null" },
];

const ls: CommandModule = {
  interspersed: true,
  usage: "husk network ls [OPTIONS]",
  summary: "List networks.",
  flags: [
    { name: "quiet", short: "q", help: "only display network IDs" },
    { name: "no-trunc", help: "do not truncate IDs" },
  ],
  main: (paths, values, rest) => {
    refuseArguments("network ls", rest);
    const full = values["no-trunc"] === true;
    const networks = allNetworks(paths);
    const rows = [...networks.map((n) => ({ id: n.id, name: n.name, driver: n.driver })), ...BUILTIN];
    const id = (r: { id: string; name: string }) => (r.id === "" ? r.name : full ? r.id : r.id.slice(0, 12));
    if (values.quiet) {
      networks.forEach((n) => console.log(id(n)));
    } else {
      console.log(renderTable(
        ["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
        rows.map((r) => [id(r), r.name, r.driver, "local"]),
      ));
    }
    return Promise.resolve(0);
  },
};

/** Docker's `network inspect` shape. */
function networkJson(net: NetworkRecord, members: readonly Lease[]) {
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: "local",
    Driver: net.driver,
    IPAM: { Driver: "default", Config: [{ Subnet: net.subnet, Gateway: net.gateway }] },
    Containers: Object.fromEntries(
      members.map((m) => [m.container, { Name: m.name, IPv4Address: `${m.address}/${m.prefix}` }]),
    ),
    Options: {
      "com.docker.network.bridge.name": net.bridge,
      "com.docker.network.driver.mtu": String(net.mtu),
    },
  };
}

function inspectNetwork(paths: StatePaths, ref: string) {
  return withNetworkLock(paths, () => {
    const net = findNetwork(paths, ref);
    return networkJson(net, Object.values(readLeases(paths)).filter((l) => l.network === net.name));
  });
}

const inspect: CommandModule = {
  interspersed: true,
  usage: "husk network inspect NETWORK [NETWORK...]",
  summary: "Show networks' details as JSON.",
  flags: [],
  main: async (paths, _values, rest) => {
    needArguments("network inspect", rest);
    await collectStale(paths);
    return await inspectEach(rest, (ref) => inspectNetwork(paths, ref));
  },
};

const rm: CommandModule = {
  interspersed: true,
  usage: "husk network rm NETWORK [NETWORK...]",
  summary: "Remove networks (their bridge and firewall rules); none may have running containers.",
  flags: [],
  main: async (paths, _values, rest) => {
    needArguments("network rm", rest);
    // A container that ended unseen must not keep its network in use.
    await collectStale(paths);
    return await forEachRef(rest, async (ref) => {
      await removeNetwork(paths, ref);
      console.log(ref);
    });
  },
};

export const network: CommandGroup = {
  usage: "husk network COMMAND",
  summary: "Manage networks.",
  subcommands: { create, ls, inspect, rm },
};
