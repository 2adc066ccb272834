/**
 * Flagger's Service fields against the real API server: `service.headless` and
 * `service.trafficDistribution` on the three generated Services (the API server validates
 * both), and `service.unmanagedMetadata`: a key left to another controller keeps that
 * controller's value through aviary's reconciles.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { eventually, holdsFor, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase } from "../../support/canary-fixtures.ts";

interface ServiceObj {
  metadata: { uid: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { clusterIP?: string; trafficDistribution?: string };
}

const getService = (ns: string, name: string) => kubectlJson<ServiceObj>(["get", "service", name, "-n", ns]);

describe("canary engine: headless, trafficDistribution and unmanagedMetadata on the generated Services", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let aviary: AviaryProcess;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    ns = await tempNamespace("aviary-svc-fields");
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
  });
  after(async () => {
    await aviary?.stop();
    await ns?.remove();
  });

  it("creates the three Services headless with the traffic distribution, and leaves unmanaged keys to their owner", async () => {
    const n = ns.name;
    await apply(n, deployment("podinfo", "podinfo:1"));
    const service = {
      port: 9898, headless: true, trafficDistribution: "PreferClose",
      apex: { annotations: { "external-dns.alpha.kubernetes.io/hostname": "podinfo.example.com", team: "web" } },
      unmanagedMetadata: { annotations: ["external-dns.alpha.kubernetes.io/hostname"] },
    };
    await apply(n, canary("podinfo", { provider: "kubernetes", spec: { service }, analysis: { iterations: 2, stepWeight: undefined, maxWeight: undefined } }));
    await waitForPhase(n, "podinfo", "Initialized");
    for (const name of ["podinfo", "podinfo-primary", "podinfo-canary"]) {
      const svc = await getService(n, name);
      assert.equal(svc.spec.clusterIP, "None", `${name} is headless`);
      assert.equal(svc.spec.trafficDistribution, "PreferClose", name);
    }
    const apex = await getService(n, "podinfo");
    assert.equal(apex.metadata.annotations?.team, "web");
    assert.equal(apex.metadata.annotations?.["external-dns.alpha.kubernetes.io/hostname"], undefined, "aviary never writes an unmanaged key");

    // Another controller sets the key; a change of the Canary makes aviary re-apply the Services.
    await kubectlOk(["annotate", "service", "podinfo", "-n", n, "--field-manager=external-dns", "external-dns.alpha.kubernetes.io/hostname=managed-elsewhere.example.com"]);
    await kubectlOk(["patch", "canaries.aviary.dev", "podinfo", "-n", n, "--type=merge", "-p", '{"spec":{"service":{"trafficDistribution":"PreferSameZone","apex":{"annotations":{"external-dns.alpha.kubernetes.io/hostname":"podinfo.example.com","team":"shop"}}}}}']);
    await eventually("the Services re-applied", async () => ((await getService(n, "podinfo")).spec.trafficDistribution === "PreferSameZone" ? true : undefined));
    await holdsFor("the other controller's value to stand", async () => {
      const svc = await getService(n, "podinfo");
      const value = svc.metadata.annotations?.["external-dns.alpha.kubernetes.io/hostname"];
      return value === "managed-elsewhere.example.com" && svc.metadata.annotations?.team === "shop" ? undefined : `annotations ${JSON.stringify(svc.metadata.annotations)}`;
    }, 3_000);
  });

  it("keeps the address of a Service that exists when headless is turned on later", async () => {
    const n = ns.name;
    await apply(n, deployment("backend", "backend:1"));
    await apply(n, canary("backend", { provider: "kubernetes", spec: { service: { port: 9898 } }, analysis: { iterations: 2, stepWeight: undefined, maxWeight: undefined } }));
    await waitForPhase(n, "backend", "Initialized");
    const before = await getService(n, "backend-primary");
    assert.notEqual(before.spec.clusterIP, "None");
    await kubectlOk(["patch", "canaries.aviary.dev", "backend", "-n", n, "--type=merge", "-p", '{"spec":{"service":{"headless":true,"trafficDistribution":"PreferClose"}}}']);
    await eventually("the Services re-applied", async () => ((await getService(n, "backend-primary")).spec.trafficDistribution === "PreferClose" ? true : undefined));
    const after = await getService(n, "backend-primary");
    assert.equal(after.metadata.uid, before.metadata.uid);
    assert.equal(after.spec.clusterIP, before.spec.clusterIP, "an existing Service keeps its address");
    // Deleted, it comes back headless.
    await kubectlOk(["delete", "service", "backend-canary", "-n", n]);
    const recreated = await eventually("backend-canary re-created", async () => {
      const svc = await getService(n, "backend-canary").catch(() => undefined);
      return svc !== undefined && svc.metadata.uid !== undefined ? svc : undefined;
    });
    assert.equal(recreated.spec.clusterIP, "None");
    assert.ok(!aviary.logs.some((l) => /field is immutable/.test(l)), "no apply tried to change a clusterIP");
  });
});
