/**
 * aviary's API: Canary, MetricTemplate and AlertProvider in `aviary.dev/v1beta1`.
 *
 * The specs are field-compatible with Flagger's `flagger.app/v1beta1` so that a Flagger
 * manifest works after changing only its apiVersion. Field names and meanings follow
 * Flagger; aviary-only additions are marked as such. Keep exported names stable: the
 * controller, routers, metrics, webhook and CLI all import from here.
 */
import type { KubeObject, ObjectMeta } from "../kube/types.ts";
import { API_VERSION_NAME, DEFAULT_API } from "./groups.ts";

/** The default group (api/groups.ts); what serves the kinds at run time takes an ApiGroup. */
export const GROUP = DEFAULT_API.name;
export const VERSION = API_VERSION_NAME;
export const API_VERSION = DEFAULT_API.apiVersion;

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

/** Kinds a Canary can target (apps/v1). How aviary sizes, parks and reads each: ground/workloads.ts. */
export const TARGET_KINDS = ["Deployment", "DaemonSet"] as const;
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
/** On a cluster-scoped object aviary made (Kuma's TrafficRoute): the namespace of its Canary. */
export const LABEL_CANARY_NAMESPACE = "aviary.dev/canary-namespace";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "aviary";

export const FINALIZER = "aviary.dev/finalizer";

/** The condition type that `kubectl wait --for=condition=Promoted` and GitOps tools read. */
export const CONDITION_PROMOTED = "Promoted";
/** True while the spec sets fields the provider in effect ignores; the message names them. */
export const CONDITION_UNSUPPORTED = "Unsupported";

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
  /** Gateway API: `ReplaceFullPath` (default) or `ReplacePrefixMatch`. */
  type?: string;
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

/** A Gateway API backend that receives a copy of every request (HTTPRoute RequestMirror filter). */
export interface MirrorBackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

export interface ServiceMirror {
  backendRef: MirrorBackendRef;
}

/** Label and annotation keys on generated objects that other controllers own (Flagger). */
export interface UnmanagedMetadata {
  labels?: string[];
  annotations?: string[];
}

/** Another controller's object a Flagger provider routes through (APISIX route, Gloo upstream). */
export interface ProviderObjectReference extends LocalObjectReference {
  namespace?: string;
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
  /** Timeout of each backend request (gatewayapi: HTTPRoute timeouts.backendRequest). */
  backendTimeout?: string;
  /** istio: the VirtualService is a delegate (no hosts, no gateways). */
  delegation?: boolean;
  /** The generated Services are created headless (clusterIP None). */
  headless?: boolean;
  /** spec.trafficDistribution of the generated Services (PreferClose, PreferSameZone, PreferSameNode). */
  trafficDistribution?: string;
  /** gatewayapi: extra backends that receive a copy of every request. */
  mirror?: ServiceMirror[];
  /** Label and annotation keys aviary never writes on generated objects (other controllers own them). */
  unmanagedMetadata?: UnmanagedMetadata;
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
  /** istio, gatewayapi: a cookie pinning users who landed on the primary to it during a run. */
  primaryCookieName?: string;
  /** Attributes of the session cookie (istio, gatewayapi). */
  domain?: string;
  path?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: "Strict" | "Lax" | "None";
  partitioned?: boolean;
}

