/**
 * examples/flagger-compat rendered by the real kustomize (kubectl kustomize): manifests/ with
 * the flagger-compat Component, as test/unit/install/flagger-compat.test.ts expects it.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { kubectlOk, requireKubeconfig } from "../../support/kubectl.ts";

interface Obj {
  kind: string;
  metadata: { name: string };
  spec?: { group?: string; template?: { spec: { containers: { args: string[] }[] } } };
  rules?: { apiGroups?: string[] }[];
  webhooks?: { name: string; rules: { apiGroups: string[] }[] }[];
}

describe("install: examples/flagger-compat (kustomize)", () => {
  let rendered: Obj[];
  before(async () => {
    requireKubeconfig();
    rendered = parseAllDocuments(await kubectlOk(["kustomize", "examples/flagger-compat"])).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
  });

  it("serves the three kinds in flagger.app only, with the operator told so", () => {
    const crds = rendered.filter((o) => o.kind === "CustomResourceDefinition").map((o) => `${o.metadata.name} ${o.spec?.group}`).sort();
    assert.deepEqual(crds, ["alertproviders.flagger.app flagger.app", "canaries.flagger.app flagger.app", "metrictemplates.flagger.app flagger.app"]);
    const args = rendered.find((o) => o.kind === "Deployment" && o.metadata.name === "aviary")!.spec!.template!.spec.containers[0]!.args;
    assert.ok(args.includes("--api-group=flagger.app"), args.join(" "));
    assert.ok(args.includes("--mesh-provider=istio"), args.join(" "));
  });

  it("grants and validates flagger.app instead of aviary.dev", () => {
    const role = rendered.find((o) => o.kind === "ClusterRole" && o.metadata.name === "aviary")!;
    const groups = role.rules!.flatMap((r) => r.apiGroups ?? []);
    assert.ok(groups.includes("flagger.app"));
    assert.ok(!groups.includes("aviary.dev"));
    const hooks = rendered.find((o) => o.kind === "ValidatingWebhookConfiguration")!.webhooks!;
    for (const kind of ["canaries", "metrictemplates", "alertproviders"]) {
      assert.deepEqual(hooks.find((w) => w.name === `${kind}.validate.aviary.dev`)!.rules.map((r) => r.apiGroups), [["flagger.app"]]);
    }
  });
});
