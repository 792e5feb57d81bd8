import { deepEqual, equal, ok } from "node:assert/strict";
import { buildConfig, type BuildContext, DEFAULT_LOG_MAX_SIZE } from "../config/build.ts";
import { defaultRunOptions, type RunOptions } from "../config/options.ts";
import { type ContainerRecord, type ContainerState, createdState } from "../state/store.ts";
import { inspectJson, psJson, statusColumn } from "./ps.ts";
import { TEST_ID as ID, testContext } from "../config/testing.ts";

const CREATED = "2024-05-06T07:00:00.000Z";
const STARTED = "2024-05-06T07:00:01.000Z";
const FINISHED = "2024-05-06T07:10:00.000Z";

function context(overrides: Partial<BuildContext> = {}): BuildContext {
  return testContext({ name: "web", etcDir: "/state/containers/web", now: new Date(CREATED), ...overrides });
}

function record(state: Partial<ContainerState> = {}, o: Partial<RunOptions> = {}): ContainerRecord {
  return {
    config: buildConfig({ ...defaultRunOptions(), ...o }, context()),
    state: { ...createdState(), ...state },
  };
}

const running = (o: Partial<RunOptions> = {}) =>
  record({ status: "running", pid: 4321, pidStartTime: 7, startedAt: STARTED, detached: true }, o);
const exited = (exitCode: number | null, o: Partial<RunOptions> = {}) =>
  record({
    status: "exited",
    pid: 4321,
    pidStartTime: 7,
    startedAt: STARTED,
    finishedAt: FINISHED,
    exitCode,
  }, o);
const at = (iso: string, plusMs: number) => new Date(Date.parse(iso) + plusMs);

Deno.test("statusColumn: a running container shows how long it has been up", () => {
  equal(statusColumn(running(), at(STARTED, 5_000)), "Up 5 seconds");
  equal(statusColumn(running(), at(STARTED, 1_000)), "Up 1 second");
  equal(statusColumn(running(), at(STARTED, 0)), "Up Less than a second");
  equal(statusColumn(running(), at(STARTED, 3 * 3_600_000)), "Up 3 hours");
});

Deno.test("statusColumn: an exited container shows its code and when it exited", () => {
  equal(statusColumn(exited(3), at(FINISHED, 120_000)), "Exited (3) 2 minutes ago");
  equal(statusColumn(exited(0), at(FINISHED, 5_000)), "Exited (0) 5 seconds ago");
  equal(statusColumn(exited(137), at(FINISHED, 48 * 3_600_000)), "Exited (137) 2 days ago");
});

Deno.test("statusColumn: an exit nobody saw has an unknown code", () => {
  equal(statusColumn(exited(null), at(FINISHED, 120_000)), "Exited (unknown) 2 minutes ago");
});

Deno.test("statusColumn: a container never started", () => {
  equal(statusColumn(record(), at(CREATED, 999_999)), "Created");
});

Deno.test("psJson: Docker's keys and values", () => {
  const r = exited(3, { command: ["sh", "-c", "exit 3; and a long tail of words"] });
  const json = psJson(r, at(FINISHED, 120_000));
  deepEqual(Object.keys(json).sort(), [
    "Command",
    "CreatedAt",
    "ID",
    "Image",
    "Names",
    "Ports",
    "RunningFor",
    "State",
    "Status",
  ]);
  equal(json.ID, "0123456789ab");
  equal(json.Image, "/images/alpine");
  equal(json.Command, `"sh -c exit 3; and a long tail of words"`); // never truncated in JSON
  equal(json.CreatedAt, CREATED);
  equal(json.RunningFor, "12 minutes");
  equal(json.Status, "Exited (3) 2 minutes ago");
  equal(json.State, "exited");
  equal(json.Ports, "");
  equal(json.Names, "web");
  for (const [k, v] of Object.entries(json)) equal(typeof v, "string", k);
});

Deno.test("psJson: a running container", () => {
  const json = psJson(running(), at(STARTED, 5_000));
  equal(json.State, "running");
  equal(json.Status, "Up 5 seconds");
  equal(json.RunningFor, "6 seconds");
  equal(json.Command, `"/bin/sh"`);
});

Deno.test("inspectJson: identity, command and name", () => {
  const json = inspectJson(running({ command: ["echo", "a", "b"] }));
  equal(json.Id, ID);
  equal(json.Created, CREATED);
  equal(json.Path, "echo");
  deepEqual(json.Args, ["a", "b"]);
  equal(json.Name, "/web");
  equal(json.Rootfs, "/images/alpine");
  equal(json.Image, "", "no image: a root filesystem directory");
  equal(json.RestartCount, 0);
});

Deno.test("inspectJson: State of a running container", () => {
  deepEqual(inspectJson(running()).State, {
    Status: "running",
    Running: true,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 4321,
    ExitCode: 0,
    Error: "",
    StartedAt: STARTED,
    FinishedAt: "0001-01-01T00:00:00Z",
  });
});

Deno.test("inspectJson: State of an exited container", () => {
  const state = (r: ContainerRecord) => inspectJson(r).State as Record<string, unknown>;
  const s = state(exited(3));
  equal(s.Status, "exited");
  equal(s.Running, false);
  equal(s.Pid, 0); // the recorded pid is stale
  equal(s.ExitCode, 3);
  equal(s.StartedAt, STARTED);
  equal(s.FinishedAt, FINISHED);
  equal(state(exited(null)).ExitCode, -1);
  equal(state(exited(0)).ExitCode, 0);
  const oom = record({
    status: "exited",
    exitCode: 137,
    oomKilled: true,
    startedAt: STARTED,
    finishedAt: FINISHED,
  });
  equal(state(oom).OOMKilled, true);
});

