/** Runs the network tools (ip, iptables-restore, iptables-save), feeding a batch on stdin. */
import { NetworkError } from "../errors.ts";

/** Where a tool comes from on Debian, for the error that says how to get it. */
function packageOf(program: string): string {
  return program === "ip" ? "iproute2" : program.startsWith("iptables") ? "iptables" : program;
}

/**
 * Runs `program args` with `input` on stdin; resolves to its stdout, or fails with its error lines. The
 * process is spawned before this returns, so that the caller's synchronous work overlaps its start-up.
 */
export function runTool(program: string, args: readonly string[], input = ""): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: [...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // sbin is where these live, and a non-login PATH may lack it.
      env: { PATH: `${Deno.env.get("PATH") ?? ""}:/usr/sbin:/sbin` },
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return Promise.reject(
        new NetworkError(
          `${program} not found: bridge networking needs it (apt-get install ${packageOf(program)}), ` +
            `or run with --network none`,
        ),
      );
    }
    throw e;
  }
  return finish(program, child, input);
}

async function finish(program: string, child: Deno.ChildProcess, input: string): Promise<string> {
  const writer = child.stdin.getWriter();
  if (input !== "") await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    const error = new TextDecoder().decode(out.stderr).trim().split("\n").filter(Boolean);
    throw new NetworkError(`${program} failed: ${error.join("; ") || `exit code ${out.code}`}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * `ip -batch -`: one process for many iproute2 commands (spawned before it returns, as runTool). A failure
 * names the command that failed: "ip link set veth0 master husk0: Operation not supported".
 */
export function ipBatch(commands: readonly string[]): Promise<void> {
  return runTool("ip", ["-batch", "-"], commands.map((c) => c + "\n").join("")).then(
    () => {},
    (e) => {
      throw e instanceof NetworkError ? new NetworkError(batchError(e.message, commands)) : e;
    },
  );
}

/** ip's "RTNETLINK answers: X; Command failed -:N" as the failed command and X. */
export function batchError(message: string, commands: readonly string[]): string {
  const line = Number(message.match(/Command failed -:(\d+)/)?.[1]);
  const command = commands[line - 1];
  if (command === undefined) return message;
  const reason = message.replace(/^ip failed: /, "").split("; ")
    .filter((part) => !part.startsWith("Command failed"))
    .map((part) => part.replace(/^(RTNETLINK answers|Error): /, ""))
    .join("; ");
  return `ip ${command}: ${reason}`;
}
