/**
 * The host firewall through iptables-restore and iptables-save. A host's rules live in one of two backends,
 * nf_tables or the legacy tables, and rules added to the other would be invisible beside them (or bypassed):
 * husk uses the backend that already holds the most rules, as Kubernetes' iptables wrapper decides, and
 * nf_tables on a tie. Where only the plain `iptables-*` tools exist, they are used as they are.
 */
import { deletions, restoreScript, type Rules, taggedRules } from "./firewall.ts";
import { runTool } from "./tool.ts";

/** nft or legacy: the `iptables-nft-*` or `iptables-legacy-*` tools; null: plain `iptables-*`. */
export type Backend = "nft" | "legacy" | null;

/** The backend with more rules; nf_tables on a tie; null when neither variant's tools can be run. */
export function chooseBackend(legacyRules: number | null, nftRules: number | null): Backend {
  if (legacyRules === null && nftRules === null) return null;
  if (nftRules === null) return "legacy";
  if (legacyRules === null) return "nft";
  return legacyRules > nftRules ? "legacy" : "nft";
}

export function countRules(saved: string): number {
  return saved.split("\n").filter((l) => l.startsWith("-A ")).length;
}

async function rulesIn(backend: "nft" | "legacy"): Promise<number | null> {
  try {
    return countRules(await runTool(`iptables-${backend}-save`, []));
  } catch {
    return null; // not installed, or this kernel lacks the backend
  }
}

export async function detectBackend(): Promise<Backend> {
  const [legacy, nft] = await Promise.all([rulesIn("legacy"), rulesIn("nft")]);
  return chooseBackend(legacy, nft);
}

const tool = (backend: Backend, verb: "save" | "restore") =>
  backend === null ? `iptables-${verb}` : `iptables-${backend}-${verb}`;

export async function applyRules(backend: Backend, rules: Rules): Promise<void> {
  const script = restoreScript(rules);
  if (script !== "") await runTool(tool(backend, "restore"), ["--noflush", "--wait"], script);
}

export function saveRules(backend: Backend): Promise<string> {
  return runTool(tool(backend, "save"), []);
}

/** Removes every rule that carries one of `tags`. */
export async function removeTagged(backend: Backend, tags: readonly string[], saved?: string): Promise<void> {
  if (tags.length === 0) return;
  await applyRules(backend, deletions(taggedRules(saved ?? await saveRules(backend), tags)));
}
