/**
 * Keeps the webhook's serving certificate valid: loads it from a CertStore, issues one
 * when there is none, renews it before expiry, notices when someone else replaced it,
 * and tells listeners (the server's TLS context, the caBundle patcher) about each change.
 */
import type { Logger } from "../observability/logger.ts";
import type { CertBundle } from "./certs.ts";
import {
  bundleProblem,
  coversNames,
  DEFAULT_SERVING_VALIDITY_DAYS,
  DEFAULT_CA_VALIDITY_DAYS,
  generateCa,
  generateServingCert,
  needsRenewal,
  sameBundle,
} from "./certs.ts";
import type { CertStore } from "./cert-store.ts";
import { CertStoreConflict } from "./cert-store.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertPolicy {
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** Renew the serving certificate when it expires within this window. */
  renewBeforeMs: number;
  servingValidityDays: number;
}

export type CertPlan =
  | { action: "use"; bundle: CertBundle }
  | { action: "issue-serving"; reason: string }
  | { action: "issue-all"; reason: string };

/**
 * What to do with the stored bundle. Pure: decides from the material and the clock only.
 * The CA is reused while it can sign a serving certificate that expires before it does;
 * otherwise everything is issued anew (and the caBundle changes).
 */
export function planCertificates(stored: CertBundle | null, now: Date, policy: CertPolicy): CertPlan {
  if (stored === null) return { action: "issue-all", reason: "no certificate stored" };
  const caReusable = (): boolean =>
    stored.caKey !== undefined &&
    bundleProblem({ ...stored, cert: stored.caCert, key: stored.caKey }) === null &&
    !needsRenewal(stored.caCert, now, policy.renewBeforeMs + policy.servingValidityDays * DAY_MS);
  const issue = (reason: string): CertPlan =>
    caReusable() ? { action: "issue-serving", reason } : { action: "issue-all", reason };

  const problem = bundleProblem(stored);
  if (problem !== null) return issue(problem);
  if (needsRenewal(stored.cert, now, policy.renewBeforeMs)) return issue("the serving certificate expires soon");
  if (!coversNames(stored.cert, policy.dnsNames, policy.ipAddresses)) {
    return issue("the serving certificate does not name every configured DNS name and IP");
  }
  if (needsRenewal(stored.caCert, now, policy.renewBeforeMs)) {
    return { action: "issue-all", reason: "the CA expires soon" };
  }
  return { action: "use", bundle: stored };
}

export interface CertChange {
  bundle: CertBundle;
  previous: CertBundle | null;
  /** The CA certificate differs: the webhook configurations' caBundle must be patched. */
  caChanged: boolean;
  reason: "loaded" | "issued" | "external";
}

export type CertChangeListener = (change: CertChange) => void | Promise<void>;

export interface CertManagerOptions {
  store: CertStore;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  log: Logger;
  /** Default 30 days. */
  renewBeforeMs?: number;
  servingValidityDays?: number;
  caValidityDays?: number;
  /**
   * true (default): aviary issues and renews. false: the material is issued by someone
   * else (cert-manager, a mounted Secret); aviary only loads it and follows changes.
   */
  issue?: boolean;
  /** How often the store is re-read for renewals and outside changes. Default 60 s. */
  pollIntervalMs?: number;
  now?: () => Date;
  keyBits?: number;
}

export class CertManager {
  readonly #store: CertStore;
  readonly #log: Logger;
  readonly #policy: CertPolicy;
  readonly #caValidityDays: number;
  readonly #issue: boolean;
  readonly #pollIntervalMs: number;
  readonly #now: () => Date;
  readonly #keyBits: number;
  /** Each listener with the bundle it last accepted; a listener that threw is retried next pass. */
  readonly #listeners = new Map<CertChangeListener, CertBundle | null>();
  #current: CertBundle | null = null;
  #inflight: Promise<CertBundle> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = new AbortController();

