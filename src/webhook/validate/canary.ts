/**
 * Validating admission for aviary's own kinds: Canary, MetricTemplate, AlertProvider.
 *
 * The rules live in src/api (shared with the controller); this file adds what only the
 * cluster can answer: whether another Canary already claims the target (an error) and
 * whether referenced MetricTemplates and AlertProviders exist yet (warnings: they may be
 * applied in the same `kubectl apply` right after).
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../kube/types.ts";
import type { RouterProvider } from "../../api/types.ts";
import { KIND_ALERT_PROVIDER, KIND_CANARY, KIND_METRIC_TEMPLATE } from "../../api/types.ts";
import { DEFAULT_API } from "../../api/groups.ts";
import type { ApiGroup } from "../../api/groups.ts";
import { errorsOf, formatProblem, validateAlertProvider, validateCanary, validateMetricTemplate, warningsOf } from "../../api/validate.ts";
import type { ValidationProblem } from "../../api/validate.ts";
import type { AdmissionHandler, AdmissionRequest, AdmissionResult, HandlerContext } from "../admission.ts";
import { allowed, denied } from "../admission.ts";

export interface NamespacedName {
  namespace: string;
  name: string;
}

/** Cluster lookups the Canary validator needs; main.ts backs them with informer caches or the API. */
export interface CanaryLookups {
  /** Another Canary in `namespace` (not `excluding`) whose targetRef names this target, or null. */
  findCanaryForTarget(
    namespace: string,
    target: { kind: string; name: string },
    opts: { excluding: string; signal: AbortSignal },
  ): Promise<string | null>;
  metricTemplateExists(ref: NamespacedName, signal: AbortSignal): Promise<boolean>;
  alertProviderExists(ref: NamespacedName, signal: AbortSignal): Promise<boolean>;
}

export interface CanaryValidatorOptions {
  /** Absent: only the static rules run (the lookups' checks are skipped). */
  lookups?: CanaryLookups;
  /** The operator-wide router used when spec.provider is empty. */
  defaultProvider?: RouterProvider;
  /** The group the kinds are served in (--api-group); default aviary.dev. */
  api?: ApiGroup;
}

/**
 * Turns problems into the answer: every error denies, all listed one per line after the
 * subject (rules may contain "; " themselves); every warning becomes an admission warning.
 */
export function decide(kind: string, namespace: string | undefined, name: string, problems: readonly ValidationProblem[]): AdmissionResult {
  const warnings = warningsOf(problems).map(formatProblem);
  const errors = errorsOf(problems);
  if (errors.length === 0) return allowed(warnings);
  const subject = namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
  return denied(`${subject} is invalid:\n${errors.map(formatProblem).join("\n")}`, 422, warnings);
}

/**
 * Whether a request needs validating. Deletes, subresources, objects being deleted and
 * updates that leave the spec alone (finalizers, the retry/promote annotations) pass: an
 * object stored under older rules must never block its own cleanup.
 */
