import { equal } from "node:assert/strict";
import { buildConfig, type BuildContext } from "../config/build.ts";
import { defaultRunOptions, type RunOptions } from "../config/options.ts";
import { type ContainerRecord, type ContainerState, createdState } from "../state/store.ts";
import { restartDelay, shouldRestart } from "./lifecycle.ts";
import { testContext } from "../config/testing.ts";

const CONTEXT: BuildContext = testContext({
  name: "box",
  etcDir: "/state/containers/box",
  now: new Date("2024-05-06T07:08:09.010Z"),
});

/** A detached container that has exited with `exitCode`, under `--restart restart`. */
function record(
  restart: string | undefined,
  state: Partial<ContainerState> = {},
  o: Partial<RunOptions> = {},
): ContainerRecord {
  return {
    config: buildConfig({ ...defaultRunOptions(), detach: true, restart, ...o }, CONTEXT),
    state: {
      ...createdState(),
      status: "exited",
      detached: true,
      pid: 4242,
      pidStartTime: 99,
      monitorPid: 4241,
      startedAt: "2024-05-06T07:08:10.000Z",
      finishedAt: "2024-05-06T07:08:20.000Z",
      exitCode: 1,
      ...state,
    },
  };
}

Deno.test("shouldRestart: no policy (the default) and 'no' never restart", () => {
  equal(record(undefined).config.restartPolicy.name, "no");
  equal(shouldRestart(record(undefined, { exitCode: 1 })), false);
  equal(shouldRestart(record("no", { exitCode: 1 })), false);
  equal(shouldRestart(record("no", { exitCode: 0 })), false);
  equal(shouldRestart(record("no", { exitCode: null })), false);
});

Deno.test("shouldRestart: always restarts after any exit", () => {
  equal(shouldRestart(record("always", { exitCode: 0 })), true);
  equal(shouldRestart(record("always", { exitCode: 137 })), true);
  equal(shouldRestart(record("always", { exitCode: null })), true);
  equal(shouldRestart(record("always", { exitCode: 0, restartCount: 1000 })), true);
});

Deno.test("shouldRestart: unless-stopped restarts after any exit that was not a stop", () => {
  equal(shouldRestart(record("unless-stopped", { exitCode: 0 })), true);
  equal(shouldRestart(record("unless-stopped", { exitCode: 2 })), true);
  equal(shouldRestart(record("unless-stopped", { exitCode: 2, manualStop: true })), false);
});

Deno.test("shouldRestart: on-failure without a maximum restarts after every failure", () => {
  const r = (state: Partial<ContainerState>) => shouldRestart(record("on-failure", state));
  equal(record("on-failure").config.restartPolicy.maximumRetryCount, 0);
  equal(r({ exitCode: 0 }), false);
  equal(r({ exitCode: 1 }), true);
  equal(r({ exitCode: 255 }), true);
  equal(r({ exitCode: 1, restartCount: 500 }), true);
});

Deno.test("shouldRestart: on-failure:N restarts at most N times", () => {
  const r = (state: Partial<ContainerState>) => shouldRestart(record("on-failure:3", state));
  equal(record("on-failure:3").config.restartPolicy.maximumRetryCount, 3);
  equal(r({ exitCode: 1, restartCount: 0 }), true);
  equal(r({ exitCode: 1, restartCount: 2 }), true);
  equal(r({ exitCode: 1, restartCount: 3 }), false);
  equal(r({ exitCode: 1, restartCount: 4 }), false);
  equal(r({ exitCode: 0, restartCount: 0 }), false);
  equal(shouldRestart(record("on-failure:1", { exitCode: 3, restartCount: 0 })), true);
  equal(shouldRestart(record("on-failure:1", { exitCode: 3, restartCount: 1 })), false);
});

Deno.test("shouldRestart: an exit nobody saw (null exit code) counts as a failure for on-failure", () => {
  equal(shouldRestart(record("on-failure", { exitCode: null })), true);
});

Deno.test("shouldRestart: a user's stop wins over every policy", () => {
  for (const policy of ["always", "unless-stopped", "on-failure", "on-failure:5"]) {
    equal(shouldRestart(record(policy, { exitCode: 1, manualStop: true })), false, policy);
    equal(shouldRestart(record(policy, { exitCode: 1, manualStop: false })), true, policy);
  }
});

Deno.test("shouldRestart: a foreground container never restarts", () => {
  for (const policy of ["always", "unless-stopped", "on-failure"]) {
    equal(shouldRestart(record(policy, { exitCode: 1, detached: false })), false, policy);
  }
});

Deno.test("shouldRestart: a running or created container is not restarted", () => {
  for (const policy of ["always", "unless-stopped", "on-failure"]) {
    equal(
      shouldRestart(record(policy, { status: "running", exitCode: null, finishedAt: null })),
      false,
      policy,
    );
    equal(shouldRestart(record(policy, { ...createdState(), detached: true })), false, policy);
  }
});

Deno.test("restartDelay: 100 ms, doubling", () => {
  equal(restartDelay(0), 100);
  equal(restartDelay(1), 200);
  equal(restartDelay(2), 400);
  equal(restartDelay(3), 800);
  equal(restartDelay(9), 51_200);
});

Deno.test("restartDelay: at most a minute", () => {
  equal(restartDelay(10), 60_000);
  equal(restartDelay(11), 60_000);
  equal(restartDelay(100), 60_000);
  equal(restartDelay(10_000), 60_000);
});

Deno.test("restartDelay: never shrinks as restarts add up", () => {
  for (let n = 0; n < 40; n++) {
    equal(restartDelay(n + 1) >= restartDelay(n), true, `restart ${n}`);
  }
});
