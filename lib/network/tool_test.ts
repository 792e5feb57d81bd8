import { equal } from "node:assert/strict";
import { batchError } from "./tool.ts";

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
