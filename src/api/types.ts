/**
 * aviary's API: Canary, MetricTemplate and AlertProvider in `aviary.dev/v1beta1`.
 *
 * The specs are field-compatible with Flagger's `flagger.app/v1beta1` so that a Flagger
 * manifest works after changing only its apiVersion. Field names and meanings follow
 * Flagger; aviary-only additions are marked as such. Keep exported names stable: the
 * controller, routers, metrics, webhook and CLI all import from here.
 */
import type { KubeObject, ObjectMeta } from "../kube/types.ts";

export const GROUP = "aviary.dev";
export const VERSION = "v1beta1";
export const API_VERSION = "aviary.dev/v1beta1";

export const KIND_CANARY = "Canary";
export const KIND_METRIC_TEMPLATE = "MetricTemplate";
export const KIND_ALERT_PROVIDER = "AlertProvider";

// ---------------------------------------------------------------------------------------
// Enumerations (arrays are the single source; the string unions derive from them)
// ---------------------------------------------------------------------------------------

/** The lifecycle phases of a Canary, in Flagger's order and spelling. */
export const CANARY_PHASES = [
  "Initializing",
  "Initialized",
  "Waiting",
  "Progressing",
  "WaitingPromotion",
  "Promoting",
  "Finalising",
  "Succeeded",
  "Failed",
  "Terminating",
  "Terminated",
] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

/** Router (traffic) providers: the names of api/providers.ts's table. */
export { DEFAULT_ROUTER_PROVIDER, ROUTER_PROVIDERS } from "./providers.ts";
export type { RouterProvider } from "./providers.ts";

