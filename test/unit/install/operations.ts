/**
 * Every Kubernetes API call aviary's operator makes, read from src/ (the CLI runs with the
 * user's own credentials and is not here), and calls it must not be able to make. The RBAC
 * unit test checks the manifests' rules against both lists; the install integration test
 * asks the API server's authorizer the same questions for a service account bound to them.
 */

/** "own": aviary's namespace (aviary-system); "any": a user namespace. */
export type Scope = "own" | "any" | "cluster";

export interface Operation {
  verb: string;
  group: string;
  /** `resource` or `resource/subresource`. */
  resource: string;
  scope: Scope;
  name?: string;
  why: string;
  /** Granted to every authenticated user by Kubernetes' default roles, not by aviary's manifests. */
  grantedByDefault?: boolean;
}

export const CERT_SECRET = "aviary-webhook-cert";
export const LEASE_NAME = "aviary-leader";
export const WEBHOOK_CONFIGURATION = "aviary";

const routeVerbs = ["get", "list", "watch", "create", "patch", "update", "delete"];
const route = (group: string, resource: string, why: string): Operation[] =>
  routeVerbs.map((verb) => ({ verb, group, resource, scope: "any", why }));

export const REQUIRED: readonly Operation[] = [
  ...["get", "list", "watch"].map((verb): Operation => ({ verb, group: "aviary.dev", resource: "canaries", scope: "any", why: "Canary informer and reconcile read" })),
  { verb: "patch", group: "aviary.dev", resource: "canaries", scope: "any", why: "finalizer, clearing CLI request annotations" },
  { verb: "patch", group: "aviary.dev", resource: "canaries/status", scope: "any", why: "status through the status subresource" },
  { verb: "update", group: "aviary.dev", resource: "canaries/finalizers", scope: "any", why: "blockOwnerDeletion owner references to the Canary" },
  { verb: "get", group: "aviary.dev", resource: "metrictemplates", scope: "any", why: "metric checks read their template" },
  { verb: "get", group: "aviary.dev", resource: "alertproviders", scope: "any", why: "alerts read their provider" },
  ...["get", "list", "watch", "create", "patch", "delete"].map((verb): Operation => ({
    verb, group: "apps", resource: "deployments", scope: "any", why: "targets (informer, label patch) and the -primary (server-side apply, revert)",
  })),
  ...["get", "create", "delete"].map((verb): Operation => ({ verb, group: "apps", resource: "controllerrevisions", scope: "any", why: "the snapshot a deleted primary is rebuilt from" })),
  { verb: "patch", group: "apps", resource: "deployments/scale", scope: "any", why: "canary and target sizes" },
  ...["get", "list", "watch", "create", "patch", "delete"].map((verb): Operation => ({
    verb, group: "apps", resource: "daemonsets", scope: "any", why: "DaemonSet targets (informer, label patch, parking) and their -primary (server-side apply, revert)",
  })),
  ...["get", "list", "watch", "create", "patch", "delete"].map((verb): Operation => ({ verb, group: "", resource: "services", scope: "any", why: "apex, -primary, -canary Services (watched to restore hand deletions)" })),
  ...["get", "list", "watch"].map((verb): Operation => ({ verb, group: "", resource: "namespaces", scope: "cluster", why: "a Canary in a namespace being deleted starts nothing (a watch of namespaces)" })),
  ...["configmaps", "secrets"].flatMap((resource) =>
    ["get", "list", "watch", "create", "patch"].map((verb): Operation => ({ verb, group: "", resource, scope: "any", why: "config tracking and -primary copies" })),
  ),
  { verb: "create", group: "", resource: "events", scope: "any", why: "Events on Canaries" },
  { verb: "patch", group: "", resource: "events", scope: "any", why: "repeated Events bump their count" },
  ...["get", "list", "watch"].map((verb): Operation => ({ verb, group: "", resource: "events", scope: "any", why: "the operator's dashboard (--dashboard-port): each Canary's timeline" })),
  ...route("gateway.networking.k8s.io", "httproutes", "gatewayapi router"),
  ...route("networking.istio.io", "virtualservices", "istio router"),
  ...route("networking.istio.io", "destinationrules", "istio router"),
  ...route("appmesh.k8s.aws", "virtualnodes", "appmesh router"),
  ...route("appmesh.k8s.aws", "virtualrouters", "appmesh router"),
  ...route("appmesh.k8s.aws", "virtualservices", "appmesh router"),
  ...route("split.smi-spec.io", "trafficsplits", "smi router"),
  ...route("networking.k8s.io", "ingresses", "nginx router"),
  ...["get", "list"].map((verb): Operation => ({ verb, group: "metrics.keptn.sh", resource: "keptnmetrics", scope: "any", why: "keptn metric templates read a KeptnMetric" })),
  ...["get", "create", "delete"].map((verb): Operation => ({ verb, group: "metrics.keptn.sh", resource: "analyses", scope: "any", why: "keptn metric templates run an Analysis" })),
  ...route("projectcontour.io", "httpproxies", "contour router"),
  ...route("traefik.io", "traefikservices", "traefik router"),
  ...route("gloo.solo.io", "upstreams", "gloo router"),
  ...route("gateway.solo.io", "routetables", "gloo router"),
  ...routeVerbs.map((verb): Operation => ({ verb, group: "kuma.io", resource: "trafficroutes", scope: "cluster", why: "kuma router (TrafficRoute is cluster-scoped)" })),
  ...route("apisix.apache.org", "apisixroutes", "apisix router"),
  ...["get", "list", "watch", "create", "patch"].map((verb): Operation => ({ verb, group: "autoscaling", resource: "horizontalpodautoscalers", scope: "any", why: "autoscalerRef: the primary's HPA copy, and the informer" })),
  ...["get", "create", "patch"].map((verb): Operation => ({ verb, group: "keda.sh", resource: "scaledobjects", scope: "any", why: "autoscalerRef: the primary's ScaledObject copy, pausing the target's" })),
  ...["mutatingwebhookconfigurations", "validatingwebhookconfigurations"].flatMap((resource) =>
    ["get", "patch"].map((verb): Operation => ({ verb, group: "admissionregistration.k8s.io", resource, scope: "cluster", name: WEBHOOK_CONFIGURATION, why: "caBundle" })),
  ),
  { verb: "create", group: "coordination.k8s.io", resource: "leases", scope: "own", why: "leader election: the first replica creates the Lease" },
  { verb: "get", group: "coordination.k8s.io", resource: "leases", scope: "own", name: LEASE_NAME, why: "leader election" },
  { verb: "update", group: "coordination.k8s.io", resource: "leases", scope: "own", name: LEASE_NAME, why: "leader election: acquire and renew" },
  { verb: "create", group: "", resource: "secrets", scope: "own", why: "the webhook certificate is issued once" },
  {
    verb: "create", group: "authentication.k8s.io", resource: "selfsubjectreviews", scope: "cluster", grantedByDefault: true,
    why: "whoAmI: aviary's own user name for the admission guards (system:basic-user)",
  },
  { verb: "get", group: "", resource: "secrets", scope: "own", name: CERT_SECRET, why: "the webhook certificate is loaded and polled" },
  { verb: "update", group: "", resource: "secrets", scope: "own", name: CERT_SECRET, why: "the webhook certificate is renewed in place" },
];

