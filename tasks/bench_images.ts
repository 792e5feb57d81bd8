/**
 * The image benchmarks of `deno task bench`, in the same run as their peers:
 * 1. pull of one multi-layer image (4 gzip layers, about 40 MB unpacked) from Debian's docker-registry on
 *    127.0.0.1: `husk pull` (whole process, into an empty store: download, verify, extract) against
 *    `skopeo copy docker://... dir:...` (download and verify only); then both again through a proxy that
 *    makes the registry's round trip 20 ms;
 * 2. extraction of the largest layer: husk's extractLayer (in-process, gunzip + tar-stream + diff_id hash)
 *    against GNU `tar -xzf` (a whole process).
 * Each run starts from an empty destination, removed between runs and not timed.
 */
import { extractLayer } from "../lib/image/layer.ts";
import { type BenchResult, commandLine, type Skipped, summarize } from "./bench_results.ts";
import { startLatencyProxy } from "./latency_proxy.ts";
import { Layout, skopeoCopy, startRegistry } from "./registry.ts";

const PROJECT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const LAYERS = 4;
/**
 * Each way, for the pulls from a registry some way off (a round trip of 20 ms: a registry in the same
 * region); the loopback figures alone hide what waits on the network.
 */
const DELAY_MS = 10;
/** The suffix of the far registry's results. */
export const FAR = `, registry ${2 * DELAY_MS} ms away`;

/** Deterministic, half-compressible content: random 32 KiB then 32 KiB of a repeated line. */
function content(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) {
    crypto.getRandomValues(data.subarray(off, Math.min(off + 32768, size)));
    const text = new TextEncoder().encode("husk layer benchmark filler line\n".repeat(1000));
    data.set(text.subarray(0, Math.max(0, Math.min(32768, size - off - 32768))), off + 32768);
  }
  return data;
}

/** Builds the benchmark image: per layer 200 files of 32 KiB and one of 4 MiB, in nested directories. */
async function buildLayout(dir: string) {
  const layout = new Layout(`${dir}/layout`);
  const layers = [];
  for (let i = 0; i < LAYERS; i++) {
    const src = `${dir}/layer${i}`;
    for (let f = 0; f < 200; f++) {
      await Deno.mkdir(`${src}/d${i}/${f % 10}`, { recursive: true });
      await Deno.writeFile(`${src}/d${i}/${f % 10}/f${f}`, content(32768));
    }
    await Deno.writeFile(`${src}/d${i}/big`, content(4 << 20));
    layers.push(await layout.layer(src, "gzip"));
    await Deno.remove(src, { recursive: true });
  }
  const image = layout.image("amd64", layers, { Cmd: ["/bin/sh"] });
  layout.tag("bench", image);
  return { layout, layers };
}

interface Contender {
  run: () => Promise<void>;
  /** Empties the destination (not timed). */
  reset: () => Promise<void>;
}

/**
 * Times two contenders in turns (a, b, a, b, ...), so that whatever else the machine does weighs on both
 * alike. The first round warms caches (the registry's, the page cache, Deno's module cache) and is dropped.
 */
async function timeInTurns(runs: number, a: Contender, b: Contender): Promise<[number[], number[]]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < runs + 1; i++) {
    for (const [k, c] of [a, b].entries()) {
      await c.reset();
      const start = performance.now();
      await c.run();
      if (i > 0) times[k].push(performance.now() - start);
    }
  }
  await a.reset();
  await b.reset();
  return times;
}

async function exec(argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`${argv[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
}

const emptyDir = (dir: string) => async () => {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
};

/** The pull and extraction benchmarks (or why they were skipped). */
export async function imageBenchmarks(
  tmp: string,
  runs: number,
  which: (name: string) => string | null,
  progress: (message: string) => void,
): Promise<(BenchResult | Skipped)[]> {
  const registryBinary = which("docker-registry"), skopeo = which("skopeo"), tar = which("tar");
  if (!registryBinary || !skopeo || !tar) {
    const reason = "needs docker-registry, skopeo and tar (apt-get install docker-registry skopeo)";
    const names = ["husk pull", "skopeo copy", `husk pull${FAR}`, `skopeo copy${FAR}`];
    return [...names, "husk layer extraction", "GNU tar -xzf"].map((name) => ({
      name,
      reason,
    }));
  }
  const dir = `${tmp}/images`;
  await Deno.mkdir(dir, { recursive: true });
  const registry = await startRegistry(dir);
  try {
    progress("building and pushing the benchmark image");
    const { layout, layers } = await buildLayout(dir);
    const name = `${registry.address}/bench/layers:1`;
    await skopeoCopy(layout.dir, "bench", `docker://${name}`);
    const results: BenchResult[] = [];

    /** husk pull and skopeo copy of `image`, in turns, under the names `husk pull${suffix}` and so on. */
    const pullAndCopy = async (image: string, suffix: string) => {
      const root = `${dir}/husk-root`, dest = `${dir}/skopeo-dir`;
      const pull = [
        Deno.execPath(),
        "run",
        "-A",
        `${PROJECT}/main.ts`,
        "--root",
        root,
        "pull",
        "-q",
        "--insecure",
        image,
      ];
      const copy = [skopeo, "copy", "--quiet", "--src-tls-verify=false", `docker://${image}`, `dir:${dest}`];
      const [pulls, copies] = await timeInTurns(
        runs,
        { run: () => exec(pull), reset: emptyDir(root) },
        { run: () => exec(copy), reset: emptyDir(dest) },
      );
      results.push(summarize(`husk pull${suffix}`, "loop", commandLine(pull), pulls));
      results.push(summarize(`skopeo copy${suffix}`, "loop", commandLine(copy), copies));
    };
    progress("measuring husk pull and skopeo copy, in turns");
    await pullAndCopy(name, "");
    progress(`measuring them again with the registry ${2 * DELAY_MS} ms away (a delaying proxy)`);
    const proxy = startLatencyProxy(Number(registry.address.split(":")[1]), DELAY_MS);
    try {
      await pullAndCopy(name.replace(registry.address, proxy.address), FAR);
    } finally {
      await proxy.close();
    }

    progress("measuring layer extraction and GNU tar, in turns");
    const largest = layers.map((l) => l.desc).sort((a, b) => b.size - a.size)[0];
    const blob = `${layout.dir}/blobs/sha256/${largest.digest.slice(7)}`;
    const out = `${dir}/extracted`, tarOut = `${dir}/tar-extracted`;
    const untar = [tar, "-xzf", blob, "-C", tarOut];
    const [extractions, untars] = await timeInTurns(
      runs * 3,
      {
        run: async () => void await extractLayer((await Deno.open(blob)).readable, out),
        reset: emptyDir(out),
      },
      { run: () => exec(untar), reset: emptyDir(tarOut) },
    );
    results.push(summarize("husk layer extraction", "in-process", `extractLayer(${blob})`, extractions));
    results.push(summarize("GNU tar -xzf", "loop", commandLine(untar), untars));
    return results;
  } finally {
    await registry.stop();
  }
}