  constructor(opts: CertManagerOptions) {
    this.#store = opts.store;
    this.#log = opts.log;
    this.#policy = {
      dnsNames: opts.dnsNames,
      ipAddresses: opts.ipAddresses ?? [],
      renewBeforeMs: opts.renewBeforeMs ?? 30 * DAY_MS,
      servingValidityDays: opts.servingValidityDays ?? DEFAULT_SERVING_VALIDITY_DAYS,
    };
    this.#caValidityDays = opts.caValidityDays ?? DEFAULT_CA_VALIDITY_DAYS;
    this.#issue = opts.issue ?? true;
    this.#pollIntervalMs = opts.pollIntervalMs ?? 60_000;
    this.#now = opts.now ?? (() => new Date());
    this.#keyBits = opts.keyBits ?? 2048;
  }

  /** The bundle in use; null before the first successful refresh. */
  current(): CertBundle | null {
    return this.#current;
  }

  /**
   * Subscribes to changes; returns the unsubscribe function. A listener added before
   * start() also receives the first bundle (previous null, caChanged true); one added
   * later is assumed to have the current bundle already. A listener that throws (e.g. the
   * caBundle patch while the API server is away) gets the change again at every poll
   * until it succeeds.
   */
  onChange(listener: CertChangeListener): () => void {
    this.#listeners.set(listener, this.#current);
    return () => this.#listeners.delete(listener);
  }

  /** First refresh (its failure is fatal to the caller), then a refresh every poll interval. */
  async start(signal?: AbortSignal): Promise<CertBundle> {
    const bundle = await this.refresh(signal);
    this.#stopped = new AbortController();
    this.#schedule();
    return bundle;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopped.abort();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.refresh(this.#stopped.signal)
        .catch((err: unknown) => this.#log.error("certificate refresh failed; retrying at the next poll", { err, store: this.#store.description }))
        .finally(() => {
          if (!this.#stopped.signal.aborted) this.#schedule();
        });
    }, this.#pollIntervalMs);
    // The server keeps the process alive; a pending poll must not.
    this.#timer.unref();
  }

  /** One pass: load, decide, issue and save when needed, adopt. Concurrent calls share a pass. */
  refresh(signal?: AbortSignal): Promise<CertBundle> {
    this.#inflight ??= this.#refresh(signal).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #refresh(signal?: AbortSignal): Promise<CertBundle> {
    const stored = await this.#store.load(signal);
    const now = this.#now();
    const plan = planCertificates(stored, now, this.#policy);
    if (plan.action === "use") return this.#adopt(plan.bundle, this.#current ? "external" : "loaded");

    if (!this.#issue) {
      if (stored && bundleProblem(stored) === null) {
        this.#log.warn("serving certificate needs renewal, but issuing is disabled", { reason: plan.reason, store: this.#store.description });
        return this.#adopt(stored, this.#current ? "external" : "loaded");
      }
      throw new Error(`no usable certificate in ${this.#store.description}: ${plan.reason}`);
    }

    this.#log.info("issuing webhook certificate", { reason: plan.reason, scope: plan.action, store: this.#store.description });
    const ca =
      plan.action === "issue-serving" && stored?.caKey !== undefined
        ? { cert: stored.caCert, key: stored.caKey }
        : await generateCa({ validityDays: this.#caValidityDays, now, keyBits: this.#keyBits });
    const serving = await generateServingCert({
      ca,
      dnsNames: this.#policy.dnsNames,
      ipAddresses: this.#policy.ipAddresses,
      validityDays: this.#policy.servingValidityDays,
      now,
      keyBits: this.#keyBits,
    });
    const bundle: CertBundle = { caCert: ca.cert, caKey: ca.key, cert: serving.cert, key: serving.key };
    try {
      await this.#store.save(bundle, signal);
    } catch (err) {
      if (!(err instanceof CertStoreConflict)) throw err;
      // Another replica issued first: use its bundle so both serve the same CA.
      const winner = await this.#store.load(signal);
      if (winner && planCertificates(winner, this.#now(), this.#policy).action === "use") {
        return this.#adopt(winner, this.#current ? "external" : "loaded");
      }
      throw err;
    }
    return this.#adopt(bundle, "issued");
  }

  async #adopt(bundle: CertBundle, reason: CertChange["reason"]): Promise<CertBundle> {
    if (!sameBundle(this.#current, bundle)) {
      this.#log.info("webhook certificate changed", {
        reason,
        caChanged: this.#current?.caCert !== bundle.caCert,
        store: this.#store.description,
      });
      this.#current = bundle;
    }
    for (const [listener, delivered] of this.#listeners) {
      if (sameBundle(delivered, bundle)) continue;
      const change: CertChange = { bundle, previous: delivered, caChanged: delivered?.caCert !== bundle.caCert, reason };
      try {
        await listener(change);
        this.#listeners.set(listener, bundle);
      } catch (err) {
        this.#log.error("certificate change listener failed; retrying at the next poll", { err });
      }
    }
    return bundle;
  }
}
