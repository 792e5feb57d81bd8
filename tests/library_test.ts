/**
 * The library API (mod.ts): many containers from one process, under garbage-collector pressure. This process
 * runs in the host's network namespace, where tests make no bridge: its containers have --network none
 * (bridge networking is tested through the CLI, in a sandbox namespace: network_test.ts).
 */
import { equal } from "node:assert/strict";
import { defaultRunOptions, run, startContainer, statePaths } from "../mod.ts";
import { containers, withRoot } from "./helpers.ts";

Deno.test("500 containers from one process under GC pressure: no failure, no hang", () =>
  withRoot(async (root) => {
    const paths = statePaths(root);
    let junk: unknown[] = [];
    const churn = setInterval(() => {
      for (let i = 0; i < 20000; i++) junk.push({ i, text: "x".repeat(i % 64) });
      if (junk.length > 400000) junk = [];
    }, 1);
    try {
      for (let i = 0; i < 500; i++) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hang = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`container ${i} hung`)), 10_000);
        });
        const result = await Promise.race([
          run(paths, { ...defaultRunOptions(), command: ["/bin/true"], rm: true, network: "none" }),
          hang,
        ]);
        clearTimeout(timer);
        equal(result.exitCode, 0, `container ${i}`);
      }
    } finally {
      clearInterval(churn);
    }
  }));

Deno.test("a started container can be signalled and waited for", () =>
  withRoot(async (root) => {
    const paths = statePaths(root);
    const container = await startContainer(paths, {
      ...defaultRunOptions(),
      command: ["sleep", "60"],
      rm: true,
      network: "none",
    });
    equal(containers(root).length, 1);
    container.kill(9);
    const result = await container.wait();
    equal(result.exitCode, 137);
    equal(containers(root).length, 0);
  }));
