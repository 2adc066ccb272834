import assert from "node:assert/strict";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { AdmissionRequest } from "../../../src/webhook/admission.ts";
import type { ManualEdit } from "../../../src/webhook/validate/generated.ts";
import { createGeneratedObjectGuard, guardGenerated, managedMessage } from "../../../src/webhook/validate/generated.ts";
import { admissionRequest, deployment, DEPLOYMENT_GVK } from "./helpers.ts";

const AVIARY_SA = "system:serviceaccount:aviary-system:aviary";
const generatedLabels = { app: "podinfo-primary", "aviary.dev/canary": "podinfo", "app.kubernetes.io/managed-by": "aviary" };
const primary = (o: Parameters<typeof deployment>[1] = {}) => deployment("podinfo-primary", { labels: generatedLabels, ...o });
const service = (name: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default", labels: { "aviary.dev/canary": "podinfo", "app.kubernetes.io/managed-by": "aviary" }, ...(annotations ? { annotations } : {}) },
  spec: { selector: { app: "podinfo-primary" }, ports: [{ port: 9898 }] },
});
const SERVICE_GVK = { group: "", version: "v1", kind: "Service" };

const as = (req: AdmissionRequest, username: string, groups: string[] = ["system:authenticated"]): AdmissionRequest => ({ ...req, userInfo: { username, groups } });

