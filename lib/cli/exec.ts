/** `husk exec [OPTIONS] CONTAINER COMMAND [ARG...]`: run a command in a running container. */
import { InvalidInputError } from "../errors.ts";
import { execInContainer, waitExec } from "../runtime/exec.ts";
import { kill } from "../../ffi/process.ts";
import { attachConsole } from "../terminal/console.ts";
import type { CommandModule } from "./command.ts";
import { findContainer } from "./containers.ts";
import { forwardSignals } from "./signals.ts";

export const exec: CommandModule = {
  usage: "husk exec [OPTIONS] CONTAINER COMMAND [ARG...]",
  summary: "Run a command in a running container.",
  flags: [
    { name: "interactive", short: "i", help: "keep stdin open" },
    { name: "tty", short: "t", help: "allocate a pseudo-terminal" },
    { name: "detach", short: "d", help: "run the command in the background" },
    { name: "env", short: "e", value: "VAR[=VALUE]", multiple: true, help: "set an environment variable" },
    { name: "workdir", short: "w", value: "DIR", help: "working directory inside the container" },
    { name: "user", short: "u", value: "UID[:GID]", help: "numeric user and group to run as" },
  ],
  main: async (paths, values, rest) => {
    const [ref, ...command] = rest;
    if (ref === undefined || command.length === 0) {
      throw new InvalidInputError(
        `"husk exec" requires a container and a command (husk exec CONTAINER COMMAND)`,
      );
    }
    const tty = values.tty === true;
    const detach = values.detach === true;
    if (detach && (tty || values.interactive)) {
      throw new InvalidInputError("-d with -i or -t is not supported");
    }
    const record = findContainer(paths, ref);
    const process = await execInContainer(paths, record, {
      command,
      env: (values.env as string[] | undefined) ?? [],
      workdir: values.workdir as string | undefined,
      user: values.user as string | undefined,
      interactive: values.interactive === true,
      tty,
      consoleSize: tty && Deno.stdout.isTerminal() ? Deno.consoleSize() : undefined,
    });
    if (detach) return 0;
    const stopForwarding = forwardSignals((signal) => kill(process.pid, signal));
    const terminal = process.console === null
      ? null
      : attachConsole(process.console, { stdin: values.interactive === true });
    try {
      const code = await waitExec(process.pid);
      await terminal?.output;
      return code;
    } finally {
      terminal?.detach();
      stopForwarding();
    }
  },
};
