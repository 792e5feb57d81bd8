/**
 * Registry authentication: the WWW-Authenticate challenge (Bearer realm/service/scope, or Basic) and the
 * credentials `husk login` keeps in <state root>/auth.json (Docker's config.json "auths" shape). The
 * parsing is pure; reading and writing the file is at the end.
 */
import type { StatePaths } from "../state/paths.ts";
import { writeAtomic } from "../state/store.ts";
import { readJsonIfExists } from "../files.ts";

export interface Challenge {
  scheme: "bearer" | "basic";
  params: Record<string, string>;
}

/** `Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"`. */
export function parseChallenge(header: string): Challenge | null {
  const m = header.match(/^\s*(\w+)\s*(.*)$/);
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  if (scheme !== "bearer" && scheme !== "basic") return null;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
  }
  return { scheme, params };
}

/** The token endpoint's URL for a Bearer challenge and the scope husk needs. */
export function tokenUrl(challenge: Challenge, scope: string): string {
  const url = new URL(challenge.params.realm);
  if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
  url.searchParams.set("scope", challenge.params.scope ?? scope);
  return url.toString();
}

export interface Credentials {
  username: string;
  password: string;
}

export const basicAuth = (c: Credentials) => `Basic ${btoa(`${c.username}:${c.password}`)}`;

interface AuthFile {
  auths: Record<string, { auth: string }>;
}

const authFile = (paths: StatePaths) => `${paths.root}/auth.json`;

function readAuthFile(paths: StatePaths): AuthFile {
  return readJsonIfExists<AuthFile>(authFile(paths)) ?? { auths: {} };
}

/** The saved credentials for a registry domain, if any. */
export function savedCredentials(paths: StatePaths, domain: string): Credentials | undefined {
  const entry = readAuthFile(paths).auths[domain];
  if (!entry) return undefined;
  const text = atob(entry.auth);
  const colon = text.indexOf(":");
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Saves credentials for a domain (the file is readable by root only). */
export function saveCredentials(paths: StatePaths, domain: string, c: Credentials): void {
  const file = readAuthFile(paths);
  file.auths[domain] = { auth: btoa(`${c.username}:${c.password}`) };
  Deno.mkdirSync(paths.root, { recursive: true });
  writeAtomic(authFile(paths), JSON.stringify(file, null, 2));
  Deno.chmodSync(authFile(paths), 0o600);
}