export function needsValidation(request: AdmissionRequest): boolean {
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return false;
  if (request.subResource) return false;
  const obj = request.object;
  if (!obj) return false;
  if (request.operation === "UPDATE") {
    if (obj.metadata?.deletionTimestamp) return false;
    if (request.oldObject && isDeepStrictEqual(request.oldObject.spec, obj.spec)) return false;
  }
  return true;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The checks that need the cluster. Lookup failures become warnings: they are not the user's mistake. */
export async function clusterProblems(canary: KubeObject, namespace: string, lookups: CanaryLookups, signal: AbortSignal): Promise<ValidationProblem[]> {
  const spec = isRecord(canary.spec) ? canary.spec : {};
  const name = canary.metadata?.name ?? "";
  const checks: Array<Promise<ValidationProblem | null>> = [];
  const guard = (path: string, what: string, check: () => Promise<ValidationProblem | null>) =>
    checks.push(
      check().catch((err: unknown): ValidationProblem => ({ path, rule: `could not check ${what}: ${describe(err)}`, severity: "warning" })),
    );

  const target = isRecord(spec.targetRef) ? spec.targetRef : {};
  if (typeof target.name === "string" && target.name !== "") {
    const kind = typeof target.kind === "string" && target.kind !== "" ? target.kind : "Deployment";
    const targetName = target.name;
    guard("spec.targetRef", "whether another canary targets it", async () => {
      const other = await lookups.findCanaryForTarget(namespace, { kind, name: targetName }, { excluding: name, signal });
      return other === null
        ? null
        : { path: "spec.targetRef", rule: `${kind.toLowerCase()}/${targetName} is already the target of canary ${namespace}/${other}`, severity: "error" };
    });
  }

  const analysis = isRecord(spec.analysis) ? spec.analysis : {};
  const refsIn = (list: unknown, field: string, listPath: string) =>
    (Array.isArray(list) ? list : []).flatMap((item, i) => {
      const ref = isRecord(item) && isRecord(item[field]) ? item[field] : undefined;
      if (!ref || typeof ref.name !== "string" || ref.name === "") return [];
      const ns = typeof ref.namespace === "string" && ref.namespace !== "" ? ref.namespace : namespace;
      return [{ path: `${listPath}[${i}].${field}`, ref: { namespace: ns, name: ref.name } }];
    });
  for (const { path, ref } of refsIn(analysis.metrics, "templateRef", "spec.analysis.metrics")) {
    guard(path, `metrictemplate ${ref.namespace}/${ref.name}`, async () =>
      (await lookups.metricTemplateExists(ref, signal))
        ? null
        : { path, rule: `metrictemplate ${ref.namespace}/${ref.name} does not exist (yet)`, severity: "warning" },
    );
  }
  for (const { path, ref } of refsIn(analysis.alerts, "providerRef", "spec.analysis.alerts")) {
    guard(path, `alertprovider ${ref.namespace}/${ref.name}`, async () =>
      (await lookups.alertProviderExists(ref, signal))
        ? null
        : { path, rule: `alertprovider ${ref.namespace}/${ref.name} does not exist (yet)`, severity: "warning" },
    );
  }
  return (await Promise.all(checks)).filter((p): p is ValidationProblem => p !== null);
}

function namespaceOf(request: AdmissionRequest): string {
  return request.namespace ?? request.object?.metadata?.namespace ?? "";
}

const nameOf = (request: AdmissionRequest): string => request.object?.metadata?.name ?? request.name ?? "";

/** Any kind that is not the one this route is for passes: a misrouted request is not the user's fault. */
const isKind = (request: AdmissionRequest, api: ApiGroup, kind: string): boolean => request.kind.group === api.name && request.kind.kind === kind;

export function createCanaryValidator(opts: CanaryValidatorOptions = {}): AdmissionHandler {
  const api = opts.api ?? DEFAULT_API;
  return {
    type: "validate",
    name: "canaries",
    failurePolicy: "Fail",
    async handle(request: AdmissionRequest, ctx: HandlerContext): Promise<AdmissionResult> {
      if (!isKind(request, api, KIND_CANARY) || !needsValidation(request) || !request.object) return allowed();
      const problems = validateCanary(request.object, { defaultProvider: opts.defaultProvider, apiVersion: api.apiVersion });
      const namespace = namespaceOf(request);
      if (opts.lookups) problems.push(...(await clusterProblems(request.object, namespace, opts.lookups, ctx.signal)));
      return decide(KIND_CANARY, namespace, nameOf(request), problems);
    },
  };
}

export function createMetricTemplateValidator(api: ApiGroup = DEFAULT_API): AdmissionHandler {
  return {
    type: "validate",
    name: "metrictemplates",
    failurePolicy: "Fail",
    handle(request: AdmissionRequest): AdmissionResult {
      if (!isKind(request, api, KIND_METRIC_TEMPLATE) || !needsValidation(request)) return allowed();
      return decide(KIND_METRIC_TEMPLATE, namespaceOf(request), nameOf(request), validateMetricTemplate(request.object, { apiVersion: api.apiVersion }));
    },
  };
}

export function createAlertProviderValidator(api: ApiGroup = DEFAULT_API): AdmissionHandler {
  return {
    type: "validate",
    name: "alertproviders",
    failurePolicy: "Fail",
    handle(request: AdmissionRequest): AdmissionResult {
      if (!isKind(request, api, KIND_ALERT_PROVIDER) || !needsValidation(request)) return allowed();
      return decide(KIND_ALERT_PROVIDER, namespaceOf(request), nameOf(request), validateAlertProvider(request.object, { apiVersion: api.apiVersion }));
    },
  };
}