export const FORBIDDEN: readonly Operation[] = [
  { verb: "delete", group: "", resource: "secrets", scope: "any", why: "aviary never deletes Secrets" },
  { verb: "update", group: "", resource: "secrets", scope: "any", name: CERT_SECRET, why: "the certificate lives in aviary's namespace only" },
  { verb: "update", group: "", resource: "secrets", scope: "own", name: "someone-elses-secret", why: "only the certificate Secret is updated" },
  { verb: "update", group: "coordination.k8s.io", resource: "leases", scope: "own", name: "kube-scheduler", why: "only aviary's Lease" },
  { verb: "get", group: "coordination.k8s.io", resource: "leases", scope: "any", name: LEASE_NAME, why: "Leases only in aviary's namespace" },
  { verb: "create", group: "", resource: "pods", scope: "any", why: "aviary never runs pods" },
  { verb: "create", group: "", resource: "pods/exec", scope: "any", why: "no exec" },
  { verb: "get", group: "", resource: "nodes", scope: "cluster", why: "no node access" },
  { verb: "delete", group: "", resource: "namespaces", scope: "cluster", why: "no namespace access" },
  { verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", scope: "cluster", why: "no privilege escalation" },
  { verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles", scope: "cluster", why: "no privilege escalation" },
  { verb: "impersonate", group: "", resource: "users", scope: "cluster", why: "no impersonation" },
  { verb: "patch", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", scope: "cluster", name: "someone-else", why: "only its own configurations" },
  { verb: "delete", group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations", scope: "cluster", name: WEBHOOK_CONFIGURATION, why: "never removes its webhooks" },
  { verb: "create", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", scope: "cluster", why: "the manifests own them" },
  { verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", scope: "cluster", why: "the manifests own the CRDs" },
  { verb: "delete", group: "aviary.dev", resource: "canaries", scope: "any", why: "users own Canaries" },
  { verb: "create", group: "aviary.dev", resource: "metrictemplates", scope: "any", why: "users own MetricTemplates" },
  { verb: "update", group: "apps", resource: "deployments", scope: "any", why: "aviary patches and applies, never replaces Deployments" },
  { verb: "update", group: "apps", resource: "daemonsets", scope: "any", why: "aviary patches and applies, never replaces DaemonSets" },
  { verb: "create", group: "apps", resource: "statefulsets", scope: "any", why: "Deployments and DaemonSets only" },
  { verb: "deletecollection", group: "", resource: "configmaps", scope: "any", why: "no bulk deletes" },
];
