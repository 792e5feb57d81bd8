import { equal, rejects } from "node:assert/strict";
import { NetworkError } from "../errors.ts";
import { batchError, runTool } from "./tool.ts";

const COMMANDS = ["link add veth1 type veth peer name eth0 netns 42", "link set veth1 master husk0 up"];

Deno.test("batchError: names the command that failed and the kernel's reason", () => {
  equal(
    batchError("ip failed: RTNETLINK answers: Operation not supported; Command failed -:2", COMMANDS),
    "ip link set veth1 master husk0 up: Operation not supported",
  );
  equal(
    batchError('ip failed: Error: argument "x" is wrong; Command failed -:1', COMMANDS),
    'ip link add veth1 type veth peer name eth0 netns 42: argument "x" is wrong',
  );
});

Deno.test("batchError: a message without a line number is kept", () => {
  equal(batchError("ip failed: exit code 1", COMMANDS), "ip failed: exit code 1");
});

Deno.test("runTool: the program's stdout; a failure as its error lines; a missing program says how to get it", async () => {
  equal(await runTool("sh", ["-c", "cat; echo done"], "input\n"), "input\ndone\n");
  await rejects(
    () => runTool("sh", ["-c", "echo first >&2; echo second >&2; exit 4"]),
    (e) => e instanceof NetworkError && e.message === "sh failed: first; second",
  );
  await rejects(
    () => runTool("sh", ["-c", "exit 4"]),
    (e) => e instanceof NetworkError && e.message === "sh failed: exit code 4",
  );
  await rejects(
    () => runTool("iptables-nonexistent-restore", []),
    (e) =>
      e instanceof NetworkError &&
      e.message === "iptables-nonexistent-restore not found: bridge networking needs it " +
          "(apt-get install iptables), or run with --network none",
  );
});
