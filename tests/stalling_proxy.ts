/**
 * A proxy in front of a registry whose large blob downloads stall after their first bytes, for the test of
 * an interrupted pull. Run in the test's network namespace: `deno run -A stalling_proxy.ts PORT UPSTREAM`;
 * prints "ready" once it listens on 127.0.0.1:PORT, and serves until it is killed.
 */
const [port, upstream] = Deno.args;
Deno.serve(
  { hostname: "127.0.0.1", port: Number(port), onListen: () => console.log("ready") },
  async (request) => {
    const url = new URL(request.url);
    const response = await fetch(`http://${upstream}${url.pathname}`, { headers: request.headers });
    if (!url.pathname.includes("/blobs/") || Number(response.headers.get("content-length")) < 100_000) {
      return response;
    }
    const first = await response.body!.getReader().read();
    return new Response(
      new ReadableStream({ start: (controller) => controller.enqueue(first.value!.subarray(0, 1000)) }),
    );
  },
);
