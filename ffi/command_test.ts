import { deepEqual, equal, rejects } from "node:assert/strict";
import { ProgramStartError, runProgram } from "./command.ts";

const encode = (s: string) => new TextEncoder().encode(s);

Deno.test("runProgram: stdin in, stdout and stderr out, the exit status; arguments and environment as given", async () => {
  const r = await runProgram(
    "/bin/sh",
    ["-c", 'read line; echo "out:$line:$GREETING:$0"; echo err >&2; exit 3', "zero"],
    ["GREETING=hello"],
    encode("first line\nsecond\n"),
  );
  deepEqual(r, { status: { exited: true, code: 3 }, stdout: "out:first line:hello:zero\n", stderr: "err\n" });
});

Deno.test("runProgram: no descriptor of the runtime but 0, 1 and 2 reaches the program", async () => {
  const r = await runProgram("/bin/sh", ["-c", "ls /proc/self/fd"], [], encode(""));
  // ls itself opens one to read the directory.
  equal(r.stdout.trim().split("\n").length, 4, r.stdout);
});

Deno.test("runProgram: a program that does not exist is a ProgramStartError with ENOENT", async () => {
  await rejects(
    () => runProgram("/nonexistent/tool", [], [], encode("")),
    (e) =>
      e instanceof ProgramStartError && e.errno === 2 && e.path === "/nonexistent/tool" &&
      e.message === "cannot run /nonexistent/tool: No such file or directory",
  );
});

Deno.test("runProgram: a program that exits without reading a large input is reported, not a failure to write", async () => {
  const r = await runProgram("/bin/sh", ["-c", "exit 7"], [], new Uint8Array(1 << 20));
  deepEqual(r.status, { exited: true, code: 7 });
});
