import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../../src/config.ts";
import type { Config } from "../../../src/config.ts";
import { allows, loadManifests, only, ROOT } from "./manifests.ts";
import type { ManifestObject, PolicyRule, RoleObject } from "./manifests.ts";
import { CERT_SECRET, FORBIDDEN, LEASE_NAME, REQUIRED, WEBHOOK_CONFIGURATION } from "./operations.ts";
import type { Operation } from "./operations.ts";

const NAMESPACE = "aviary-system";
const objects = loadManifests();
const clusterRole = only<RoleObject>(objects, "ClusterRole", "aviary");
const role = only<RoleObject>(objects, "Role", "aviary");

/** What the service account may do in `scope`: the ClusterRole everywhere, the Role in aviary's namespace. */
function rulesFor(scope: Operation["scope"]): PolicyRule[] {
  return scope === "own" ? [...clusterRole.rules, ...role.rules] : clusterRole.rules;
}

function deploymentConfig(): Config {
  const deployment = only<{ spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }>(objects, "Deployment", "aviary");
  const config = parseConfig(deployment.spec.template.spec.containers[0]!.args, { POD_NAME: "aviary-0" }, "host", 1);
  assert.notEqual(config, "help");
  return config as Config;
}

describe("install RBAC", () => {
  it("uses no wildcard verb, resource, group or name, and no non-resource URLs", () => {
    for (const r of [clusterRole, role]) {
      for (const rule of r.rules) {
        const where = `${r.kind} ${r.metadata.name} rule ${JSON.stringify(rule)}`;
        for (const field of ["verbs", "resources", "apiGroups", "resourceNames"] as const) {
          assert.ok(!(rule[field] ?? []).some((v) => v.includes("*")), `${where}: wildcard in ${field}`);
        }
        assert.equal(rule.nonResourceURLs, undefined, `${where}: nonResourceURLs`);
        assert.ok((rule.resources ?? []).length > 0 && rule.verbs.length > 0, `${where}: empty rule`);
      }
    }
  });

  it("grants no verb that escalates privileges, nothing on RBAC, pods or nodes, and only reads on namespaces", () => {
    const all = [...clusterRole.rules, ...role.rules];
    for (const rule of all) {
      for (const verb of ["escalate", "bind", "impersonate", "deletecollection", "*"]) assert.ok(!rule.verbs.includes(verb), `${verb} in ${JSON.stringify(rule)}`);
      assert.ok(!(rule.apiGroups ?? []).includes("rbac.authorization.k8s.io"), JSON.stringify(rule));
      for (const resource of ["pods", "pods/exec", "nodes", "serviceaccounts/token"]) {
        assert.ok(!(rule.resources ?? []).includes(resource), `${resource} in ${JSON.stringify(rule)}`);
      }
      if ((rule.resources ?? []).includes("namespaces")) assert.deepEqual(rule.verbs, ["get", "list", "watch"], JSON.stringify(rule));
    }
  });

  it("allows every call aviary makes", () => {
    const missing = REQUIRED.filter((op) => !op.grantedByDefault && !allows(rulesFor(op.scope), op.verb, op.group, op.resource, op.name));
    assert.deepEqual(missing.map((op) => `${op.verb} ${op.group}/${op.resource}${op.name ? `/${op.name}` : ""} (${op.why})`), []);
  });

  it("allows nothing on the forbidden list", () => {
    const granted = FORBIDDEN.filter((op) => allows(rulesFor(op.scope), op.verb, op.group, op.resource, op.name ?? "some-object"));
    assert.deepEqual(granted.map((op) => `${op.verb} ${op.group}/${op.resource} (${op.why})`), []);
  });

  it("grants nothing beyond the calls aviary makes (every granted verb is on the required list)", () => {
    const extra: string[] = [];
    for (const [r, scope] of [[clusterRole, "any"], [role, "own"]] as const) {
      for (const rule of r.rules) {
        for (const group of rule.apiGroups ?? []) {
          for (const resource of rule.resources ?? []) {
            for (const verb of rule.verbs) {
              const needed = REQUIRED.some((op) => op.verb === verb && op.group === group && op.resource === resource && (scope === "own") === (op.scope === "own"));
              if (!needed) extra.push(`${r.kind}: ${verb} ${group}/${resource}`);
            }
          }
        }
      }
    }
    assert.deepEqual(extra, []);
  });

  it("scopes Secret writes: update only on the certificate Secret, only in aviary's namespace", () => {
    for (const rule of clusterRole.rules.filter((r) => (r.resources ?? []).includes("secrets"))) {
      assert.ok(!rule.verbs.includes("update") && !rule.verbs.includes("delete"), JSON.stringify(rule));
    }
    const updates = role.rules.filter((r) => (r.resources ?? []).includes("secrets") && r.verbs.includes("update"));
    assert.deepEqual(updates.map((r) => r.resourceNames), [[CERT_SECRET]]);
    assert.equal(role.metadata.namespace, NAMESPACE);
  });

  it("names the same Lease, certificate Secret and webhook configurations as the Deployment's flags and the manifests", () => {
    const config = deploymentConfig();
    assert.equal(config.leaseName, LEASE_NAME);
    assert.equal(config.leaseNamespace, NAMESPACE);
    assert.equal(config.certSecret, `${NAMESPACE}/${CERT_SECRET}`);
    only(objects, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
    only(objects, "ValidatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
  });

  it("binds both roles to the service account the Deployment runs as", () => {
    const sa = only(objects, "ServiceAccount", "aviary");
    assert.equal(sa.metadata.namespace, NAMESPACE);
    const deployment = only<{ spec: { template: { spec: { serviceAccountName: string } } } }>(objects, "Deployment", "aviary");
    assert.equal(deployment.spec.template.spec.serviceAccountName, sa.metadata.name);
    type Binding = ManifestObject & { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string; namespace: string }> };
    const subject = [{ kind: "ServiceAccount", name: "aviary", namespace: NAMESPACE }];
    const crb = only<Binding>(objects, "ClusterRoleBinding", "aviary");
    assert.deepEqual([crb.roleRef.kind, crb.roleRef.name], ["ClusterRole", clusterRole.metadata.name]);
    assert.deepEqual(crb.subjects, subject);
    const rb = only<Binding>(objects, "RoleBinding", "aviary");
    assert.equal(rb.metadata.namespace, NAMESPACE);
    assert.deepEqual([rb.roleRef.kind, rb.roleRef.name], ["Role", role.metadata.name]);
    assert.deepEqual(rb.subjects, subject);
    // The generated-object webhook skips aviary's own writes by this identity; the guards let it through.
    assert.ok(deploymentConfig().selfUsers.includes(`system:serviceaccount:${NAMESPACE}:aviary`));
  });

  describe("drift: every kind the operator's source names is covered", () => {
    /** Kinds aviary reads or writes, by the resource RBAC knows them as (several: one kind in two groups). */
    const RESOURCES: Record<string, Array<[group: string, resource: string]>> = {
      Canary: [["aviary.dev", "canaries"]],
      MetricTemplate: [["aviary.dev", "metrictemplates"]],
      AlertProvider: [["aviary.dev", "alertproviders"]],
      Deployment: [["apps", "deployments"]],
      DaemonSet: [["apps", "daemonsets"]],
      ControllerRevision: [["apps", "controllerrevisions"]],
      Service: [["", "services"]],
      Namespace: [["", "namespaces"]],
      ConfigMap: [["", "configmaps"]],
      Secret: [["", "secrets"]],
      Event: [["", "events"]],
      Lease: [["coordination.k8s.io", "leases"]],
      MutatingWebhookConfiguration: [["admissionregistration.k8s.io", "mutatingwebhookconfigurations"]],
      ValidatingWebhookConfiguration: [["admissionregistration.k8s.io", "validatingwebhookconfigurations"]],
      HTTPRoute: [["gateway.networking.k8s.io", "httproutes"]],
      VirtualService: [["networking.istio.io", "virtualservices"], ["appmesh.k8s.aws", "virtualservices"]],
      DestinationRule: [["networking.istio.io", "destinationrules"]],
      VirtualNode: [["appmesh.k8s.aws", "virtualnodes"]],
      VirtualRouter: [["appmesh.k8s.aws", "virtualrouters"]],
      TrafficSplit: [["split.smi-spec.io", "trafficsplits"]],
      Ingress: [["networking.k8s.io", "ingresses"]],
      KeptnMetric: [["metrics.keptn.sh", "keptnmetrics"]],
      Analysis: [["metrics.keptn.sh", "analyses"]],
      HTTPProxy: [["projectcontour.io", "httpproxies"]],
      TraefikService: [["traefik.io", "traefikservices"]],
      Upstream: [["gloo.solo.io", "upstreams"]],
      RouteTable: [["gateway.solo.io", "routetables"]],
      TrafficRoute: [["kuma.io", "trafficroutes"]],
      ApisixRoute: [["apisix.apache.org", "apisixroutes"]],
      HorizontalPodAutoscaler: [["autoscaling", "horizontalpodautoscalers"]],
      ScaledObject: [["keda.sh", "scaledobjects"]],
    };
    /** Kinds every authenticated user may use through Kubernetes' default roles. */
    const BY_DEFAULT = new Set(REQUIRED.filter((op) => op.grantedByDefault).map((op) => op.resource));
    /** `kind:` strings that are not objects aviary calls the API for. */
    const NOT_ACCESSED = new Set([
      "Status", // a response body
      "DeleteOptions", // a request body
      "Gateway", // only referenced from an HTTPRoute's parentRefs
      // error kinds of the notifier, not Kubernetes kinds
      "Internal", "Timeout", "Aborted", "KubeApi",
    ]);

    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? (e.name === "cli" && dir.endsWith("src") ? [] : sources(join(dir, e.name))) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
      );
    const files = sources(join(ROOT, "src"));
    const text = files.map((f) => readFileSync(f, "utf8")).join("\n");

    it("maps every `kind: \"…\"` in src/ (CLI aside) to a granted resource", () => {
      const kinds = new Set([...text.matchAll(/kind: "([A-Z][A-Za-z]*)"/g)].map((m) => m[1]!));
      assert.ok(kinds.has("Deployment") && kinds.has("Lease"), "the scan finds the kinds it should");
      const unknown = [...kinds].filter((k) => !NOT_ACCESSED.has(k) && RESOURCES[k] === undefined && !BY_DEFAULT.has(`${k.toLowerCase()}s`));
      assert.deepEqual(unknown, [], "a new kind in src/: grant it in manifests/rbac/ and add it to this table (or to NOT_ACCESSED)");
      const ungranted = [...kinds]
        .flatMap((k) => RESOURCES[k] ?? [])
        .filter(([group, resource]) => ![...clusterRole.rules, ...role.rules].some((r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource)));
      assert.deepEqual(ungranted, []);
    });

    it("grants every route object's plural (RouteKind.plural) and guards it with the generated-object webhook", () => {
      const plurals = new Set([...text.matchAll(/plural: "([a-z]+)"/g)].map((m) => m[1]!));
      assert.ok(plurals.size > 0, "the scan finds the route kinds");
      const webhook = only<{ webhooks: Array<{ name: string; rules: Array<{ resources: string[] }> }> }>(objects, "ValidatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
      const guarded = new Set(webhook.webhooks.find((w) => w.name.startsWith("generated."))!.rules.flatMap((r) => r.resources));
      for (const plural of plurals) {
        assert.ok(clusterRole.rules.some((r) => (r.resources ?? []).includes(plural) && r.verbs.includes("update")), `route resource ${plural} is not granted`);
        assert.ok(guarded.has(plural), `route resource ${plural} is not guarded by the generated-object webhook`);
      }
    });
  });
});
