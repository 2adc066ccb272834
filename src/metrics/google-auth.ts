/**
 * Access tokens for Google Cloud APIs, the two ways Flagger's client library gets them:
 *
 * - from a service-account key (the Secret's `serviceAccountKey`, the JSON file Google
 *   issues): a JWT signed with the key's RSA private key (RS256) is exchanged at the key's
 *   `token_uri` for an access token (OAuth 2.0 JWT bearer grant, RFC 7523);
 * - without a key, from the metadata server of the node or of GKE Workload Identity
 *   (`/computeMetadata/v1/instance/service-accounts/default/token`).
 *
 * Tokens are kept in a cache owned by the registry, until a minute before they expire.
 */
import { createPrivateKey, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { MetricConfigError, ProviderError } from "./types.ts";
import { assertOk, httpRequest, parseJsonBody } from "./http.ts";

export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
export const GCE_METADATA_ADDRESS = "http://metadata.google.internal";
export const MONITORING_READ_SCOPE = "https://www.googleapis.com/auth/monitoring.read";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const EXPIRY_MARGIN_MS = 60_000;

export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId?: string;
  tokenUri: string;
}

/** Access tokens by credential, shared by the providers one registry builds. */
export type GoogleTokenCache = Map<string, { token: string; expiresAt: number }>;

export interface GoogleTokenOptions {
  timeoutMs: number;
  now: () => Date;
  cache: GoogleTokenCache;
  /** Where the metadata server answers (tests point it at a local server). */
  metadataAddress?: string;
  scope?: string;
}

/** The fields of a service-account key file aviary needs; a MetricConfigError names what is wrong. */
export function parseServiceAccountKey(json: string): ServiceAccountKey {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new MetricConfigError("serviceAccountKey is not JSON (expected a Google service account key file)");
  }
  if (parsed === null || typeof parsed !== "object") throw new MetricConfigError("serviceAccountKey is not a JSON object");
  if (parsed.type !== undefined && parsed.type !== "service_account") {
    throw new MetricConfigError(`serviceAccountKey has type "${String(parsed.type)}"; expected "service_account"`);
  }
  const { client_email: clientEmail, private_key: pem, private_key_id: keyId, token_uri: tokenUri } = parsed;
  if (typeof clientEmail !== "string" || clientEmail === "") throw new MetricConfigError("serviceAccountKey has no client_email");
  if (typeof pem !== "string" || pem === "") throw new MetricConfigError("serviceAccountKey has no private_key");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new MetricConfigError("serviceAccountKey.private_key is not a PEM private key");
  }
  return {
    clientEmail,
    privateKey,
    ...(typeof keyId === "string" ? { privateKeyId: keyId } : {}),
    tokenUri: typeof tokenUri === "string" && tokenUri !== "" ? tokenUri : GOOGLE_TOKEN_URI,
  };
}

/** The signed assertion of the JWT bearer grant: RS256 over `header.claims`, base64url. */
export function serviceAccountAssertion(key: ServiceAccountKey, scope: string, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
  const claims = { iss: key.clientEmail, scope, aud: key.tokenUri, iat, exp: iat + 3600 };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign("RSA-SHA256", Buffer.from(input), key.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/** An access token for the key (or, without one, the metadata server's identity). */
export async function googleAccessToken(key: ServiceAccountKey | undefined, opts: GoogleTokenOptions, signal?: AbortSignal): Promise<string> {
  const scope = opts.scope ?? MONITORING_READ_SCOPE;
  const metadata = (opts.metadataAddress ?? GCE_METADATA_ADDRESS).replace(/\/+$/, "");
  const cacheKey = key ? `${key.clientEmail}|${key.privateKeyId ?? ""}|${key.tokenUri}|${scope}` : `metadata|${metadata}`;
  const cached = opts.cache.get(cacheKey);
  const nowMs = opts.now().getTime();
  if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > nowMs) return cached.token;

  const what = key ? `google token exchange for ${key.clientEmail}` : "google metadata server token";
  const res = key
    ? await httpRequest({
        url: key.tokenUri,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: serviceAccountAssertion(key, scope, opts.now()) }).toString(),
        timeoutMs: opts.timeoutMs,
        signal,
      })
    : await httpRequest({
        url: `${metadata}/computeMetadata/v1/instance/service-accounts/default/token`,
        headers: { "Metadata-Flavor": "Google", accept: "application/json" },
        timeoutMs: opts.timeoutMs,
        signal,
      });
  const body = parseJsonBody(what, res) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | null;
  const detail = typeof body?.error_description === "string" ? body.error_description : typeof body?.error === "string" ? body.error : undefined;
  assertOk(what, res, detail);
  if (typeof body?.access_token !== "string" || body.access_token === "") {
    throw new ProviderError(`${what}: the answer has no access_token`, { status: res.status, code: "MalformedResponse", retryable: false });
  }
  const expiresIn = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 3600;
  opts.cache.set(cacheKey, { token: body.access_token, expiresAt: nowMs + expiresIn * 1000 });
  return body.access_token;
}
