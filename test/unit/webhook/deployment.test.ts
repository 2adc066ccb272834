import assert from "node:assert/strict";
import jsonPatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import type { KubeObject } from "../../../src/kube/types.ts";
import { hashPodTemplate } from "../../../src/ground/hash.ts";
import { createDeploymentMutator, mutateDeployment } from "../../../src/webhook/mutate/deployment.ts";
import type { AdmissionRequest } from "../../../src/webhook/admission.ts";
import { admissionRequest, deployment, DEPLOYMENT_GVK, quietLogger } from "./helpers.ts";

const AVIARY_SA = "system:serviceaccount:aviary-system:aviary";
const opts = { aviaryUsers: [AVIARY_SA] };
const target = (o: Parameters<typeof deployment>[1] = {}) =>
  deployment("podinfo", { ...o, labels: { app: "podinfo", "aviary.dev/canary": "podinfo", ...o.labels } });

/** Applies the response's patch the way the API server does. */
function patched(request: AdmissionRequest, patch: Operation[] | undefined): KubeObject {
  return jsonPatch.applyPatch(structuredClone(request.object), patch ?? [], true, false).newDocument as KubeObject;
}

const update = (oldObject: KubeObject, object: KubeObject, username = "jane@example.com") =>
  admissionRequest("UPDATE", DEPLOYMENT_GVK, object, oldObject, { userInfo: { username, groups: ["system:authenticated"] } });

describe("mutating webhook: Deployments", () => {
  it("stamps a new pod template with its revision and the requesting user", () => {
    const req = update(target({ annotations: { "aviary.dev/revision": "0123456789abcdef" } }), target({ image: "podinfo:6.1.0" }));
    const { result, revision } = mutateDeployment(req, opts);
    assert.equal(result.allowed, true);
    const out = patched(req, result.patch);
    const hash = hashPodTemplate((req.object?.spec as { template: unknown }).template);
    assert.equal(out.metadata.annotations?.["aviary.dev/revision"], hash);
    assert.equal(out.metadata.annotations?.["aviary.dev/changed-by"], "jane@example.com");
    assert.deepEqual(revision, { namespace: "default", canary: "podinfo", hash });
    // Only the annotations move: the template itself is untouched.
    assert.deepEqual((out.spec as { template: unknown }).template, (req.object!.spec as { template: unknown }).template);
    assert.ok(result.patch?.every((op) => op.path.startsWith("/metadata/annotations")));
  });

  it("leaves an unchanged template's stamp and changed-by alone and wakes nobody", () => {
    const hash = hashPodTemplate((target().spec as { template: unknown }).template);
    const stamped = { "aviary.dev/revision": hash, "aviary.dev/changed-by": "alice" };
    const req = update(target({ annotations: stamped }), target({ annotations: { ...stamped, team: "web" } }));
    const { result, revision } = mutateDeployment(req, opts);
    assert.deepEqual(result, { allowed: true });
    assert.equal(revision, undefined);
  });

  it("keeps spec.replicas of a re-apply and records the requested count", () => {
    const req = update(target({ replicas: 0 }), target({ replicas: 3 }), "system:serviceaccount:flux-system:kustomize-controller");
    const { result } = mutateDeployment(req, opts);
    const out = patched(req, result.patch);
    assert.equal((out.spec as { replicas: number }).replicas, 0);
    assert.equal(out.metadata.annotations?.["aviary.dev/desired-replicas"], "3");
    assert.deepEqual(
      result.patch?.find((op) => op.path === "/spec/replicas"),
      { op: "replace", path: "/spec/replicas", value: 0 },
    );
  });

  it("guards replicas and stamps the revision in one patch (helm upgrade with a new image)", () => {
    const req = update(target({ replicas: 0 }), target({ replicas: 3, image: "podinfo:6.2.0" }), "helm");
    const { result, revision } = mutateDeployment(req, opts);
    const out = patched(req, result.patch);
    assert.equal((out.spec as { replicas: number }).replicas, 0);
    assert.equal(out.metadata.annotations?.["aviary.dev/desired-replicas"], "3");
    assert.equal(out.metadata.annotations?.["aviary.dev/changed-by"], "helm");
    assert.ok(revision);
  });

  it("lets aviary's own service account change replicas", () => {
    const req = update(target({ replicas: 3 }), target({ replicas: 0 }), AVIARY_SA);
    const out = patched(req, mutateDeployment(req, opts).result.patch);
    assert.equal((out.spec as { replicas: number }).replicas, 0);
    assert.equal(out.metadata.annotations?.["aviary.dev/desired-replicas"], undefined);
  });

  it("puts back aviary's label and annotations when a replace drops them", () => {
    const hash = hashPodTemplate((target().spec as { template: unknown }).template);
    const old = target({ replicas: 0, annotations: { "aviary.dev/revision": hash, "aviary.dev/desired-replicas": "3", "aviary.dev/changed-by": "alice" } });
    const replaced = deployment("podinfo", { replicas: 0 });
    const req = update(old, replaced);
    const out = patched(req, mutateDeployment(req, opts).result.patch);
    assert.equal(out.metadata.labels?.["aviary.dev/canary"], "podinfo");
    assert.deepEqual(out.metadata.annotations, old.metadata.annotations);
  });

  it("passes what it does not own: CREATE, the scale subresource, unlabelled and generated Deployments", () => {
    const create = admissionRequest("CREATE", DEPLOYMENT_GVK, target({ replicas: 5 }), null);
    const scale = { ...update(target({ replicas: 0 }), target({ replicas: 5 })), subResource: "scale" };
    const plain = update(deployment("web", { replicas: 1 }), deployment("web", { replicas: 4, image: "x" }));
    const primaryLabels = { app: "podinfo-primary", "aviary.dev/canary": "podinfo", "app.kubernetes.io/managed-by": "aviary" };
    const primary = update(deployment("podinfo-primary", { labels: primaryLabels }), deployment("podinfo-primary", { labels: primaryLabels, replicas: 9 }));
    for (const req of [create, scale, plain, primary]) assert.deepEqual(mutateDeployment(req, opts).result, { allowed: true });
  });

  it("calls onRevision once per new revision, never for a dry run, and survives its failure", async () => {
    const woken: string[] = [];
    const handler = createDeploymentMutator({ ...opts, onRevision: (ns, name) => woken.push(`${ns}/${name}`) });
    const ctx = { signal: new AbortController().signal, log: quietLogger() };
    await handler.handle(update(target(), target({ image: "podinfo:7" })), ctx);
    await handler.handle({ ...update(target(), target({ image: "podinfo:8" })), dryRun: true }, ctx);
    await handler.handle(update(target(), target({ replicas: 9 })), ctx);
    assert.deepEqual(woken, ["default/podinfo"]);

    const throwing = createDeploymentMutator({ ...opts, onRevision: () => { throw new Error("queue closed"); } });
    const result = await throwing.handle(update(target(), target({ image: "podinfo:9" })), ctx);
    assert.equal(result.allowed, true);
    assert.ok((result.patch ?? []).length > 0);
    assert.equal(handler.failurePolicy, "Ignore");
    assert.equal(handler.name, "deployments");
  });
});

