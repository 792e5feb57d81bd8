/**
 * Image references as Docker reads them: `[REGISTRY/]NAME[:TAG][@DIGEST]`, with Docker Hub's defaults
 * (`alpine` is docker.io/library/alpine:latest). Pure.
 */
import { InvalidInputError } from "../errors.ts";

export const DEFAULT_DOMAIN = "docker.io";
/** Docker Hub's API lives on another host than its name. */
const DOCKER_HUB_API = "registry-1.docker.io";

export interface Reference {
  /** The registry's host[:port], e.g. "docker.io" or "127.0.0.1:5000". */
  domain: string;
  /** The repository path inside the registry, e.g. "library/alpine". */
  path: string;
  /** The tag; "latest" when neither a tag nor a digest was given. */
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses a reference; an error names what is wrong with it. */
export function parseReference(text: string): Reference {
  const bad = (why: string) => new InvalidInputError(`invalid reference format "${text}": ${why}`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad("a digest is sha256: and 64 lowercase hex digits");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag "${tag}" must be letters, digits, "_", "." and "-"`);
  }
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  const hasDomain = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  const domain = hasDomain ? first : DEFAULT_DOMAIN;
  let path = hasDomain ? rest.slice(slash + 1) : rest;
  if (path === "") throw bad("the name is empty");
  if (!path.split("/").every((c) => COMPONENT.test(c))) {
    throw bad("repository names are lowercase letters, digits and separators (., _, __, -)");
  }
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  return { domain, path, tag: tag ?? (digest ? undefined : "latest"), digest };
}

/** The full repository name: "docker.io/library/alpine". */
export function repository(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical text: "docker.io/library/alpine:latest" or "...@sha256:...". */
export function canonical(ref: Reference): string {
  return repository(ref) + (ref.tag !== undefined ? `:${ref.tag}` : "") +
    (ref.digest ? `@${ref.digest}` : "");
}

/** The repository as Docker shows it: Docker Hub's domain and "library/" left out. */
export function familiarRepository(repo: string): string {
  const prefix = `${DEFAULT_DOMAIN}/`;
  if (!repo.startsWith(prefix)) return repo;
  const path = repo.slice(prefix.length);
  return path.startsWith("library/") && path.split("/").length === 2 ? path.slice("library/".length) : path;
}

/** The reference as Docker shows it in messages: "alpine:latest". */
export function familiar(ref: Reference): string {
  return familiarRepository(repository(ref)) + (ref.tag !== undefined ? `:${ref.tag}` : "") +
    (ref.digest ? `@${ref.digest}` : "");
}

/** A registry on this machine (which Docker lets answer in plain HTTP). */
export function isLoopback(domain: string): boolean {
  return /^(localhost|127(\.\d+){3}|\[::1\])(:\d+)?$/.test(domain);
}

/** The host that serves the registry API for a domain. */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_API : domain;
}
