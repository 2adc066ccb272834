/**
 * The MetricTemplate examples against the MetricTemplate CRD's schema, as the API server
 * enforces it: a copy of manifests/crds/metrictemplates.yaml is served under a group of
 * its own (CRDs are cluster-wide; the real one may belong to another run), and every
 * example is created through it, server-side.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { clusterClient, suffix } from "../kube/support.ts";
import { eventually, tempNamespace } from "../../support/kubectl.ts";

const DIR = "examples/metric-templates";

describe("examples/metric-templates against the MetricTemplate CRD", function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let ns: { name: string; remove: () => Promise<void> };
  const group = `examples-${suffix()}.it.aviary.dev`;
  const crdName = `metrictemplates.${group}`;

  before(async () => {
    client = clusterClient();
    const crd = parseAllDocuments(readFileSync("manifests/crds/metrictemplates.yaml", "utf8"))
      .map((d) => d.toJS() as KubeObject & { spec: { group: string; names: Record<string, unknown> } })
      .find((d) => d?.kind === "CustomResourceDefinition")!;
    crd.metadata = { name: crdName };
    crd.spec.group = group;
    delete crd.spec.names.shortNames;
    delete crd.spec.names.categories;
    await client.create(crd);
    await eventually(`CRD ${crdName} to be served`, async () => ((await client.crdInstalled(group, "metrictemplates")) ? true : undefined), 30_000);
    ns = await tempNamespace("aviary-mt-examples");
  });

  after(async () => {
    await ns?.remove();
    await client?.delete({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crdName }).catch(() => false);
    await client?.close();
  });

  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".yaml"))) {
    it(`${file}: every MetricTemplate is accepted by the schema as written`, async () => {
      const docs = parseAllDocuments(readFileSync(`${DIR}/${file}`, "utf8")).map((d) => d.toJS() as KubeObject);
      for (const doc of docs.filter((d) => d.kind === "MetricTemplate")) {
        const created = await client.create({ ...doc, apiVersion: `${group}/v1beta1`, metadata: { ...doc.metadata, namespace: ns.name } });
        // Pruning would silently drop fields the schema does not know: nothing may be lost.
        assert.deepEqual(created.spec, doc.spec, `${file} ${doc.metadata.name}`);
      }
    });
  }

  it("rejects a provider type the schema does not list", async () => {
    await assert.rejects(
      client.create({ apiVersion: `${group}/v1beta1`, kind: "MetricTemplate", metadata: { name: "unknown", namespace: ns.name }, spec: { provider: { type: "skywalking" }, query: "x" } }),
      /spec.provider.type: Unsupported value: "skywalking"/,
    );
  });
});
