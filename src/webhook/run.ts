/**
 * Assembles the admission webhook from its parts, for main.ts: the certificate manager
 * (a directory locally, a Secret in-cluster), the caBundle patcher, the handlers and the
 * HTTPS server, wired so a renewed or replaced certificate is patched into the webhook
 * configurations first and then served, without a restart.
 */
import type { AddressInfo } from "node:net";
import type { KubeClient } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { RouterProvider } from "../api/types.ts";
import { patchWebhookCaBundles } from "./ca-bundle.ts";
import type { WebhookConfigurationNames } from "./ca-bundle.ts";
import { CertManager } from "./cert-manager.ts";
import { DirectoryCertStore, SecretCertStore } from "./cert-store.ts";
import type { CertStore } from "./cert-store.ts";
import { createDeploymentMutator } from "./mutate/deployment.ts";
import { WebhookServer } from "./server.ts";
import type { AdmissionMetrics } from "./server.ts";
import type { CanaryLookups } from "./validate/canary.ts";
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup, ApiKind } from "../api/groups.ts";
import { createAlertProviderValidator, createCanaryValidator, createMetricTemplateValidator } from "./validate/canary.ts";
import type { ManualEdit } from "./validate/generated.ts";
import { createGeneratedObjectGuard } from "./validate/generated.ts";
import { createScaleGuard } from "./validate/scale.ts";

export interface WebhookConfig {
  /** Default "0.0.0.0". */
  host?: string;
  /** Default 9443. */
  port?: number;
  /** Where certificates live: `{ dir: "certs" }` locally, `{ secret: {namespace, name} }` in-cluster. */
  certificates: { dir: string } | { secret: { namespace: string; name: string } };
  /** SANs of the serving certificate: serviceDnsNames(svc, ns) in-cluster, plus 127.0.0.1 locally. */
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  /** false: certificates are issued by someone else; aviary only loads and follows them. Default true. */
  issueCertificates?: boolean;
  /** How often the store is re-read (renewal, outside replacement). Default 60 s. */
  certPollIntervalMs?: number;
  /** Default 30 days. */
  renewBeforeMs?: number;
  /** Configurations whose caBundle aviary keeps current; empty lists patch nothing. */
  webhookConfigurations: WebhookConfigurationNames;
  /** aviary's own identities, e.g. `system:serviceaccount:aviary-system:aviary`. */
  aviaryUsers: readonly string[];
  /** Who else may edit generated objects; defaults in validate/generated.ts. */
  systemUsers?: readonly string[];
  systemGroups?: readonly string[];
  maxBodyBytes?: number;
  handlerTimeoutMs?: number;
  /** Time budget of the Deployment mutator (its webhook has a short timeout). Default 2 s. */
  deploymentTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** The operator-wide router for Canaries without spec.provider. */
  defaultProvider?: RouterProvider;
  /** The group Canary, MetricTemplate and AlertProvider are served in (--api-group). */
  api?: ApiGroup;
}

export interface WebhookDeps {
  log: Logger;
  /** Needed for a Secret store and for caBundle patching. */
  kube?: KubeClient;
  metrics?: AdmissionMetrics;
  /** Cluster lookups for Canary validation; without them only the static rules run. */
  lookups?: CanaryLookups;
  /** Wakes the controller for a Canary whose target got a new revision. */
  onRevision?: (namespace: string, canaryName: string) => void;
  /** Records an Event for an edit of a generated object let through by the opt-out annotation. */
  onManualEdit?: (edit: ManualEdit) => void;
}

export interface RunningWebhook {
  server: WebhookServer;
  certs: CertManager;
  address: AddressInfo;
  stop(): Promise<void>;
}

/** Whether a Canary exists, read from the API server. */
const canaryLookup = (kube: KubeClient, canary: ApiKind) => async (namespace: string, name: string, signal: AbortSignal): Promise<boolean> =>
  (await kube.get({ ...canary, namespace, name }, { signal })) !== null;

function storeFor(config: WebhookConfig, kube: KubeClient | undefined): CertStore {
  if ("dir" in config.certificates) return new DirectoryCertStore(config.certificates.dir);
  if (!kube) throw new Error("a Secret certificate store needs a KubeClient");
  return new SecretCertStore(kube, config.certificates.secret);
}

/** Loads or issues the certificate, patches the caBundle, and serves. Throws when no certificate can be had. */
export async function startWebhook(config: WebhookConfig, deps: WebhookDeps, signal?: AbortSignal): Promise<RunningWebhook> {
  const log = deps.log.child({ component: "webhook" });
  const certs = new CertManager({
    store: storeFor(config, deps.kube),
    dnsNames: config.dnsNames,
    ipAddresses: config.ipAddresses,
    issue: config.issueCertificates,
    pollIntervalMs: config.certPollIntervalMs,
    renewBeforeMs: config.renewBeforeMs,
    log,
  });

  const { mutating, validating } = config.webhookConfigurations;
  if (mutating.length + validating.length > 0) {
    if (!deps.kube) throw new Error("patching the webhook configurations' caBundle needs a KubeClient");
    const kube = deps.kube;
    // Registered before start, so the first certificate is patched in too. A failure is
    // retried at every certificate poll until it succeeds.
    certs.onChange(async (change) => {
      if (!change.caChanged) return;
      const results = await patchWebhookCaBundles(kube, config.webhookConfigurations, change.bundle.caCert, { signal });
      for (const r of results) {
        if (r.outcome === "missing") log.warn("webhook configuration not found; its caBundle is not managed", { kind: r.kind, name: r.name });
        else log.info("webhook caBundle checked", { kind: r.kind, name: r.name, outcome: r.outcome });
      }
    });
  }

  const bundle = await certs.start(signal);
  const server = new WebhookServer({
    handlers: [
      createDeploymentMutator({
        aviaryUsers: config.aviaryUsers, onRevision: deps.onRevision, timeoutMs: config.deploymentTimeoutMs,
        // Without a client nothing can be read, and the parking guard holds.
        ...(deps.kube ? { canaryExists: canaryLookup(deps.kube, config.api?.canary ?? DEFAULT_API.canary) } : {}),
      }),
      createCanaryValidator({ lookups: deps.lookups, defaultProvider: config.defaultProvider, ...(config.api ? { api: config.api } : {}) }),
      createMetricTemplateValidator(config.api),
      createAlertProviderValidator(config.api),
      createGeneratedObjectGuard({
        aviaryUsers: config.aviaryUsers,
        systemUsers: config.systemUsers,
        systemGroups: config.systemGroups,
        onManualEdit: deps.onManualEdit,
      }),
      createScaleGuard({
        aviaryUsers: config.aviaryUsers,
        ...(config.systemGroups ? { systemGroups: config.systemGroups } : {}),
        // Without a client nothing can be read, and a scale is never blocked on a guess.
        getDeployment: async (namespace, name, signal) =>
          deps.kube ? deps.kube.get({ apiVersion: "apps/v1", kind: "Deployment", namespace, name }, { signal }) : null,
      }),
    ],
    tls: bundle,
    log,
    metrics: deps.metrics,
    host: config.host,
    port: config.port,
    maxBodyBytes: config.maxBodyBytes,
    handlerTimeoutMs: config.handlerTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  // Registered after the caBundle patcher: a new CA is trusted before it is served.
  certs.onChange((change) => server.setCertificate(change.bundle));
  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    certs.stop();
    throw err;
  }
  return {
    server,
    certs,
    address,
    async stop() {
      certs.stop();
      await server.close();
    },
  };
}