export interface CanaryAlert {
  name: string;
  /** Empty means info (Flagger accepts "" too). */
  severity?: AlertSeverity | "";
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
  /** aviary-only: judge the canary against the primary (see src/judge). */
  compare?: MetricCompare;
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

/**
 * aviary-only: `compare` on a metric. The canary fails it when its rate of bad events is
 * more than `tolerance` times the primary's, at the given confidence, over the whole run.
 */
export interface MetricCompare {
  /** Default 1.2. */
  tolerance?: number;
  /** Default 0.99. */
  confidence?: number;
  /** Requests each arm must have served before a verdict other than "not enough data"; default 100. */
  minRequests?: number;
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
  /** Call the webhook without verifying its TLS certificate. */
  disableTLS?: boolean;
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
  /**
   * aviary-only: analyse the first revision too. With no primary to compare with, it runs
   * the checks' fixed thresholds against the target itself, and the primary is created only
   * when they pass. Default false: the first revision is promoted without analysis (Flagger).
   */
  firstDeploy?: boolean;
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
  /** The ApisixRoute the apisix router copies into `<route>-<svc>-canary`. */
  routeRef?: LocalObjectReference;
  /** The Gloo Upstream (default: the Canary's namespace) whose settings the gloo router copies. */
  upstreamRef?: ProviderObjectReference;
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
  /** aviary-only: the judge's evidence, for a metric with `compare`. */
  judge?: JudgeEvidence;
}

/**
 * The judge's verdict on one metric, as status and the CLI show it. Rates are fractions of
 * the arms' requests over the whole run; a bound or ratio that does not exist (no bad
 * events, an interval open above) is absent.
 */
export interface JudgeEvidence {
  outcome: "regression" | "no-regression-yet" | "insufficient-data";
  /** `5xx`, or `slower than 250ms` (the boundary with the most evidence). */
  label: string;
  canaryRequests: number;
  canaryBad: number;
  primaryRequests: number;
  primaryBad: number;
  canaryRate?: number;
  primaryRate?: number;
  ratio?: number;
  ciLower?: number;
  ciUpper?: number;
  confidence: number;
  tolerance: number;
  eValue: number;
  /** 1/α: the e-value at which the canary fails. */
  threshold: number;
  /**
   * The judge's verdict sentence alone. `message` says the same for a metric with only
   * `compare`, but also carries the range check's sentence for a metric with both.
   */
  sentence?: string;
}

/** The judge's running tests, one per compared metric, resumed after a restart. */
export interface JudgeStatus {
  /** The revision these tests measure; a state for another revision is not resumed. */
  revision?: string;
  metrics: Record<string, JudgeMetricStatus>;
}

export interface JudgeMetricStatus {
  /** ISO 8601: the end of the last window counted; the next window starts exactly here. */
  windowEnd: string;
  /** Windows counted so far. */
  windows: number;
  /** The judge's state (src/judge), plain JSON. */
  state: Record<string, unknown>;
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
  /** Flagger's status fields; aviary derives its cookie instead (src/router/session-affinity.ts). */
  sessionAffinityCookie?: string;
  primarySessionAffinityCookie?: string;
  lastTrackedRevision?: string;
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
  /** The router provider in effect: spec.provider, else the controller's --mesh-provider. */
  provider?: string;
  /** The judge's tests of the current run (metrics with `compare`). */
  judge?: JudgeStatus;
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
  /** HTTP headers sent with every request, Flagger's shape: each name maps to its values. */
  headers?: Record<string, string[]>;
  /** web: GET or POST (default POST when a body is set, else GET). aviary-only. */
  method?: string;
  /** web: the JSON request body; may use the query's placeholders. aviary-only. */
  body?: string;
  /** cloudwatch: how far back GetMetricData looks, a duration. aviary-only. */
  window?: string;
}

export interface MetricTemplateSpec {
  provider: MetricTemplateProvider;
  /** A template: `{{ namespace }}`, `{{ target }}`, `{{ interval }}`, `{{ variables.x }}`, … */
  query: string;
  /**
   * aviary-only: the count pair the judge reads for a metric with `compare`, rendered once
   * per arm with `{{ arm }}`, `{{ workload }}`, `{{ primary }}`, `{{ window }}` and `{{ windowEnd }}`.
   */
  compare?: MetricTemplateCompare;
}

export interface MetricTemplateCompare {
  /** Bad events one arm had in the window (e.g. its 5xx answers). */
  bad: string;
  /** Requests one arm served in the window. */
  total: string;
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