describe("mutating webhook: DaemonSets", () => {
  const DAEMONSET_GVK = { group: "apps", version: "v1", kind: "DaemonSet" };
  const PARK = "aviary.dev/scale-to-zero";
  const agent = (o: { image?: string; nodeSelector?: Record<string, string> } = {}): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", namespace: "default", resourceVersion: "7", generation: 2, labels: { app: "agent", "aviary.dev/canary": "agent" } },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), containers: [{ name: "agent", image: o.image ?? "agent:1" }] },
      },
    },
  });
  const updateDs = (oldObject: KubeObject, object: KubeObject, username = "jane@example.com") =>
    admissionRequest("UPDATE", DAEMONSET_GVK, object, oldObject, { userInfo: { username, groups: ["system:authenticated"] } });
  const nodeSelector = (o: KubeObject) => (o.spec as { template: { spec: { nodeSelector?: Record<string, string> } } }).template.spec.nodeSelector;

  it("stamps a new image as a revision, its hash blind to the parking selector", () => {
    const req = updateDs(agent({ nodeSelector: { [PARK]: "true" } }), agent({ image: "agent:2", nodeSelector: { [PARK]: "true" } }));
    const { result, revision } = mutateDeployment(req, opts);
    const out = patched(req, result.patch);
    const expected = hashPodTemplate((agent({ image: "agent:2" }).spec as { template: unknown }).template);
    assert.equal(out.metadata.annotations?.["aviary.dev/revision"], expected);
    assert.deepEqual(revision, { namespace: "default", canary: "agent", hash: expected });
  });

  it("keeps an idle DaemonSet parked when a re-apply drops the parking selector, and keeps the user's own selector", () => {
    const req = updateDs(agent({ nodeSelector: { [PARK]: "true", disk: "ssd" } }), agent({ nodeSelector: { disk: "ssd" } }), "helm");
    const { result, revision } = mutateDeployment(req, opts);
    assert.deepEqual(nodeSelector(patched(req, result.patch)), { disk: "ssd", [PARK]: "true" });
    assert.equal(revision, undefined, "the same template: no revision");
    const bare = updateDs(agent({ nodeSelector: { [PARK]: "true" } }), agent(), "helm");
    assert.deepEqual(nodeSelector(patched(bare, mutateDeployment(bare, opts).result.patch)), { [PARK]: "true" });
  });

  it("lets its owner unpark it once the Canary is gone; keeps it parked when the Canary exists or cannot be looked up", async () => {
    const ctx = { signal: new AbortController().signal, log: quietLogger() };
    const asked: string[] = [];
    const handlerFor = (exists: () => Promise<boolean>) =>
      createDeploymentMutator({ ...opts, canaryExists: (namespace, name) => { asked.push(`${namespace}/${name}`); return exists(); } });
    const request = () => updateDs(agent({ nodeSelector: { [PARK]: "true" } }), agent(), "jane@example.com");
    const after = async (exists: () => Promise<boolean>) => {
      const req = request();
      return nodeSelector(patched(req, (await handlerFor(exists).handle(req, ctx)).patch));
    };
    assert.equal(await after(async () => false), undefined, "no Canary: the owner's unpark goes through");
    assert.deepEqual(await after(async () => true), { [PARK]: "true" });
    assert.deepEqual(await after(() => Promise.reject(new Error("apiserver down"))), { [PARK]: "true" }, "an unanswered lookup keeps the guard");
    assert.deepEqual(asked, ["default/agent", "default/agent", "default/agent"]);
    const imageOnly = updateDs(agent({ nodeSelector: { [PARK]: "true" } }), agent({ image: "agent:9", nodeSelector: { [PARK]: "true" } }));
    await handlerFor(async () => false).handle(imageOnly, ctx);
    assert.equal(asked.length, 3, "no lookup when nothing would be unparked");
  });

  it("lets aviary unpark it, and leaves a running canary's selector alone", () => {
    const unpark = updateDs(agent({ nodeSelector: { [PARK]: "true" } }), agent(), AVIARY_SA);
    assert.equal(nodeSelector(patched(unpark, mutateDeployment(unpark, opts).result.patch)), undefined);
    const running = updateDs(agent(), agent({ image: "agent:3" }), "helm");
    assert.equal(nodeSelector(patched(running, mutateDeployment(running, opts).result.patch)), undefined);
  });
});