/** Kinds a Canary can target. DaemonSet support is planned; until then it is rejected. */
export const TARGET_KINDS = ["Deployment"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const METRIC_PROVIDER_TYPES = ["prometheus", "cloudwatch", "datadog", "newrelic", "web", "graphite", "influxdb", "dynatrace", "splunk", "externalmetrics", "keptn", "stackdriver"] as const;
export type MetricProviderType = (typeof METRIC_PROVIDER_TYPES)[number];

/** Metrics that need no MetricTemplate: aviary ships a PromQL query per router. */
export const BUILTIN_METRICS = ["request-success-rate", "request-duration"] as const;
export type BuiltinMetric = (typeof BUILTIN_METRICS)[number];

/** `webhook` posts a generic JSON body to any URL. */
export const ALERT_PROVIDER_TYPES = ["slack", "msteams", "discord", "webhook"] as const;
export type AlertProviderType = (typeof ALERT_PROVIDER_TYPES)[number];

export const ALERT_SEVERITIES = ["info", "warn", "error"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const WEBHOOK_TYPES = [
  "confirm-rollout",
  "pre-rollout",
  "rollout",
  "confirm-traffic-increase",
  "confirm-promotion",
  "post-rollout",
  "rollback",
  "event",
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];
/** Flagger treats a webhook without `type` as a `rollout` hook. */
export const DEFAULT_WEBHOOK_TYPE: WebhookType = "rollout";

/** What a metric check does when the provider returns no data. aviary-only (Flagger fails). */
export const ON_NO_DATA_POLICIES = ["fail", "pass", "skip"] as const;
export type OnNoDataPolicy = (typeof ON_NO_DATA_POLICIES)[number];

export const ANALYSIS_VERDICTS = ["pass", "fail", "nodata", "error", "skip"] as const;
export type AnalysisVerdict = (typeof ANALYSIS_VERDICTS)[number];

export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

// ---------------------------------------------------------------------------------------
// Names aviary writes onto objects
// ---------------------------------------------------------------------------------------

/** The pod-template hash of the revision a Deployment carries (set by the mutating webhook). */
export const ANNOTATION_REVISION = "aviary.dev/revision";
/** The user whose request produced that revision. */
export const ANNOTATION_CHANGED_BY = "aviary.dev/changed-by";
/** The replica count a client asked for on a target whose replicas aviary guards. */
export const ANNOTATION_DESIRED_REPLICAS = "aviary.dev/desired-replicas";
/** On a Canary: set (to any new value, e.g. a timestamp) to retry a failed revision. */
export const ANNOTATION_RETRY = "aviary.dev/retry";
/** On a Canary: a request to promote now, skipping the remaining steps. */
export const ANNOTATION_PROMOTE = "aviary.dev/promote";
/** On a Canary: a request to abort the current run and roll back. */
export const ANNOTATION_ABORT = "aviary.dev/abort";
/** On a Canary: "true" holds the run at its current step until removed. */
export const ANNOTATION_PAUSED = "aviary.dev/paused";

/** Label on every object aviary generates and on targets it manages; value = Canary name. */
export const LABEL_CANARY = "aviary.dev/canary";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "aviary";

export const FINALIZER = "aviary.dev/finalizer";

/** The condition type that `kubectl wait --for=condition=Promoted` and GitOps tools read. */
export const CONDITION_PROMOTED = "Promoted";

// ---------------------------------------------------------------------------------------
// Canary spec
// ---------------------------------------------------------------------------------------

export interface LocalObjectReference {
  apiVersion?: string;
  kind?: string;
  name: string;
}

/** A reference to an object in another (or the same) namespace. */
export interface CrossNamespaceObjectReference {
  name: string;
  namespace?: string;
}

export interface ScalerReplicas {
  minReplicas?: number;
  maxReplicas?: number;
}

export interface AutoscalerReference extends LocalObjectReference {
  /** KEDA ScaledObject only: queries for the primary's scaler (Flagger). */
  primaryScalerQueries?: Record<string, string>;
  primaryScalerReplicas?: ScalerReplicas;
}

export interface CustomMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Istio-style string match; exactly one member is meant to be set. */
export interface StringMatch {
  exact?: string;
  prefix?: string;
  suffix?: string;
  regex?: string;
}

/**
 * An HTTP request match (Istio's HTTPMatchRequest, which Flagger reuses for every router).
 * A/B cookies are matched through `headers.cookie`, as in Flagger.
 */
export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
  ignoreUriCase?: boolean;
  [field: string]: unknown;
}

export interface HTTPRewrite {
  uri?: string;
  authority?: string;
  [field: string]: unknown;
}

export interface HTTPRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
  [field: string]: unknown;
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

export interface CorsPolicy {
  allowOrigin?: string[];
  allowOrigins?: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: string;
  allowCredentials?: boolean;
  [field: string]: unknown;
}

/** Gateway API ParentReference. */
export interface GatewayRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface CanaryService {
  /** Name of the apex Service; defaults to the target's name. */
  name?: string;
  port: number;
  /** Default "http". */
  portName?: string;
  /** Container port number or name; defaults to `port`. */
  targetPort?: number | string;
  portDiscovery?: boolean;
  appProtocol?: string;
  /** Route timeout as a duration (istio, appmesh, gatewayapi). */
  timeout?: string;
  gateways?: string[];
  gatewayRefs?: GatewayRef[];
  hosts?: string[];
  match?: HTTPMatchRequest[];
  rewrite?: HTTPRewrite;
  retries?: HTTPRetry;
  headers?: Headers;
  corsPolicy?: CorsPolicy;
  /** Istio DestinationRule traffic policy; passed through unchanged. */
  trafficPolicy?: Record<string, unknown>;
  /** App Mesh mesh name. */
  meshName?: string;
  /** App Mesh virtual-service backends. */
  backends?: string[];
  apex?: CustomMetadata;
  primary?: CustomMetadata;
  canary?: CustomMetadata;
}

export interface SessionAffinity {
  cookieName: string;
  /** Seconds; Flagger's default is 86400. */
  maxAge?: number;
}

export interface CanaryAlert {
  name: string;
  severity?: AlertSeverity;
  providerRef: CrossNamespaceObjectReference;
}

export interface ThresholdRange {
  min?: number;
  max?: number;
}

export interface CanaryMetric {
  name: string;
  interval?: string;
  /** Legacy Flagger field: a lower bound for request-success-rate, an upper bound otherwise. */
  threshold?: number;
  thresholdRange?: ThresholdRange;
  /** Inline PromQL against `spec.metricsServer` (legacy Flagger field). */
  query?: string;
  templateRef?: CrossNamespaceObjectReference;
  templateVariables?: Record<string, string>;
  /** aviary-only: how "no data" counts. Default "fail". */
  onNoData?: OnNoDataPolicy;
  // aviary-only, Argo Rollouts' meaning (see README "The step schedule"):
  /** Failed measurements tolerated; the run fails when they exceed it. Judged apart from `analysis.threshold`. */
  failureLimit?: number;
  /** Consecutive provider errors tolerated; the run fails when they exceed it. */
  consecutiveErrorLimit?: number;
  /** Measurements taken, `interval` apart (per step for a metric bound by `steps`, else per run). */
  count?: number;
  /** Duration from the start of the metric's step (or `fromStep`) to its first measurement. */
  initialDelay?: string;
  /** With `analysis.steps`: the metric applies from this step index on (0-based). */
  fromStep?: number;
  /** With `analysis.steps`: the metric applies only at these step indexes (0-based). */
  steps?: number[];
}

/** aviary-only: one entry of `analysis.steps`. */
export interface CanaryStep {
  /** Canary weight, 0..100, greater than the previous step's. */
  weight: number;
  /** Duration to hold the weight, counted from when it was set; checks run every interval meanwhile. */
  pause?: string;
}

export interface CanaryWebhook {
  name: string;
  type?: WebhookType;
  url: string;
  /** Duration; default 10s. */
  timeout?: string;
  metadata?: Record<string, string>;
  retries?: number;
  muteAlert?: boolean;
}

export interface CanaryAnalysis {
  /** Duration between checks; default 60s. */
  interval?: string;
  /** Failed checks before rollback; default 1. */
  threshold?: number;
  maxWeight?: number;
  stepWeight?: number;
  stepWeights?: number[];
  /** aviary-only: an explicit schedule; replaces stepWeight, stepWeights and maxWeight. */
  steps?: CanaryStep[];
  stepWeightPromotion?: number;
  /** Blue/green and A/B: number of checks before promotion. */
  iterations?: number;
  /** A/B: requests that match go to the canary. */
  match?: HTTPMatchRequest[];
  mirror?: boolean;
  mirrorWeight?: number;
  primaryReadyThreshold?: number;
  canaryReadyThreshold?: number;
  sessionAffinity?: SessionAffinity;
  alerts?: CanaryAlert[];
  metrics?: CanaryMetric[];
  webhooks?: CanaryWebhook[];
}

export interface CanarySpec {
  /** Router provider; see ROUTER_PROVIDERS. Empty means "kubernetes" (Flagger's default). */
  provider?: string;
  /** Prometheus address for builtin metrics and inline queries. */
  metricsServer?: string;
  targetRef: LocalObjectReference;
  autoscalerRef?: AutoscalerReference;
  ingressRef?: LocalObjectReference;
  service: CanaryService;
  analysis?: CanaryAnalysis;
  progressDeadlineSeconds?: number;
  skipAnalysis?: boolean;
  suspend?: boolean;
  revertOnDeletion?: boolean;
}

// ---------------------------------------------------------------------------------------
// Canary status
// ---------------------------------------------------------------------------------------

export interface CanaryCondition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

/** One check of the last analysis: what was measured against what, and the verdict. aviary-only. */
export interface AnalysisResult {
  name: string;
  kind: "metric" | "webhook";
  query?: string;
  value?: number;
  min?: number;
  max?: number;
  verdict: AnalysisVerdict;
  message: string;
  /** ISO 8601. */
  time: string;
}

export interface CanaryStatus {
  phase?: CanaryPhase;
  canaryWeight?: number;
  failedChecks?: number;
  iterations?: number;
  /** Hash of the target's pod template the controller last acted on. */
  lastAppliedSpec?: string;
  /** Hash of the pod template last promoted to the primary. */
  lastPromotedSpec?: string;
  /** `ConfigMap/<name>` or `Secret/<name>` -> content hash. */
  trackedConfigs?: Record<string, string>;
  previousSessionAffinityCookie?: string;
  /** ISO 8601. */
  lastTransitionTime?: string;
  conditions?: CanaryCondition[];
  // aviary-only fields
  observedGeneration?: number;
  lastAnalysis?: AnalysisResult[];
  /** ISO 8601: when the current run's analysis began (progress deadline, resume). */
  analysisStartedAt?: string;
  /** ISO 8601: when the last check ran, so a restarted controller waits out the interval. */
  lastCheckTime?: string;
  /** Consecutive metric-provider failures (not counted as failed checks). */
  providerErrors?: number;
  /** The revision (pod-template hash) of the canary under analysis. */
  canaryRevision?: string;
  /** With `analysis.steps`: the index of the step being held (its weight is canaryWeight). */
  stepIndex?: number;
  /** With `analysis.steps`: ISO 8601, when the current step's weight was set. */
  stepStartedAt?: string;
  /** With `analysis.steps`: each metric's tally in this run (limits, count, interval). */
  metricStates?: MetricState[];
}

/** aviary-only: what a step schedule remembers of one metric, so a restart resumes it. */
export interface MetricState {
  name: string;
  /** Measurements taken (in the current step for a metric bound by `steps`, else in the run). */
  measurements: number;
  /** Failed measurements, judged against failureLimit. */
  failures: number;
  /** Provider errors in a row, judged against consecutiveErrorLimit. */
  consecutiveErrors: number;
  /** ISO 8601. */
  lastMeasuredAt?: string;
  /** The step index the tally belongs to (metrics bound by `steps` start over at each). */
  step?: number;
  /** ISO 8601: when the metric began to apply; its initialDelay counts from here. */
  startedAt?: string;
}

export interface Canary extends KubeObject {
  apiVersion: string;
  kind: typeof KIND_CANARY;
  metadata: ObjectMeta;
  spec: CanarySpec;
  status?: CanaryStatus;
}

// ---------------------------------------------------------------------------------------
// MetricTemplate
// ---------------------------------------------------------------------------------------

export interface SecretReference {
  name: string;
}

export interface MetricTemplateProvider {
  type: MetricProviderType;
  /** Base URL of the provider's API (required for prometheus and web). */
  address?: string;
  /** Credentials (Flagger's keys: username/password, token, address, apiKey/applicationKey, …). */
  secretRef?: SecretReference;
  insecureSkipVerify?: boolean;
  /** CloudWatch region. */
  region?: string;
  /** CloudWatch: how far back GetMetricData looks (a duration). */
  window?: string;
  /** HTTP providers: the request method (web: GET or POST). */
  method?: string;
  /** HTTP providers: the request body. */
  body?: string;
}

export interface MetricTemplateSpec {
  provider: MetricTemplateProvider;
  /** A template: `{{ namespace }}`, `{{ target }}`, `{{ interval }}`, `{{ variables.x }}`, … */
  query: string;
}

export interface MetricTemplate extends KubeObject {
  apiVersion: string;
  kind: typeof KIND_METRIC_TEMPLATE;
  metadata: ObjectMeta;
  spec: MetricTemplateSpec;
  status?: { conditions?: CanaryCondition[] };
}

// ---------------------------------------------------------------------------------------
// AlertProvider
// ---------------------------------------------------------------------------------------

export interface AlertProviderSpec {
  type: AlertProviderType;
  channel?: string;
  username?: string;
  /** Webhook URL; may instead come from the Secret's `address` key. */
  address?: string;
  proxy?: string;
  secretRef?: SecretReference;
}

export interface AlertProvider extends KubeObject {
  apiVersion: string;
  kind: typeof KIND_ALERT_PROVIDER;
  metadata: ObjectMeta;
  spec: AlertProviderSpec;
  status?: { conditions?: CanaryCondition[] };
}
