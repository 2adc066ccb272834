import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { errorsOf, validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import { InputError } from "../../../src/convert/convert.ts";
import { toYaml } from "../../../src/convert/emit.ts";
import { analysisTemplate, canarySpec, convertYaml, entries, entryAt, output, promMetric, rollout, yamlOf } from "./helpers.ts";
import type { Loose } from "./helpers.ts";

const R = "Rollout/shop";

describe("convert: Rollout → Deployment and Canary", () => {
  it("turns an inline template into a Deployment of the Rollout's name", () => {
    const c = convertYaml(yamlOf(rollout({ steps: [{ setWeight: 50 }], maxSurge: "25%" }, { minReadySeconds: 5 })));
    const d = output(c, "Deployment", "shop");
    assert.equal(d.apiVersion, "apps/v1");
    assert.equal(d.metadata.namespace, "web");
    assert.deepEqual(d.spec.replicas, 2);
    assert.deepEqual(d.spec.selector, { matchLabels: { app: "shop" } });
    assert.equal(d.spec.minReadySeconds, 5);
    assert.deepEqual(d.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%" } });
    assert.deepEqual(canarySpec(c).targetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "shop" });
    assert.match(entryAt(c, R, "spec.strategy.canary.maxSurge", "changed").message, /Deployment's own rolling updates/);
  });

  it("keeps a workloadRef Deployment and gives it the Rollout's replicas back", () => {
    const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "shop-app", namespace: "web" }, spec: { replicas: 0, template: { spec: { containers: [{ name: "a", ports: [{ containerPort: 9000 }] }] } } } };
    const argo = rollout({ steps: [{ setWeight: 50 }] }) as Loose;
    delete argo.spec.template;
    argo.spec.workloadRef = { apiVersion: "apps/v1", kind: "Deployment", name: "shop-app", scaleDown: "progressively" };
    argo.spec.replicas = 6;
    const c = convertYaml(yamlOf(argo, deployment));
    assert.equal(output(c, "Deployment", "shop-app").spec.replicas, 6);
    assert.equal(canarySpec(c).targetRef.name, "shop-app");
    assert.equal(canarySpec(c).service.port, 9000);
    assert.match(entryAt(c, "Deployment/shop-app", "spec.replicas", "changed").message, /^0 → 6, the Rollout's replicas/);
    const without = convertYaml(yamlOf(argo));
    assert.match(entryAt(without, R, "spec.workloadRef", "action").message, /kubectl scale deployment\/shop-app --replicas=6/);
  });

  it("turns pauses without a duration into confirm webhooks with --gate-url, and reports them without", () => {
    const steps = [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: {} }];
    const gated = convertYaml(yamlOf(rollout({ steps })), { gateUrl: "http://gate.ops/" });
    assert.deepEqual(canarySpec(gated).analysis.webhooks, [
      { name: "manual-gate", type: "confirm-traffic-increase", url: "http://gate.ops/", metadata: { pauseAtWeights: "20" } },
      { name: "manual-promotion", type: "confirm-promotion", url: "http://gate.ops/" },
    ]);
    assert.equal(gated.report.isLossy, false);
    assert.match(entryAt(gated, R, "spec.strategy.canary.steps[1].pause", "changed").message, /aviary asks it before every weight increase/);
    const ungated = convertYaml(yamlOf(rollout({ steps })));
    assert.equal(canarySpec(ungated).analysis.webhooks, undefined);
    assert.match(entryAt(ungated, R, "spec.strategy.canary.steps[1].pause", "lossy").message, /waits at 20% until a person promotes; .* pass --gate-url to make it a confirm-traffic-increase webhook/);
    assert.match(entryAt(ungated, R, "spec.strategy.canary.steps[3].pause", "lossy").message, /confirm-promotion webhook/);
  });

  it("carries spec.paused and progressDeadlineSeconds, saying how they differ", () => {
    const c = convertYaml(yamlOf(rollout({ steps: [{ setWeight: 50 }] }, { paused: true, progressDeadlineSeconds: 300 })));
    assert.deepEqual(output(c, "Canary").metadata.annotations, { "aviary.dev/paused": "true" });
    assert.equal(canarySpec(c).progressDeadlineSeconds, 300);
    assert.match(entryAt(c, R, "spec.progressDeadlineSeconds", "changed").message, /aviary rolls the canary back/);
  });

  it("reports Rollout fields it cannot carry, by path", () => {
    const c = convertYaml(
      yamlOf(
        rollout(
          { steps: [{ setWeight: 50 }], canaryMetadata: { labels: { role: "canary" } }, dynamicStableScale: true, antiAffinity: {}, pingPong: {}, scaleDownDelaySeconds: 30, frob: 1 },
          { restartAt: "2026-01-01T00:00:00Z", rollbackWindow: { revisions: 2 }, strange: true },
        ),
      ),
    );
    for (const field of [
      "spec.restartAt",
      "spec.rollbackWindow",
      "spec.strange",
      "spec.strategy.canary.canaryMetadata",
      "spec.strategy.canary.dynamicStableScale",
      "spec.strategy.canary.antiAffinity",
      "spec.strategy.canary.pingPong",
      "spec.strategy.canary.frob",
    ]) {
      entryAt(c, R, field, "lossy");
    }
    entryAt(c, R, "spec.strategy.canary.scaleDownDelaySeconds", "changed");
  });

  it("converts no Canary for a blueGreen Rollout, and says so", () => {
    const argo = rollout({}) as Loose;
    argo.spec.strategy = { blueGreen: { activeService: "a" } };
    const c = convertYaml(yamlOf(argo));
    assert.equal(c.outputs.filter((o) => o.manifest.kind === "Canary").length, 0);
    assert.match(entryAt(c, R, "spec.strategy.blueGreen", "lossy").message, /blueGreen strategy is not converted/);
  });

  it("writes objects aviary's own validation accepts, the step schedule included", () => {
    const c = convertYaml(
      yamlOf(
        rollout({ steps: [{ setWeight: 10 }, { pause: { duration: 30 } }, { setWeight: 50 }], analysis: { templates: [{ templateName: "rate" }], args: [{ name: "service", value: "x" }] } }),
        analysisTemplate("rate", [promMetric()], [{ name: "service" }]),
      ),
    );
    assert.deepEqual(errorsOf(validateCanary(output(c, "Canary"))), []);
    assert.deepEqual(errorsOf(validateMetricTemplate(output(c, "MetricTemplate"))), []);
  });

  it("refuses input without a Rollout, and YAML it cannot parse, naming the document", () => {
    assert.throws(() => convertYaml("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"), (e: Error) => e instanceof InputError && /no Rollout/.test(e.message));
    assert.throws(() => convertYaml("kind: Rollout\nmetadata: {name: x\n"), (e: Error) => e instanceof InputError && /^test.yaml: document 1: /.test(e.message));
    assert.throws(() => convertYaml("- just\n- a list\n"), (e: Error) => e instanceof InputError && /document 1 is not a Kubernetes object/.test(e.message));
  });

  it("reads the List that kubectl get -o yaml prints, and leaves server fields out of what it writes back", () => {
    const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "shop-app", namespace: "web", uid: "1", resourceVersion: "9", managedFields: [] }, spec: { replicas: 0 }, status: { replicas: 0 } };
    const argo = rollout({ steps: [{ setWeight: 50 }] }) as Loose;
    delete argo.spec.template;
    argo.spec.workloadRef = { apiVersion: "apps/v1", kind: "Deployment", name: "shop-app" };
    const c = convertYaml(JSON.stringify({ apiVersion: "v1", kind: "List", items: [argo, deployment] }));
    const yaml = toYaml(c.outputs);
    assert.match(yaml, /^# converted from Deployment\/shop-app\napiVersion: apps\/v1\nkind: Deployment\nmetadata:\n {2}name: shop-app\n {2}namespace: web\nspec:\n {2}replicas: 2\n---\n/);
    assert.doesNotMatch(yaml, /resourceVersion|managedFields|uid:|status:/);
  });

  it("survives malformed fields without crashing, reporting them", () => {
    const c = convertYaml(yamlOf(rollout({ steps: "many", analysis: { templates: "all" } }, { replicas: "lots" })));
    assert.ok(entries(c).length > 0);
    assert.equal(canarySpec(c).analysis.steps.length, 0);
  });
});
