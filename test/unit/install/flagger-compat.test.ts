/**
 * manifests/flagger-compat (the kustomize Component) and the chart's apiGroup value: the same
 * install as manifests/, with Canary, MetricTemplate and AlertProvider in flagger.app. The
 * Component's patches are applied here the way kustomize applies them (JSON patches by target,
 * `$patch: delete`); the integration tier renders it with the real kustomize.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { parse, parseAllDocuments } from "yaml";
import { parseConfig } from "../../../src/config.ts";
import type { Config } from "../../../src/config.ts";
import { allows, loadManifests, MANIFESTS, only } from "./manifests.ts";
import type { ManifestObject, RoleObject } from "./manifests.ts";

const COMPONENT = join(MANIFESTS, "flagger-compat");
const KINDS = ["canaries", "metrictemplates", "alertproviders"] as const;

interface ComponentPatch {
  patch: string;
  target?: { kind: string; name: string };
}

/** manifests/ with the Component applied. */
function render(): ManifestObject[] {
  const component = parse(readFileSync(join(COMPONENT, "kustomization.yaml"), "utf8")) as { kind: string; resources: string[]; patches: ComponentPatch[] };
  assert.equal(component.kind, "Component");
  let objects = [...loadManifests(), ...component.resources.flatMap((r) => loadManifests(join(COMPONENT, r)))];
  for (const p of component.patches) {
    const body = parse(p.patch) as unknown;
    if (p.target === undefined) {
      const del = body as { $patch: string; kind: string; metadata: { name: string } };
      assert.equal(del.$patch, "delete");
      const before = objects.length;
      objects = objects.filter((o) => !(o.kind === del.kind && o.metadata.name === del.metadata.name));
      assert.equal(objects.length, before - 1, `${del.kind} ${del.metadata.name} is deleted once`);
      continue;
    }
    const target = only(objects, p.target.kind, p.target.name);
    const patched = jsonpatch.applyPatch(structuredClone(target), body as Operation[], true, false).newDocument;
    objects = objects.map((o) => (o === target ? patched : o));
  }
  return objects;
}

const crdOf = (file: string) => parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as Record<string, unknown>).find((d) => d !== null) as {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { group: string };
};

describe("flagger-compat install (manifests/flagger-compat, chart apiGroup)", () => {
  const base = loadManifests();
  const compat = render();

  for (const kind of KINDS) {
    it(`serves ${kind} in flagger.app with aviary.dev's schema, and no longer in aviary.dev`, () => {
      const ours = crdOf(join(MANIFESTS, "crds", `${kind}.yaml`));
      const copy = only(compat, "CustomResourceDefinition", `${kind}.flagger.app`);
      assert.deepEqual(
        { ...copy, file: undefined, metadata: { ...copy.metadata, name: ours.metadata.name }, spec: { ...(copy.spec as object), group: "aviary.dev" } },
        { ...ours, file: undefined },
        "run hack/sync-chart-crds.sh",
      );
      assert.equal(compat.filter((o) => o.metadata.name === `${kind}.aviary.dev`).length, 0);
    });
  }

  it("grants on flagger.app exactly what manifests/ grants on aviary.dev, and nothing on aviary.dev", () => {
    const before = only<RoleObject>(base, "ClusterRole", "aviary").rules;
    const after = only<RoleObject>(compat, "ClusterRole", "aviary").rules;
    assert.deepEqual(after.filter((r) => r.apiGroups?.includes("aviary.dev")), []);
    assert.deepEqual(
      after.map((r) => JSON.stringify(r)),
      before.map((r) => JSON.stringify({ ...r, apiGroups: r.apiGroups?.map((g) => (g === "aviary.dev" ? "flagger.app" : g)) })),
      "the Component's JSON patches replace the apiGroups of the rules on aviary.dev and only those (check their indexes)",
    );
    for (const [verb, resource] of [["watch", "canaries"], ["patch", "canaries/status"], ["update", "canaries/finalizers"], ["get", "metrictemplates"], ["get", "alertproviders"]] as const) {
      assert.ok(allows(after, verb, "flagger.app", resource), `${verb} ${resource}`);
    }
  });

  it("validates the three kinds in flagger.app and runs the operator with --api-group=flagger.app", () => {
    const webhooks = only<{ webhooks: { name: string; rules: { apiGroups: string[] }[] }[] }>(compat, "ValidatingWebhookConfiguration", "aviary").webhooks;
    for (const kind of KINDS) {
      const hook = webhooks.find((w) => w.name === `${kind}.validate.aviary.dev`);
      assert.deepEqual(hook?.rules.map((r) => r.apiGroups), [["flagger.app"]], kind);
    }
    assert.ok(!JSON.stringify(webhooks).includes('"aviary.dev"'));
    const deployment = only<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(compat, "Deployment", "aviary");
    const config = parseConfig(deployment.spec.template.spec.containers[0]!.args, { POD_NAME: "aviary-0" }, "host", 1) as Config;
    assert.equal(config.api.name, "flagger.app");
    assert.equal(config.api.apiVersion, "flagger.app/v1beta1");
  });

  it("the chart: apiGroup drives the CRDs, the validating webhooks and the flag; its flagger.app ClusterRole matches", () => {
    const chart = join(MANIFESTS, "chart");
    const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as { apiGroup: string };
    assert.equal(values.apiGroup, "aviary.dev");
    const deployment = readFileSync(join(chart, "templates", "deployment.yaml"), "utf8");
    assert.match(deployment, /- --api-group=\{\{ include "aviary.apiGroup" \. \}\}/);
    const crds = readFileSync(join(chart, "templates", "crds.yaml"), "utf8");
    for (const kind of KINDS) assert.match(crds, new RegExp(`include "aviary.crd" \\(dict "root" \\. "plural" "${kind}"\\)`));
    const webhooks = readFileSync(join(chart, "templates", "webhooks.yaml"), "utf8");
    assert.equal(webhooks.match(/apiGroups: \[\{\{ include "aviary.apiGroup" \. \| quote \}\}\]/g)?.length, 3);
    assert.ok(!webhooks.includes('"aviary.dev"'), "run hack/sync-chart-crds.sh");
    const rbac = readFileSync(join(chart, "templates", "rbac.yaml"), "utf8");
    const start = rbac.indexOf("-flagger-app\n");
    const block = rbac.slice(rbac.indexOf("\nrules:", start), rbac.indexOf("\n---", start));
    const rules = (parse(block) as { rules: RoleObject["rules"] }).rules;
    const ours = only<RoleObject>(base, "ClusterRole", "aviary").rules.filter((r) => r.apiGroups?.includes("aviary.dev"));
    assert.deepEqual(rules, ours.map((r) => ({ ...r, apiGroups: ["flagger.app"] })));
  });
});