Deno.test("inspectJson: State of a created container", () => {
  const s = inspectJson(record()).State as Record<string, unknown>;
  equal(s.Status, "created");
  equal(s.Running, false);
  equal(s.Pid, 0);
  equal(s.ExitCode, 0);
  equal(s.StartedAt, "0001-01-01T00:00:00Z");
  equal(s.FinishedAt, "0001-01-01T00:00:00Z");
});

Deno.test("inspectJson: Config", () => {
  const json = inspectJson(
    running({ user: "1000:100", tty: true, interactive: true, workdir: "/srv", hostname: "h1" }),
  );
  const config = json.Config as Record<string, unknown>;
  equal(config.Hostname, "h1");
  equal(config.User, "1000:100");
  equal(config.Tty, true);
  equal(config.OpenStdin, true);
  equal(config.WorkingDir, "/srv");
  deepEqual(config.Cmd, ["/bin/sh"]);
  ok((config.Env as string[]).includes("HOSTNAME=h1"));
});

Deno.test("inspectJson: HostConfig's restart policy, auto-remove and log config", () => {
  const host = (r: ContainerRecord) => inspectJson(r).HostConfig as Record<string, unknown>;
  deepEqual(host(running({ restart: "on-failure:4" })).RestartPolicy, {
    Name: "on-failure",
    MaximumRetryCount: 4,
  });
  deepEqual(host(running({ restart: "always" })).RestartPolicy, { Name: "always", MaximumRetryCount: 0 });
  deepEqual(host(running()).RestartPolicy, { Name: "no", MaximumRetryCount: 0 });
  equal(host(running({ rm: true })).AutoRemove, true);
  equal(host(running()).AutoRemove, false);
  deepEqual(host(running()).LogConfig, {
    Type: "husk-binary",
    Config: { "max-size": String(DEFAULT_LOG_MAX_SIZE), "max-file": "2" },
  });
  deepEqual((host(running({ logMaxSize: 65536 })).LogConfig as { Config: unknown }).Config, {
    "max-size": "65536",
    "max-file": "2",
  });
});

Deno.test("inspectJson: Binds and Mounts list the user's volumes only, with their mode", () => {
  const json = inspectJson(
    running({ volumes: ["/host/data:/data", "/host/conf:/etc/app:ro"], tmpfs: ["/run"] }),
  );
  const host = json.HostConfig as Record<string, unknown>;
  deepEqual(host.Binds, ["/host/data:/data", "/host/conf:/etc/app:ro"]);
  deepEqual(json.Mounts, [
    {
      Type: "bind",
      Source: "/host/data",
      Destination: "/data",
      Mode: "",
      RW: true,
      Propagation: "rprivate",
    },
    {
      Type: "bind",
      Source: "/host/conf",
      Destination: "/etc/app",
      Mode: "ro",
      RW: false,
      Propagation: "rprivate",
    },
  ]);
});

Deno.test("inspectJson: the generated /etc/hostname and /etc/hosts are no user binds", () => {
  const r = running();
  ok(r.config.mounts.some((m) => m.type === "bind" && m.destination === "/etc/hostname"));
  ok(r.config.mounts.some((m) => m.type === "bind" && m.destination === "/etc/hosts"));
  const json = inspectJson(r);
  deepEqual((json.HostConfig as Record<string, unknown>).Binds, []);
  deepEqual(json.Mounts, []);
});

Deno.test("inspectJson: Tmpfs lists the user's tmpfs mounts, not /dev's", () => {
  const json = inspectJson(running({ tmpfs: ["/run"] }));
  const tmpfs = (json.HostConfig as Record<string, unknown>).Tmpfs as Record<string, string>;
  deepEqual(Object.keys(tmpfs), ["/run"]);
});

Deno.test("inspectJson: the JSON round-trips", () => {
  const json = inspectJson(exited(1, { volumes: ["/a:/b"] }));
  deepEqual(JSON.parse(JSON.stringify(json)), json);
});

// userBinds() drops every bind on /etc/hostname or /etc/hosts, but when the user mounts their own file there
// the generated one is left out of the config (build.ts etcMounts), so the user's volume disappears too.
Deno.test("inspectJson: a user's own volume on /etc/hosts is one of the Binds", () => {
  const json = inspectJson(running({ volumes: ["/host/hosts:/etc/hosts:ro"] }));
  deepEqual((json.HostConfig as Record<string, unknown>).Binds, ["/host/hosts:/etc/hosts:ro"]);
  deepEqual((json.Mounts as { Destination: string }[]).map((m) => m.Destination), ["/etc/hosts"]);
});

// --init adds a read-only bind of tini on /dev/init (build.ts initMount): the user did not ask for it, and
// Docker's inspect does not list the init binary among the mounts, but userBinds() keeps it.
Deno.test("inspectJson: the --init binary is no user bind", () => {
  const r: ContainerRecord = {
    config: buildConfig(
      { ...defaultRunOptions(), init: true, volumes: ["/host/data:/data"] },
      context({ initBinary: "/usr/bin/tini-static" }),
    ),
    state: { ...createdState(), status: "running", pid: 4321, startedAt: STARTED },
  };
  ok(r.config.mounts.some((m) => m.type === "bind" && m.destination === "/dev/init"));
  const json = inspectJson(r);
  deepEqual((json.HostConfig as Record<string, unknown>).Binds, ["/host/data:/data"]);
  deepEqual((json.Mounts as { Destination: string }[]).map((m) => m.Destination), ["/data"]);
});