describe("validating webhook: generated objects", () => {
  const edits: ManualEdit[] = [];
  const opts = { aviaryUsers: [AVIARY_SA], onManualEdit: (e: ManualEdit) => edits.push(e) };
  beforeEach(() => {
    edits.length = 0;
  });

  it("denies a user's edit of the primary, naming the Deployment to change", () => {
    const req = as(admissionRequest("UPDATE", DEPLOYMENT_GVK, primary({ image: "podinfo:hotfix" }), primary()), "jane");
    const result = guardGenerated(req, opts);
    assert.equal(result.allowed, false);
    assert.equal(result.code, 403);
    assert.equal(result.message, "podinfo-primary is managed by canary default/podinfo; change deployment/podinfo");
  });

  it("denies deleting a generated Service, pointing at the Canary", () => {
    const req = as(admissionRequest("DELETE", SERVICE_GVK, null, service("podinfo-canary")), "jane");
    assert.equal(guardGenerated(req, opts).message, "podinfo-canary is managed by canary default/podinfo; change canary/podinfo");
  });

  it("denies deleting the primary's snapshot (its ControllerRevision), pointing at the Canary", () => {
    const snapshot: KubeObject = { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: "podinfo-primary", namespace: "default", labels: generatedLabels }, revision: 1 };
    const req = as(admissionRequest("DELETE", { group: "apps", version: "v1", kind: "ControllerRevision" }, null, snapshot), "jane");
    const result = guardGenerated(req, opts);
    assert.equal(result.allowed, false);
    assert.equal(result.message, "podinfo-primary is managed by canary default/podinfo; change canary/podinfo");
  });

  it("denies deleting a cluster-scoped route object, naming its Canary's namespace from the label", () => {
    const route: KubeObject = {
      apiVersion: "kuma.io/v1alpha1", kind: "TrafficRoute",
      metadata: { name: "podinfo", labels: { "aviary.dev/canary": "podinfo", "aviary.dev/canary-namespace": "shop", "app.kubernetes.io/managed-by": "aviary" } },
    };
    const req = as(admissionRequest("DELETE", { group: "kuma.io", version: "v1alpha1", kind: "TrafficRoute" }, null, route, { namespace: "" }), "jane");
    assert.equal(guardGenerated(req, opts).message, "podinfo is managed by canary shop/podinfo; change canary/podinfo");
  });

  it("judges by the stored object, so dropping the label does not escape", () => {
    const unlabelled = deployment("podinfo-primary", { replicas: 9 });
    const req = as(admissionRequest("UPDATE", DEPLOYMENT_GVK, unlabelled, primary()), "jane");
    assert.equal(guardGenerated(req, opts).allowed, false);
  });

  it("lets aviary, Kubernetes' controllers and the garbage collector through", () => {
    const changed = admissionRequest("UPDATE", DEPLOYMENT_GVK, primary({ replicas: 5 }), primary());
    assert.equal(guardGenerated(as(changed, AVIARY_SA), opts).allowed, true);
    assert.equal(guardGenerated(as(changed, "system:kube-controller-manager"), opts).allowed, true);
    const gc = as(admissionRequest("DELETE", DEPLOYMENT_GVK, null, primary()), "system:serviceaccount:kube-system:generic-garbage-collector", [
      "system:serviceaccounts",
      "system:serviceaccounts:kube-system",
      "system:authenticated",
    ]);
    assert.equal(guardGenerated(gc, opts).allowed, true);
    assert.equal(guardGenerated(as(changed, "system:serviceaccount:default:ci"), opts).allowed, false);
  });

  it("passes updates that touch only bookkeeping (status, finalizers, resourceVersion)", () => {
    const next = primary();
    next.metadata = { ...next.metadata, resourceVersion: "101", finalizers: ["example.com/hold"] };
    next.status = { replicas: 0 };
    assert.equal(guardGenerated(as(admissionRequest("UPDATE", DEPLOYMENT_GVK, next, primary()), "jane"), opts).allowed, true);
  });

  it("passes what is not generated, creates and subresources", () => {
    const target = deployment("podinfo", { labels: { app: "podinfo", "aviary.dev/canary": "podinfo" } });
    const cases = [
      as(admissionRequest("UPDATE", DEPLOYMENT_GVK, deployment("podinfo", { replicas: 1 }), target), "jane"),
      as(admissionRequest("CREATE", DEPLOYMENT_GVK, primary(), null), "jane"),
      { ...as(admissionRequest("UPDATE", DEPLOYMENT_GVK, primary({ replicas: 7 }), primary()), "jane"), subResource: "scale" },
    ];
    for (const req of cases) assert.deepEqual(guardGenerated(req, opts), { allowed: true });
  });

  it("honours the opt-out annotation, reports the edit, and never for a dry run", () => {
    const optOut = { "aviary.dev/allow-manual-edits": "true" };
    const annotate = as(admissionRequest("UPDATE", SERVICE_GVK, service("podinfo", optOut), service("podinfo")), "admin");
    const result = guardGenerated(annotate, opts);
    assert.equal(result.allowed, true);
    assert.match(result.warnings?.[0] ?? "", /allowed by aviary\.dev\/allow-manual-edits=true/);
    assert.deepEqual(edits, [{ namespace: "default", kind: "Service", name: "podinfo", canary: "podinfo", operation: "UPDATE", user: "admin" }]);

    const del = { ...as(admissionRequest("DELETE", SERVICE_GVK, null, service("podinfo", optOut)), "admin"), dryRun: true };
    assert.equal(guardGenerated(del, opts).allowed, true);
    assert.equal(edits.length, 1);

    const notTrue = as(admissionRequest("UPDATE", SERVICE_GVK, service("podinfo", { "aviary.dev/allow-manual-edits": "yes" }), service("podinfo")), "admin");
    assert.equal(guardGenerated(notTrue, opts).allowed, false);
  });

  it("words the message from the labels and the name", () => {
    assert.equal(managedMessage("Deployment", "api-primary", "prod", "api"), "api-primary is managed by canary prod/api; change deployment/api");
    assert.equal(managedMessage("DaemonSet", "agent-primary", "prod", "agent"), "agent-primary is managed by canary prod/agent; change daemonset/agent");
    assert.equal(managedMessage("HTTPRoute", "api", "prod", "api"), "api is managed by canary prod/api; change canary/api");
    assert.equal(managedMessage("Deployment", "-primary", "prod", ""), "-primary is managed by aviary; change the Canary that generated it");
    const handler = createGeneratedObjectGuard(opts);
    assert.deepEqual([handler.type, handler.name, handler.failurePolicy], ["validate", "generated", "Ignore"]);
  });
});
