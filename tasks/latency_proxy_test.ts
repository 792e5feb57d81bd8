import { deepEqual, ok } from "node:assert/strict";
import { startLatencyProxy } from "./latency_proxy.ts";

/** An echo server on 127.0.0.1: whatever a client sends comes back. */
function echoServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) served.push(conn.readable.pipeTo(conn.writable).catch(() => {}));
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      await Promise.all([serving, ...served]);
    },
  };
}

Deno.test("latency proxy: bytes come back whole and in order, a round trip later than twice the delay", async () => {
  const echo = echoServer();
  const proxy = startLatencyProxy(echo.port, 40);
  try {
    const [host, port] = proxy.address.split(":");
    const conn = await Deno.connect({ hostname: host, port: Number(port) });
    const sent = new Uint8Array(300_000).map((_, i) => i * 7);
    const start = performance.now();
    const writing = (async () => {
      for (let at = 0; at < sent.length;) at += await conn.write(sent.subarray(at, at + 65536));
      await conn.closeWrite();
    })();
    const received: number[] = [];
    let first = 0;
    for await (const chunk of conn.readable) {
      first ||= performance.now() - start;
      received.push(...chunk);
    }
    await writing;
    ok(first >= 80, `the first bytes came back after ${first.toFixed(1)} ms, not 2 x 40 ms or more`);
    deepEqual(new Uint8Array(received), sent);
  } finally {
    await proxy.close();
    await echo.close();
  }
});
