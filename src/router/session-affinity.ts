/**
 * Session affinity for weighted canaries (Flagger's cookie approach, shared by the routers
 * that support it): while the canary gets traffic, its responses set a cookie, and a route
 * placed before the weighted one sends requests carrying that cookie to the canary, so a
 * user who once landed on the canary stays there for the rest of the run. Once the canary
 * is back to 0%, requests still carrying the cookie go to the primary and get it expired.
 *
 * Flagger keeps a random cookie value in the Canary status. A router here cannot write
 * status, so the value is derived from the Canary's uid and the revision under analysis:
 * stable for the whole run (reconciles and restarts agree on it), new for every revision
 * (sticky users of an earlier run are not sent to a later canary), and not guessable from
 * outside the cluster. Pure.
 *
 * With `primaryCookieName` the primary side is sticky too (Flagger's primary cookie): the
 * primary's responses on the weighted route set that cookie and a route sends its carriers
 * to the primary, so users do not move to the canary as its weight grows; at 0% it is
 * expired like the canary's.
 */
import { createHash } from "node:crypto";
import { DEFAULT_SESSION_AFFINITY_MAX_AGE } from "../api/defaults.ts";
import type { Canary } from "../api/types.ts";

export const SET_COOKIE_HEADER = "Set-Cookie";

export interface SessionCookie {
  name: string;
  value: string;
  /** The Set-Cookie value the canary's responses carry. */
  setCookie: string;
  /** The Set-Cookie value that removes the cookie from the browser. */
  expireCookie: string;
  /** A regular expression matching a Cookie request header that carries this cookie (RE2 and PCRE compatible). */
  cookieHeaderRegex: string;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The session cookie for the Canary's current run, or undefined when session affinity is
 * off. It only applies to progressive canaries: an A/B run already pins users by its match.
 */
export function sessionCookie(canary: Canary): SessionCookie | undefined {
  const name = canary.spec.analysis?.sessionAffinity?.cookieName;
  return name ? cookieOf(canary, name, "") : undefined;
}

/** The cookie pinning users to the primary during the run (`primaryCookieName`), or undefined. */
export function primarySessionCookie(canary: Canary): SessionCookie | undefined {
  const name = canary.spec.analysis?.sessionAffinity?.primaryCookieName;
  return name && sessionCookie(canary) !== undefined ? cookieOf(canary, name, "/primary") : undefined;
}

function cookieOf(canary: Canary, name: string, side: string): SessionCookie | undefined {
  const affinity = canary.spec.analysis?.sessionAffinity;
  if (affinity === undefined) return undefined;
  if ((canary.spec.analysis?.match ?? []).length > 0) return undefined;
  const revision = canary.status?.canaryRevision ?? canary.status?.lastAppliedSpec ?? "";
  const value = createHash("sha256").update(`${canary.metadata.uid ?? canary.metadata.name}/${revision}${side}`).digest("hex").slice(0, 20);
  const maxAge = affinity.maxAge ?? DEFAULT_SESSION_AFFINITY_MAX_AGE;
  // Flagger's cookie attributes; the expiring cookie must name the same Domain and Path to replace it.
  const attributes = [`Path=${affinity.path || "/"}`];
  if (affinity.domain) attributes.push(`Domain=${affinity.domain}`);
  if (affinity.httpOnly === true) attributes.push("HttpOnly");
  if (affinity.secure === true) attributes.push("Secure");
  if (affinity.sameSite) attributes.push(`SameSite=${affinity.sameSite}`);
  if (affinity.partitioned === true) attributes.push("Partitioned");
  const tail = attributes.join("; ");
  return {
    name,
    value,
    setCookie: `${name}=${value}; Max-Age=${maxAge}; ${tail}`,
    expireCookie: `${name}=${value}; Max-Age=0; ${tail}`,
    cookieHeaderRegex: `^(.*;\\s*)?${escapeRegex(name)}=${value}(\\s*;.*)?$`,
  };
}
