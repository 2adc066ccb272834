import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse, parseAllDocuments } from "yaml";
import { ROUTER_PROVIDERS } from "../../../src/api/types.ts";

const root = new URL("../../../manifests/", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");
const docs = (path: string): Record<string, unknown>[] => parseAllDocuments(read(path)).map((d) => d.toJS() as Record<string, unknown>).filter((d) => d !== null);

describe("Helm chart (manifests/chart)", () => {
  for (const crd of ["canaries", "metrictemplates", "alertproviders"]) {
    it(`carries manifests/crds/${crd}.yaml unchanged, kept on uninstall`, () => {
      const [chart] = docs(`chart/files/${crd}.yaml`) as { metadata: { annotations?: Record<string, string> } }[];
      assert.equal(chart!.metadata.annotations?.["helm.sh/resource-policy"], "keep");
      delete chart!.metadata.annotations;
      assert.deepEqual(chart, docs(`crds/${crd}.yaml`)[0], "run hack/sync-chart-crds.sh");
    });
  }

  it("grants the same cluster-wide rules as manifests/rbac/cluster-role.yaml", () => {
    const template = read("chart/templates/rbac.yaml");
    const rules = template.slice(template.indexOf("\nrules:"), template.indexOf("\n---"));
    assert.ok(!rules.includes("{{"), "the rules are plain YAML");
    assert.deepEqual(parse(rules), { rules: (docs("rbac/cluster-role.yaml")[0] as { rules: unknown }).rules });
  });

  it("accepts as meshProvider exactly the providers aviary serves", () => {
    const listed = /\(list ((?:"[^"]+" ?)+)\)/.exec(read("chart/templates/_helpers.tpl"))?.[1];
    assert.ok(listed, "the provider list in _helpers.tpl");
    assert.deepEqual(listed.split(" ").map((s) => s.replace(/"/g, "")), [...ROUTER_PROVIDERS]);
  });

  it("has Flagger's value names where they mean the same", () => {
    const values = parse(read("chart/values.yaml")) as Record<string, Record<string, unknown>>;
    const has = (path: string) => path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values) !== undefined;
    const flaggerNames = [
      "image.repository", "image.tag", "image.pullPolicy", "image.pullSecret", "meshProvider", "metricsServer", "namespace", "logLevel",
      "threadiness", "ingressAnnotationsPrefix", "leaderElection.enabled", "leaderElection.replicaCount", "slack.user", "slack.channel", "slack.url",
      "msteams.url", "podMonitor.enabled", "podMonitor.namespace", "podMonitor.interval", "podMonitor.additionalLabels", "serviceAccount.create",
      "serviceAccount.name", "serviceAccount.annotations", "rbac.create", "crd.create", "nameOverride", "fullnameOverride", "podAnnotations",
      "podPriorityClassName", "podDisruptionBudget.enabled", "podDisruptionBudget.minAvailable", "env", "resources", "nodeSelector", "tolerations", "affinity",
    ];
    assert.deepEqual(flaggerNames.filter((n) => !has(n)), []);
  });
});
