/** Runs the network tools (ip, iptables-restore, iptables-save), feeding a batch on stdin. */
import { NetworkError } from "../errors.ts";

/** Where each tool comes from on Debian, for the error that says how to get it. */
const PACKAGES: Record<string, string> = { ip: "iproute2" };

/** Runs `program args` with `input` on stdin; resolves to its stdout, or fails with its first error line. */
export async function runTool(program: string, args: readonly string[], input?: string): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: [...args],
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      // sbin is where these live, and a non-login PATH may lack it.
      env: { PATH: `${Deno.env.get("PATH") ?? ""}:/usr/sbin:/sbin` },
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new NetworkError(
        `${program} not found: bridge networking needs it (apt-get install ${
          PACKAGES[program] ?? program
        }), ` +
          `or run with --network none`,
      );
    }
    throw e;
  }
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) {
    const error = new TextDecoder().decode(out.stderr).trim().split("\n").filter(Boolean);
    throw new NetworkError(`${program} failed: ${error.join("; ") || `exit code ${out.code}`}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** `ip -batch -`: many iproute2 commands for the price of one process. */
export async function ipBatch(commands: readonly string[]): Promise<void> {
  if (commands.length > 0) await runTool("ip", ["-batch", "-"], commands.join("\n") + "\n");
}
