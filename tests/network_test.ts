/**
 * Networking, observed from inside containers and from the host side of their bridges. Each test's husk runs
 * in a network namespace the test made (withRoot): its bridges, veths and firewall rules live and die there,
 * and all traffic stays inside it. Needs root (CI runs as root).
 */
import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { husk, inSandbox, leases, ROOTFS, sandboxOf, sh, waitFor, withRoot } from "./helpers.ts";
import { writeSequenceProbe } from "./probe.ts";

const run = (root: string, args: string[]) => husk(root, ["run", "--rm", ...args]);

async function detached(root: string, args: string[]): Promise<string> {
  const r = await husk(root, ["run", "-d", ...args]);
  equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** A web server in a container: busybox httpd serving `text` on port 80. */
const WEB = (text: string) => [
  "sh",
  "-c",
  `mkdir -p /tmp/www && echo ${text} > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www`,
];

/** busybox wget from the sandbox's host side (the test's own namespace, never the machine's). */
function fetchFromHost(root: string, url: string): { ok: boolean; body: string } {
  // (This busybox's wget crashes on -T: timeout(1) bounds it instead.)
  const out = inSandbox(root, "timeout", "3", `${ROOTFS}/bin/busybox`, "wget", "-q", "-O", "-", url);
  return { ok: out.success, body: new TextDecoder().decode(out.stdout) };
}

/** Polls until `url` answers from the host side (a detached server needs a moment to listen). */
async function fetchWhenUp(root: string, url: string): Promise<string> {
  let body = "";
  await waitFor(() => {
    const r = fetchFromHost(root, url);
    body = r.body;
    return r.ok;
  }, `${url} answers`);
  return body;
}

function inspectOne(text: string): { NetworkSettings: { IPAddress: string; Gateway: string } } {
  return JSON.parse(text)[0];
}

function natRules(root: string): string[] {
  return sh("ip", "netns", "exec", sandboxOf(root), "iptables-save", "-t", "nat").split("\n")
    .filter((l) => l.startsWith("-A"));
}

Deno.test("bridge (default): eth0 with an address, a default route via the bridge and its MTU", () =>
  withRoot(async (root) => {
    const r = await run(root, [
      "sh",
      "-c",
      "ip -o -4 addr show eth0; ip route; cat /sys/class/net/eth0/mtu; cat /etc/hosts",
    ]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /eth0\s+inet 10\.88\.0\.2\/16 /);
    match(r.stdout, /^default via 10\.88\.0\.1 dev eth0/m);
    match(r.stdout, /^1500$/m);
    match(r.stdout, /^10\.88\.0\.2\t\S+ [a-z]+_[a-z]+$/m);
    // The host side: the bridge holds the gateway address.
    match(sh("ip", "-n", sandboxOf(root), "-o", "-4", "addr", "show"), /inet 10\.88\.0\.1\/16/);
  }));

Deno.test("a network's MTU reaches the container's eth0", () =>
  withRoot(async (root) => {
    equal(
      (await husk(root, ["network", "create", "-o", "com.docker.network.driver.mtu=1400", "small"])).code,
      0,
    );
    const r = await run(root, ["--network", "small", "cat", "/sys/class/net/eth0/mtu"]);
    equal(r.code, 0, r.stderr);
    equal(r.stdout.trim(), "1400");
    equal((await husk(root, ["network", "rm", "small"])).code, 0);
  }));

Deno.test("container to container over the bridge: ping and TCP", () =>
  withRoot(async (root) => {
    const web = await detached(root, ["--name", "web", ...WEB("served-over-the-bridge")]);
    const address = inspectOne((await husk(root, ["inspect", web])).stdout).NetworkSettings.IPAddress;
    equal(address, "10.88.0.2");
    const r = await run(root, [
      "sh",
      "-c",
      `ping -c 1 -W 2 ${address} >/dev/null && echo pong; ` +
      `for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -q -O - http://${address}/ && break; sleep 0.2; done`,
    ]);
    equal(r.code, 0, r.stderr);
    deepEqual(r.stdout.trim().split("\n"), ["pong", "served-over-the-bridge"]);
    equal((await husk(root, ["rm", "-f", web])).code, 0);
  }));

Deno.test("-p: served by busybox httpd, fetched from the host side via 127.0.0.1 and the bridge; rm removes it", () =>
  withRoot(async (root) => {
    await detached(root, [
      "--name",
      "web",
      "-p",
      "8080:80",
      "-p",
      "127.0.0.1::80",
      ...WEB("published"),
    ]);
    equal(await fetchWhenUp(root, "http://127.0.0.1:8080/"), "published\n");
    equal(fetchFromHost(root, "http://10.88.0.1:8080/").body, "published\n");
    // The second mapping got a free port of the ephemeral range, on 127.0.0.1 only.
    const lines = (await husk(root, ["port", "web"])).stdout.trim().split("\n");
    equal(lines[0], "80/tcp -> 0.0.0.0:8080");
    const random = lines[1].match(/^80\/tcp -> 127\.0\.0\.1:(\d+)$/);
    ok(random, lines.join("|"));
    const port = Number(random[1]);
    ok(port >= 32768 && port <= 60999, String(port));
    equal(await fetchWhenUp(root, `http://127.0.0.1:${port}/`), "published\n");
    equal((await husk(root, ["port", "web", "80"])).stdout, `0.0.0.0:8080\n127.0.0.1:${port}\n`);
    match((await husk(root, ["ps"])).stdout, /0\.0\.0\.0:8080->80\/tcp, 127\.0\.0\.1:\d+->80\/tcp\s+web/);
    equal((await husk(root, ["rm", "-f", "web"])).code, 0);
    deepEqual(natRules(root).filter((l) => l.includes("DNAT")), []);
    ok(!fetchFromHost(root, "http://127.0.0.1:8080/").ok, "the port still answers after rm");
  }));

/** A struct sockaddr_in as the bytes of a probe's string argument (every byte below 0x80, so one char each). */
function sockaddr(port: number, address: readonly number[]): string {
  return String.fromCharCode(2, 0, port >> 8, port & 255, ...address, 0, 0, 0, 0, 0, 0, 0, 0);
}

Deno.test("-p PORT/udp: a datagram sent from the host side reaches the container", () =>
  withRoot(async (root) => {
    const dir = await Deno.makeTempDir({ prefix: "husk-probe-" });
    try {
      // Syscalls: socket 41, bind 49, recvfrom 45 (no buffer: it waits for one datagram), connect 42, write 1.
      // Host port 5173 is 0x1435: its bytes stay below 0x80.
      await writeSequenceProbe(dir, "receive", [[41, 2, 2, 0], [49, 3, sockaddr(53, [0, 0, 0, 0]), 16], [
        45,
        3,
        0,
        0,
      ]]);
      const send = await writeSequenceProbe(dir, "send", [
        [41, 2, 2, 0],
        [42, 3, sockaddr(5173, [127, 0, 0, 1]), 16],
        [1, 3, "datagram", 8],
      ]);
      const id = await detached(root, ["-v", `${dir}:/probe:ro`, "-p", "5173:53/udp", "/probe/receive"]);
      equal((await husk(root, ["port", id])).stdout, "53/udp -> 0.0.0.0:5173\n");
      // Sent again until the receiver, once bound, gets one and exits 0.
      const exited = () =>
        JSON.parse(Deno.readTextFileSync(`${root}/containers/${id}/state.json`)).status === "exited";
      await waitFor(() => {
        if (exited()) return true;
        equal(inSandbox(root, send).code, 0, "the sender failed");
        return false;
      }, "the container receives the datagram");
      equal((await husk(root, ["wait", id])).stdout, "0\n");
      equal((await husk(root, ["rm", id])).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("-P publishes the exposed ports on free host ports", () =>
  withRoot(async (root) => {
    await detached(root, ["--name", "web", "--expose", "80", "-P", ...WEB("all-published")]);
    const line = (await husk(root, ["port", "web"])).stdout.trim();
    const port = line.match(/^80\/tcp -> 0\.0\.0\.0:(\d+)$/)?.[1];
    ok(port, line);
    equal(await fetchWhenUp(root, `http://127.0.0.1:${port}/`), "all-published\n");
    equal((await husk(root, ["rm", "-f", "web"])).code, 0);
  }));

Deno.test("a taken host port is a clear error (exit 125) that leaves nothing behind", () =>
  withRoot(async (root) => {
    await detached(root, ["--name", "web", "-p", "8080:80", ...WEB("first")]);
    const again = await run(root, ["-p", "8080:80", "true"]);
    equal(again.code, 125);
    equal(
      again.stderr,
      "husk: Bind for 0.0.0.0:8080 failed: port is already allocated; publish another host port\n",
    );
    // A host process listening in the sandbox holds its port too.
    const listener = new Deno.Command("nsenter", {
      args: [`--net=/run/netns/${sandboxOf(root)}`, `${ROOTFS}/bin/busybox`, "nc", "-l", "-p", "9090"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitFor(
        () => inSandbox(root, "sh", "-c", "grep -q ':2382 ' /proc/net/tcp /proc/net/tcp6").success,
        "nc listens",
      );
      const held = await run(root, ["-p", "9090:80", "true"]);
      equal(held.code, 125);
      match(held.stderr, /Bind for 0\.0\.0\.0:9090 failed: port is already allocated/);
    } finally {
      listener.kill("SIGKILL");
      await listener.status;
    }
    equal((await husk(root, ["rm", "-f", "web"])).code, 0);
    equal((await husk(root, ["ps", "-aq"])).stdout, "");
  }));

Deno.test("user-defined networks: by name within one, no traffic between two", () =>
  withRoot(async (root) => {
    for (const args of [["front"], ["--subnet", "10.90.0.0/24", "back"]]) {
      const r = await husk(root, ["network", "create", ...args]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /^[0-9a-f]{64}\n$/);
    }
    await detached(root, ["--network", "front", "--name", "web", ...WEB("front-web")]);
    await detached(root, ["--network", "back", "--name", "db", "sleep", "60"]);
    const front = await run(root, [
      "--network",
      "front",
      "sh",
      "-c",
      "grep -w web /etc/hosts; ping -c 1 -W 2 web >/dev/null && echo web-reached; " +
      "for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -q -O - http://web/ && break; sleep 0.2; done; " +
      "ping -c 1 -W 1 10.90.0.2 >/dev/null || echo back-unreachable",
    ]);
    equal(front.code, 0, front.stderr);
    deepEqual(front.stdout.trim().split("\n"), [
      "10.89.0.2\tweb",
      "web-reached",
      "front-web",
      "back-unreachable",
    ]);
    const back = await run(root, [
      "--network",
      "back",
      "sh",
      "-c",
      "ping -c 1 -W 2 db >/dev/null && echo db-reached; ping -c 1 -W 1 10.89.0.2 >/dev/null || echo front-unreachable",
    ]);
    deepEqual(back.stdout.trim().split("\n"), ["db-reached", "front-unreachable"]);
    const listed = (await husk(root, ["network", "ls"])).stdout;
    for (const name of ["bridge", "front", "back", "host", "none"]) match(listed, new RegExp(` ${name} `));
    const [inspected] = JSON.parse((await husk(root, ["network", "inspect", "back"])).stdout);
    deepEqual(inspected.IPAM.Config, [{ Subnet: "10.90.0.0/24", Gateway: "10.90.0.1" }]);
    deepEqual(Object.values(inspected.Containers), [{ Name: "db", IPv4Address: "10.90.0.2/24" }]);
    const busy = await husk(root, ["network", "rm", "front"]);
    equal(busy.code, 1);
    match(busy.stderr, /network front id [0-9a-f]{12} has active endpoints \(web\)/);
    equal((await husk(root, ["rm", "-f", "web", "db"])).code, 0);
    equal((await husk(root, ["network", "rm", "front", "back"])).stdout, "front\nback\n");
    // Their bridges and rules went with them; the default network's bridge stays, as docker0 does.
    const links = sh("ip", "-n", sandboxOf(root), "-o", "link", "show");
    ok(!/husk-/.test(links), links);
    deepEqual(natRules(root).filter((l) => l.includes("10.89.") || l.includes("10.90.")), []);
  }));

Deno.test("50 containers started in parallel get 50 distinct addresses, freed on rm", () =>
  withRoot(async (root) => {
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => detached(root, ["--name", `c${i}`, "sleep", "120"])),
    );
    const inspected = JSON.parse((await husk(root, ["inspect", ...ids])).stdout) as {
      NetworkSettings: { IPAddress: string };
    }[];
    const addresses = new Set(inspected.map((c) => c.NetworkSettings.IPAddress));
    equal(addresses.size, 50);
    for (const a of addresses) match(a, /^10\.88\.0\.\d+$/);
    equal(Object.keys(leases(root)).length, 50);
    equal((await husk(root, ["rm", "-f", ...ids])).code, 0);
    deepEqual(leases(root), {});
    // A freed address is handed out again.
    const r = await run(root, ["sh", "-c", "ip -o -4 addr show eth0"]);
    match(r.stdout, /inet 10\.88\.0\.2\//);
  }));

Deno.test("--network host is the host's namespace; container:NAME is the other container's", () =>
  withRoot(async (root) => {
    const sandboxIno = Deno.statSync(`/run/netns/${sandboxOf(root)}`).ino;
    const host = await run(root, ["--network", "host", "readlink", "/proc/self/ns/net"]);
    equal(host.code, 0, host.stderr);
    equal(host.stdout.trim(), `net:[${sandboxIno}]`);
    const web = await detached(root, ["--name", "web", "sleep", "60"]);
    const pid = JSON.parse(Deno.readTextFileSync(`${root}/containers/${web}/state.json`)).pid;
    const shared = await run(root, [
      "--network",
      "container:web",
      "sh",
      "-c",
      "readlink /proc/self/ns/net; ip -o -4 addr show eth0",
    ]);
    equal(shared.code, 0, shared.stderr);
    const [ns, addr] = shared.stdout.trim().split("\n");
    equal(ns, Deno.readLinkSync(`/proc/${pid}/ns/net`));
    notEqual(ns, `net:[${sandboxIno}]`);
    match(addr, /inet 10\.88\.0\.2\//);
    equal((await husk(root, ["rm", "-f", "web"])).code, 0);
    const gone = await run(root, ["--network", "container:web", "true"]);
    equal(gone.code, 125);
    equal(gone.stderr, "husk: no such container: web\n");
  }));

Deno.test("--dns, --dns-search, --dns-option and --add-host reach resolv.conf and /etc/hosts", () =>
  withRoot(async (root) => {
    const r = await run(root, [
      "--dns",
      "192.0.2.53",
      "--dns-search",
      "example.test",
      "--dns-option",
      "ndots:2",
      "--add-host",
      "db:10.1.2.3",
      "--add-host",
      "host.internal:host-gateway",
      "sh",
      "-c",
      "cat /etc/resolv.conf; grep -wE 'db|host.internal' /etc/hosts",
    ]);
    equal(r.code, 0, r.stderr);
    equal(
      r.stdout,
      "search example.test\nnameserver 192.0.2.53\noptions ndots:2\n10.1.2.3\tdb\n10.88.0.1\thost.internal\n",
    );
  }));

Deno.test("a container that ended unseen (monitor and container killed) gives back its address and port", () =>
  withRoot(async (root) => {
    const id = await detached(root, ["-p", "8081:80", ...WEB("crash")]);
    await fetchWhenUp(root, "http://127.0.0.1:8081/");
    const state = JSON.parse(Deno.readTextFileSync(`${root}/containers/${id}/state.json`));
    Deno.kill(state.monitorPid, "SIGKILL");
    Deno.kill(state.pid, "SIGKILL");
    await waitFor(() => {
      try {
        return Deno.readTextFileSync(`/proc/${state.pid}/stat`).split(" ")[2] === "Z";
      } catch {
        return true;
      }
    }, "the container is gone");
    // The next command notices and releases what the monitor could not.
    equal((await husk(root, ["ps", "-a"])).code, 0);
    deepEqual(leases(root), {});
    deepEqual(natRules(root).filter((l) => l.includes("DNAT")), []);
    const again = await detached(root, ["-p", "8081:80", ...WEB("after-crash")]);
    equal(await fetchWhenUp(root, "http://127.0.0.1:8081/"), "after-crash\n");
    equal((await husk(root, ["rm", "-f", id, again])).code, 0);
  }));

Deno.test("a subnet that collides with a route of the host is refused, and nothing is made", () =>
  withRoot(async (root) => {
    const sandbox = sandboxOf(root);
    sh("ip", "-n", sandbox, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1");
    try {
      sh("ip", "-n", sandbox, "addr", "add", "10.88.5.1/16", "dev", "lan0");
      sh("ip", "-n", sandbox, "addr", "add", "10.77.5.1/16", "dev", "lan0");
      sh("ip", "-n", sandbox, "link", "set", "lan0", "up");
      sh("ip", "-n", sandbox, "link", "set", "lan1", "up");
      const r = await run(root, ["true"]);
      equal(r.code, 125);
      match(
        r.stderr,
        /^husk: network bridge: its subnet 10\.88\.0\.0\/16 collides with the host's route 10\.88\.0\.0\/16 dev lan0;/,
      );
      ok(!sh("ip", "-n", sandbox, "-o", "link", "show").includes("husk"), "a bridge was made");
      const create = await husk(root, ["network", "create", "--subnet", "10.77.7.0/24", "clash"]);
      equal(create.code, 125);
      match(
        create.stderr,
        /subnet 10\.77\.7\.0\/24 collides with the host's route 10\.77\.0\.0\/16 dev lan0/,
      );
      // Without --subnet, a free one is chosen, and --network none needs no bridge at all.
      equal((await run(root, ["--network", "none", "true"])).code, 0);
    } finally {
      sh("ip", "-n", sandbox, "link", "del", "lan0");
    }
  }));

Deno.test("bad network flags: one clear line, exit 125, nothing made", () =>
  withRoot(async (root) => {
    const cases: [string[], RegExp][] = [
      [["--network", "nope"], /^husk: network nope not found: see "husk network ls"/],
      [["-p", "80:abc"], /^husk: invalid port "abc" in "80:abc"/],
      [["-p", "70000:80"], /^husk: invalid port "70000"/],
      [
        ["--network", "none", "-p", "80"],
        /^husk: conflicting options: port publishing and the none network mode/,
      ],
      [["--dns", "not-an-ip"], /^husk: invalid --dns "not-an-ip"/],
      [["--add-host", "nocolon"], /^husk: invalid --add-host "nocolon"/],
      [["--network", "bad name!"], /^husk: invalid --network "bad name!"/],
    ];
    for (const [flags, message] of cases) {
      const r = await run(root, [...flags, "true"]);
      equal(r.code, 125, flags.join(" "));
      match(r.stderr, message);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    equal((await husk(root, ["ps", "-aq"])).stdout, "");
  }));

Deno.test("a host whose rules are in the legacy tables gets husk's rules there too", () =>
  withRoot(async (root) => {
    const sandbox = sandboxOf(root);
    const legacy = (...args: string[]) => sh("ip", "netns", "exec", sandbox, "iptables-legacy", ...args);
    legacy("-A", "INPUT", "-s", "192.0.2.1", "-j", "ACCEPT");
    legacy("-A", "INPUT", "-s", "192.0.2.2", "-j", "ACCEPT");
    await detached(root, ["--name", "web", "-p", "8083:80", ...WEB("legacy")]);
    equal(await fetchWhenUp(root, "http://127.0.0.1:8083/"), "legacy\n");
    const saved = (variant: string) => sh("ip", "netns", "exec", sandbox, `iptables-${variant}-save`);
    match(saved("legacy"), /-j MASQUERADE/);
    match(saved("legacy"), /--to-destination 10\.88\.0\.2:80/);
    ok(!saved("nft").includes("husk:"), "husk's rules went to nf_tables");
    equal((await husk(root, ["rm", "-f", "web"])).code, 0);
    const after = saved("legacy");
    ok(!after.includes("-j DNAT"), after);
  }));

Deno.test("a network set-up that fails after the clone is reported as such, foreground and detached; nothing left", () =>
  withRoot(async (root) => {
    const created = await husk(root, ["network", "create", "broken"]);
    equal(created.code, 0, created.stderr);
    const bridge = JSON.parse((await husk(root, ["network", "inspect", "broken"])).stdout)[0]
      .Options["com.docker.network.bridge.name"];
    // Something that is not a bridge holds the bridge's name: husk takes it for its bridge, and moving the
    // container's veth onto it fails once the container's process exists.
    const sandbox = sandboxOf(root);
    sh("ip", "-n", sandbox, "link", "add", bridge, "type", "veth", "peer", "name", "impostor");
    try {
      for (const mode of [[], ["-d"]]) {
        const r = await run(root, [...mode, "--network", "broken", "true"]);
        equal(r.code, 125, r.stderr);
        match(
          r.stderr,
          new RegExp(`^husk: ip link set veth[0-9a-f]+ master ${bridge} up: Operation not supported$`, "m"),
        );
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        deepEqual(leases(root), {});
      }
    } finally {
      sh("ip", "-n", sandbox, "link", "del", bridge);
    }
    equal((await husk(root, ["network", "rm", "broken"])).code, 0);
  }));
