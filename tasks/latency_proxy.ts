/**
 * A TCP proxy on 127.0.0.1 that holds every chunk for a fixed time in each direction, in front of a server on
 * 127.0.0.1: a registry some way off, for the pull benchmark (this machine's kernel has no netem). Bytes keep
 * their order and nothing limits the rate: only the round trip grows, by twice the delay.
 */

export interface LatencyProxy {
  /** host:port to connect to. */
  address: string;
  close(): Promise<void>;
}

/** Starts the proxy to 127.0.0.1:`upstreamPort`, delaying each direction by `delayMs`. */
export function startLatencyProxy(upstreamPort: number, delayMs: number): LatencyProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const relays: Promise<void>[] = [];

  /** Copies `from` to `to`, each chunk sent `delayMs` after it arrived; then ends `to`'s writing side. */
  const relay = async (from: Deno.Conn, to: Deno.Conn) => {
    let sent = Promise.resolve();
    try {
      // read(), not the readable stream: a stream's end closes the whole connection, and the other
      // direction may still carry bytes.
      while (true) {
        const buffer = new Uint8Array(65536);
        const n = await from.read(buffer);
        if (n === null) break;
        const chunk = buffer.subarray(0, n);
        const due = performance.now() + delayMs;
        sent = sent.then(async () => {
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          for (let at = 0; at < chunk.length;) at += await to.write(chunk.subarray(at));
        });
        // A failed write is thrown below, once the reading ends; until then it must not go unhandled.
        sent.catch(() => {});
      }
      await sent;
      await to.closeWrite();
    } catch {
      // The other side closed first, or the proxy is closing.
    }
  };

  const serve = async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
      open.add(client).add(server);
      relays.push(relay(client, server), relay(server, client));
    }
  };
  const serving = serve().catch(() => {});

  return {
    address: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close: async () => {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Closed by its relay already.
        }
      }
      await Promise.all([serving, ...relays]);
    },
  };
}
