/** `husk top CONTAINER`: the container's processes with their host pids (as `docker top`). */
import { StateError } from "../errors.ts";
import { isRunning } from "../state/liveness.ts";
import { containerProcesses } from "../runtime/top.ts";
import { type CommandModule, needExactly } from "./command.ts";
import { findContainer } from "./containers.ts";
import { renderTable } from "./table.ts";

export const top: CommandModule = {
  usage: "husk top CONTAINER",
  summary: "Show the processes of a running container (host pids).",
  flags: [],
  main: (paths, _values, rest) => {
    needExactly("top", rest, 1, "container");
    const record = findContainer(paths, rest[0]);
    if (!isRunning(record)) throw new StateError(`container ${rest[0]} is not running`);
    const rows = containerProcesses(record.state.pid).map((
      p,
    ) => [String(p.uid), String(p.pid), String(p.ppid), p.command]);
    console.log(renderTable(["UID", "PID", "PPID", "CMD"], rows));
    return Promise.resolve(0);
  },
};
