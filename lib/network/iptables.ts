/**
 * The host firewall through iptables-restore and iptables-save. Whichever backend the host's `iptables`
 * alternative selects (nf_tables or legacy) is the one used, so husk's rules sit beside the host's own.
 */
import { deletions, restoreScript, type Rules, taggedRules } from "./firewall.ts";
import { runTool } from "./tool.ts";

export async function applyRules(rules: Rules): Promise<void> {
  const script = restoreScript(rules);
  if (script !== "") await runTool("iptables-restore", ["--noflush", "--wait"], script);
}

export function saveRules(): Promise<string> {
  return runTool("iptables-save", []);
}

/** Removes every rule that carries one of `tags`. */
export async function removeTagged(tags: readonly string[], saved?: string): Promise<void> {
  if (tags.length === 0) return;
  await applyRules(deletions(taggedRules(saved ?? await saveRules(), tags)));
}
