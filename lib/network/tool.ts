/** Runs the network tools (ip, iptables-restore, iptables-save), feeding a batch on stdin. */
import { ProgramStartError, runProgram } from "../../ffi/command.ts";
import { NetworkError } from "../errors.ts";

/** Where a tool comes from on Debian, for the error that says how to get it. */
function packageOf(program: string): string {
  return program === "ip" ? "iproute2" : program.startsWith("iptables") ? "iptables" : program;
}

/**
 * Runs `program args` with `input` on stdin; resolves to its stdout, or fails with its error lines. The
 * process is started before this returns (by husk's own routine: ffi/command.ts), so that the caller's
 * synchronous work overlaps its start-up.
 */
export async function runTool(program: string, args: readonly string[], input = ""): Promise<string> {
  // sbin is where these live, and a non-login PATH may lack it.
  const path = `${Deno.env.get("PATH") ?? ""}:/usr/sbin:/sbin`;
  const found = path.split(":").filter((dir) => dir.startsWith("/")).map((dir) => `${dir}/${program}`)
    .find((candidate) => isExecutable(candidate));
  if (found === undefined) {
    throw new NetworkError(
      `${program} not found: bridge networking needs it (apt-get install ${packageOf(program)}), ` +
        `or run with --network none`,
    );
  }
  const env = Object.entries({ ...Deno.env.toObject(), PATH: path }).map(([k, v]) => `${k}=${v}`);
  const out = await runProgram(found, args, env, new TextEncoder().encode(input)).catch((e) => {
    throw e instanceof ProgramStartError ? new NetworkError(e.message) : e;
  });
  if (!(out.status.exited && out.status.code === 0)) {
    const error = out.stderr.trim().split("\n").filter(Boolean);
    const status = out.status.exited ? `exit code ${out.status.code}` : `signal ${out.status.signal}`;
    throw new NetworkError(`${program} failed: ${error.join("; ") || status}`);
  }
  return out.stdout;
}

function isExecutable(path: string): boolean {
  try {
    const stat = Deno.statSync(path);
    return stat.isFile && (stat.mode! & 0o111) !== 0;
  } catch {
    return false;
  }
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
