/**
 * A client of the OCI distribution API (pull side): manifests and blobs, with the registry's own auth
 * (a Bearer token fetched from the challenge's realm, or Basic), Docker's error wording.
 */
import { HuskError, InvalidInputError } from "../errors.ts";
import { basicAuth, type Challenge, type Credentials, parseChallenge, tokenUrl } from "./auth.ts";
import { sha256 } from "./digest.ts";
import { INDEX_TYPES, MANIFEST_TYPES, MediaType } from "./oci.ts";
import {
  apiHost,
  familiar,
  familiarRepository,
  isLoopback,
  type Reference,
  repository,
} from "./reference.ts";
import { DigestMismatchError } from "./staging.ts";

/** Every manifest type husk reads: a registry answers 404 for an OCI manifest unless asked for it. */
const ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerList, MediaType.dockerManifest]
  .join(", ");

/** A manifest is read whole: Docker's limit keeps a hostile registry from filling memory. */
const MAX_MANIFEST = 4 * 1024 * 1024;

export interface Fetched {
  mediaType: string;
  bytes: Uint8Array;
  digest: string;
}

export class RegistryClient {
  #authorization: string | undefined;

  constructor(
    readonly domain: string,
    readonly options: { insecure?: boolean; credentials?: Credentials } = {},
  ) {
    if (options.insecure && !isLoopback(domain)) {
      throw new InvalidInputError(`--insecure is for registries on this machine only, not ${domain}`);
    }
  }

  get base(): string {
    return `${this.options.insecure ? "http" : "https"}://${apiHost(this.domain)}/v2`;
  }

  /** GET with the registry's auth: on a 401, answer its challenge once and try again. */
  async get(
    path: string,
    headers: Record<string, string>,
    scope: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = `${this.base}${path}`;
    const attempt = () =>
      fetch(url, {
        headers: { ...headers, ...(this.#authorization ? { Authorization: this.#authorization } : {}) },
        signal,
      });
    let response: Response;
    try {
      response = await attempt();
      if (response.status === 401) {
        const challenge = parseChallenge(response.headers.get("www-authenticate") ?? "");
        await response.body?.cancel();
        if (challenge) {
          this.#authorization = await this.#authorize(challenge, scope);
          response = await attempt();
        }
      }
    } catch (e) {
      if (e instanceof HuskError) throw e;
      throw new HuskError(`Get "${url}": ${(e as Error).message}`);
    }
    return response;
  }

  async #authorize(challenge: Challenge, scope: string): Promise<string> {
    const credentials = this.options.credentials;
    if (challenge.scheme === "basic") {
      if (!credentials) {
        throw new HuskError(
          `Error response from daemon: ${this.domain}: no basic auth credentials: run 'husk login'`,
        );
      }
      return basicAuth(credentials);
    }
    const response = await fetch(tokenUrl(challenge, scope), {
      headers: credentials ? { Authorization: basicAuth(credentials) } : {},
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new HuskError(
        `${this.domain}: the token service answered ${response.status}: check 'husk login'`,
      );
    }
    const body = await response.json();
    return `Bearer ${body.token ?? body.access_token}`;
  }

  /** The manifest (or index) that `reference` (a tag or digest) names, checked against a digest reference. */
  async manifest(ref: Reference, reference: string): Promise<Fetched> {
    const response = await this.get(`/${ref.path}/manifests/${reference}`, { Accept: ACCEPT }, scope(ref));
    if (!response.ok) throw await registryError(response, ref);
    const tooLarge = () =>
      new HuskError(`${familiar(ref)}: the manifest is larger than ${MAX_MANIFEST} bytes`);
    if (Number(response.headers.get("content-length") ?? 0) > MAX_MANIFEST) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > MAX_MANIFEST) throw tooLarge();
    const digest = sha256(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new DigestMismatchError(
        `manifest ${reference} failed verification: its content has digest ${digest}`,
      );
    }
    const mediaType = response.headers.get("content-type")?.split(";")[0].trim() ||
      JSON.parse(new TextDecoder().decode(bytes)).mediaType;
    if (!INDEX_TYPES.includes(mediaType) && !MANIFEST_TYPES.includes(mediaType)) {
      throw new HuskError(`${familiar(ref)}: unsupported manifest type "${mediaType}"`);
    }
    return { mediaType, bytes, digest };
  }

  /** A blob's content, unverified (the store checks it against its digest as it is written). */
  async blob(ref: Reference, digest: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.get(`/${ref.path}/blobs/${digest}`, {}, scope(ref), signal);
    if (!response.ok || !response.body) throw await registryError(response, ref);
    return response.body;
  }

  /** Checks credentials against the registry's API root (for `husk login`). */
  async ping(): Promise<void> {
    const response = await this.get("/", {}, "registry:catalog:*");
    await response.body?.cancel();
    if (response.status === 401) throw new HuskError(`login to ${this.domain} failed: unauthorized`);
    if (!response.ok) throw new HuskError(`login to ${this.domain} failed: ${response.status}`);
  }
}

const scope = (ref: Reference) => `repository:${ref.path}:pull`;

/** Docker's wording for a failed pull. */
async function registryError(response: Response, ref: Reference): Promise<HuskError> {
  let code = "";
  try {
    code = (await response.json()).errors?.[0]?.code ?? "";
  } catch {
    // Not the API's JSON.
  }
  const name = familiarRepository(repository(ref));
  if (response.status === 401 || response.status === 403 || code === "NAME_UNKNOWN") {
    return new HuskError(
      `Error response from daemon: pull access denied for ${name}, repository does not exist or may require 'husk login'`,
    );
  }
  if (code === "MANIFEST_UNKNOWN" || (response.status === 404 && code === "")) {
    return new HuskError(
      `Error response from daemon: manifest for ${
        familiar(ref)
      } not found: manifest unknown: manifest unknown`,
    );
  }
  return new HuskError(`Error response from daemon: ${familiar(ref)}: ${response.status} ${code}`.trim());
}
