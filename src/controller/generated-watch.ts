/**
 * Watches on the objects aviary generates — the Services and every router's route objects —
 * selected by the label `app.kubernetes.io/managed-by: aviary`, so that one deleted or edited
 * by hand wakes its Canary (label `aviary.dev/canary`) at once and the reconcile restores
 * it, instead of waiting for the periodic resync. The primary Deployment and the `-primary`
 * config copies are already seen by the Deployment, ConfigMap and Secret watches.
 *
 * The user's Ingress whose action the alb router writes is not aviary's (the generated-object
 * guard must not lock its owner out), so it carries only the label `aviary.dev/canary`: a
 * second Ingress watch selects it by that label, so a hand edit of the action is seen at once.
 *
 * Route kinds whose CRD is not installed are not watched (checked once at start; a CRD
 * installed later is picked up at the next start), and none of these watches gates
 * readiness: they only make restores faster.
 */
import { LABEL_CANARY, LABEL_CANARY_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/types.ts";
import type { ClusterClient } from "../kube/client.ts";
import { createInformer } from "../kube/informer.ts";
import type { Informer } from "../kube/informer.ts";
import type { KubeObject } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";
import { APISIX_API_VERSION } from "../router/apisix.ts";
import { APPMESH_API_VERSION } from "../router/appmesh.ts";
import { CONTOUR_API_VERSION } from "../router/contour.ts";
import { GATEWAY_API_VERSION } from "../router/gatewayapi.ts";
import { GLOO_API_VERSION, GLOO_GATEWAY_API_VERSION } from "../router/gloo.ts";
import { ISTIO_API_VERSION } from "../router/istio.ts";
import { KUMA_API_VERSION } from "../router/kuma.ts";
import { SMI_API_VERSION } from "../router/smi.ts";
import { TRAEFIK_API_VERSION } from "../router/traefik.ts";

export const GENERATED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;
/** Objects of the user's that a router writes into, labelled with their Canary but not aviary's. */
export const WRITTEN_INTO_SELECTOR = `${LABEL_CANARY},${LABEL_MANAGED_BY}!=${MANAGED_BY_VALUE}`;

/** Every kind a router writes, plus the Services; the selector defaults to GENERATED_SELECTOR. */
export const GENERATED_KINDS: readonly { apiVersion: string; kind: string; selector?: string }[] = [
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "networking.k8s.io/v1", kind: "Ingress" },
  { apiVersion: "networking.k8s.io/v1", kind: "Ingress", selector: WRITTEN_INTO_SELECTOR },
  { apiVersion: GATEWAY_API_VERSION, kind: "HTTPRoute" },
  { apiVersion: ISTIO_API_VERSION, kind: "VirtualService" },
  { apiVersion: ISTIO_API_VERSION, kind: "DestinationRule" },
  { apiVersion: SMI_API_VERSION, kind: "TrafficSplit" },
  { apiVersion: APPMESH_API_VERSION, kind: "VirtualNode" },
  { apiVersion: APPMESH_API_VERSION, kind: "VirtualRouter" },
  { apiVersion: APPMESH_API_VERSION, kind: "VirtualService" },
  { apiVersion: CONTOUR_API_VERSION, kind: "HTTPProxy" },
  { apiVersion: TRAEFIK_API_VERSION, kind: "TraefikService" },
  { apiVersion: GLOO_API_VERSION, kind: "Upstream" },
  { apiVersion: GLOO_GATEWAY_API_VERSION, kind: "RouteTable" },
  // Cluster-scoped: watched across namespaces; its Canary's namespace is a label.
  { apiVersion: KUMA_API_VERSION, kind: "TrafficRoute" },
  { apiVersion: APISIX_API_VERSION, kind: "ApisixRoute" },
];

/** The Canary key a generated object belongs to, from its labels; undefined when unlabelled. */
export function owningCanaryKey(obj: KubeObject): string | undefined {
  const name = obj.metadata.labels?.[LABEL_CANARY];
  const ns = obj.metadata.namespace ?? obj.metadata.labels?.[LABEL_CANARY_NAMESPACE];
  return name && ns ? `${ns}/${name}` : undefined;
}

export interface GeneratedWatchOptions {
  client: ClusterClient;
  logger: Logger;
  namespace?: string | undefined;
  /** Called with the owning Canary's key on every change after the first list. */
  enqueue: (key: string) => void;
  /** Leave the Services out: another watch already reports their changes. */
  skipServices?: boolean;
}

export interface GeneratedWatch {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The labels owningCanaryKey reads; nothing else of the object is kept. */
const KEY_LABELS = [LABEL_CANARY, LABEL_CANARY_NAMESPACE];

const slim = (o: KubeObject): KubeObject => {
  const labels = Object.fromEntries(KEY_LABELS.filter((k) => o.metadata.labels?.[k] !== undefined).map((k) => [k, o.metadata.labels![k]!]));
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: o.metadata.name,
      ...(o.metadata.namespace !== undefined ? { namespace: o.metadata.namespace } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    },
  };
};

export function createGeneratedWatch(opts: GeneratedWatchOptions): GeneratedWatch {
  const informers: Informer<KubeObject>[] = [];
  let stopped = false;
  return {
    async start() {
      for (const k of GENERATED_KINDS) {
        if (opts.skipServices && k.kind === "Service") continue;
        try {
          await opts.client.discovery.resource(k.apiVersion, k.kind);
        } catch {
          continue; // CRD not installed: nothing of that kind can exist
        }
        if (stopped) return;
        const informer = createInformer<KubeObject>({
          client: opts.client, apiVersion: k.apiVersion, kind: k.kind, namespace: opts.namespace, logger: opts.logger,
          labelSelector: k.selector ?? GENERATED_SELECTOR,
          transform: slim,
          onEvent: (e) => {
            // The first list is what exists: the Canary watch already enqueues every Canary once.
            if (e.type === "added" && !informer.hasSynced()) return;
            const key = owningCanaryKey(e.object);
            // A cluster-scoped kind is listed across namespaces: only this controller's Canaries.
            if (key !== undefined && (opts.namespace === undefined || key.startsWith(`${opts.namespace}/`))) opts.enqueue(key);
          },
        });
        informers.push(informer);
        informer.start();
      }
    },
    async stop() {
      stopped = true;
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
