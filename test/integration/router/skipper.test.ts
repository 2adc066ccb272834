/**
 * The skipper router against a real API server: the canary Ingress is a valid
 * networking.k8s.io/v1 Ingress listing the apex Service's path for the primary and the canary,
 * weights follow a run and a rollback through zalando.org/backend-weights, a second reconcile
 * writes nothing, a hand edit and a deletion are undone, the user's Ingress is never written,
 * and finalize deletes the copy.
 */
import assert from "node:assert/strict";
import { errorsOf, validateCanary } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createSkipperRouter } from "../../../src/router/skipper.ts";
import { RouterSpecError } from "../../../src/router/types.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertIdleReconcile, assertRunKeptByReconcile, createCanary, ingressCanary, loadExample, setUpRouterBench, tearDownRouterBench, userIngressOf } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

const W = "zalando.org/backend-weights";
const PRED = "zalando.org/skipper-predicate";

interface Ingress extends KubeObject {
  spec: {
    ingressClassName?: string;
    tls?: unknown[];
    defaultBackend?: unknown;
    rules: { host?: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { number?: number; name?: string } } } }[] } }[];
  };
}

describe("skipper router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const getIngress = (name: string) => kubectlJson<Ingress>(["get", "ingresses.networking.k8s.io", name, "-n", ns.name]);
  const weights = async (name: string) => {
    const a = (await getIngress(name)).metadata.annotations ?? {};
    return { weights: JSON.parse(a[W] ?? "null") as unknown, predicate: a[PRED] };
  };
  const userIngress = userIngressOf({
    className: "skipper",
    annotations: () => ({ [PRED]: 'Method("GET")', "zalando.org/skipper-filter": "compress()", "example.com/owner": "platform" }),
    portName: "http",
    tls: true,
    defaultBackend: true,
  });

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createSkipperRouter({ kube, logger: testLogger() })));
  });

  after(() => tearDownRouterBench({ ns, client }));

  describe("a weighted canary", () => {
    let canary: Canary;
    let original: Ingress;

    before(async () => {
      await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(userIngress("podinfo", "podinfo")));
      original = await getIngress("podinfo");
      canary = await ingressCanary(client, ns.name, "skipper");
    });

    it("creates <ingress>-canary, a valid Ingress with the path for <svc>-primary and <svc>-canary, switched off", async () => {
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const copy = await getIngress("podinfo-canary");
      assert.deepEqual(copy.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
      assert.equal(copy.metadata.labels?.["aviary.dev/canary"], "podinfo");
      assert.deepEqual(copy.metadata.annotations, {
        "zalando.org/skipper-filter": "compress()",
        [W]: '{"podinfo-primary":100,"podinfo-canary":0}',
        [PRED]: 'False() && Method("GET")',
      });
      assert.equal(copy.spec.ingressClassName, "skipper");
      assert.deepEqual(copy.spec.tls, original.spec.tls);
      assert.equal(copy.spec.defaultBackend, undefined);
      assert.deepEqual(copy.spec.rules[0]!.http.paths.map((p) => [p.path, p.backend.service.name, p.backend.service.port.name ?? p.backend.service.port.number]), [
        ["/", "podinfo-primary", "http"], ["/", "podinfo-canary", "http"], ["/static", "assets", 80],
      ]);
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
      await assertIdleReconcile({ kube, router }, canary, async () => (await getIngress("podinfo-canary")).metadata.resourceVersion, signal());
    });

    it("follows a canary run 10 → 20 → 30 → promotion → 100/0 through backend-weights and the predicate", async () => {
      await assertRunKeptByReconcile(router, canary, [[90, 10], [80, 20], [70, 30], [0, 100], [100, 0]], async (p, c) => {
        assert.deepEqual(await weights("podinfo-canary"), {
          weights: { "podinfo-primary": p, "podinfo-canary": c },
          predicate: c === 0 ? 'False() && Method("GET")' : 'Weight(100) && Method("GET")',
        });
      }, signal);
    });

    it("rolls back from 20% to the primary", async () => {
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
      assert.equal((await weights("podinfo-canary")).predicate, 'False() && Method("GET")');
    });

    it("undoes a hand edit of the weights and a backend in one write, keeping other annotations", async () => {
      await router.setRoutes(canary, { primary: 70, canary: 30, mirror: false }, signal());
      await kubectlOk(["annotate", "--overwrite", "ingresses.networking.k8s.io", "podinfo-canary", "-n", ns.name, `${W}={"podinfo-primary":0,"podinfo-canary":100}`, "example.com/note=kept"]);
      await kubectlOk(["patch", "ingresses.networking.k8s.io", "podinfo-canary", "-n", ns.name, "--type=json",
        "-p", JSON.stringify([{ op: "replace", path: "/spec/rules/0/http/paths/1/backend/service/name", value: "podinfo-primary" }])]);
      kube.writes.length = 0;
      assert.deepEqual(await router.reconcile(canary, signal(), { primary: 70, canary: 30, mirror: false }), {
        changed: true, split: { now: { primary: 70, canary: 30, mirror: false }, before: { primary: 0, canary: 100, mirror: false } },
      });
      assert.deepEqual(kube.writes, ["apply Ingress podinfo-canary"]);
      const copy = await getIngress("podinfo-canary");
      assert.equal(copy.spec.rules[0]!.http.paths[1]!.backend.service.name, "podinfo-canary");
      assert.deepEqual((await weights("podinfo-canary")).weights, { "podinfo-primary": 70, "podinfo-canary": 30 });
      assert.equal(copy.metadata.annotations?.["example.com/note"], "kept", "annotations outside Skipper's are left alone");
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    });

    it("recreates a deleted copy in one write", async () => {
      await kubectlOk(["delete", "ingresses.networking.k8s.io", "podinfo-canary", "-n", ns.name]);
      kube.writes.length = 0;
      assert.deepEqual(await router.reconcile(canary, signal(), { primary: 70, canary: 30, mirror: false }), {
        changed: true, split: { now: { primary: 70, canary: 30, mirror: false }, before: null },
      });
      assert.deepEqual(kube.writes, ["apply Ingress podinfo-canary"]);
      assert.deepEqual((await weights("podinfo-canary")).weights, { "podinfo-primary": 70, "podinfo-canary": 30 });
    });

    it("never wrote the user's Ingress, and finalize deletes only the copy", async () => {
      assert.ok(!kube.writes.some((w) => w.endsWith(" podinfo")), kube.writes.join(", "));
      assert.equal((await getIngress("podinfo")).metadata.resourceVersion, original.metadata.resourceVersion);
      await router.finalize(canary, signal());
      const left = await kubectlJson<{ items: Ingress[] }>(["get", "ingresses.networking.k8s.io", "-n", ns.name]);
      assert.deepEqual(left.items.map((i) => i.metadata.name).filter((n) => n.startsWith("podinfo")), ["podinfo"]);
    });
  });

  it("the example in examples/skipper is valid and produces a canary Ingress the API server accepts", async () => {
    const [ingress] = await loadExample("examples/skipper/ingress.yaml");
    ingress!.metadata.name = "example";
    (ingress!.spec as Ingress["spec"]).rules[0]!.http.paths[0]!.backend.service.name = "example";
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(ingress));
    const [example] = await loadExample("examples/skipper/canary.yaml");
    assert.deepEqual(errorsOf(validateCanary(example)), []);
    const spec = example!.spec as Canary["spec"];
    const canary = await createCanary(client, ns.name, "example", { ...spec, targetRef: { ...spec.targetRef, name: "example" }, ingressRef: { ...spec.ingressRef!, name: "example" } });
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 95, canary: 5, mirror: false }, signal());
    assert.deepEqual(await weights("example-canary"), { weights: { "example-primary": 95, "example-canary": 5 }, predicate: "Weight(100)" });
    assert.equal((await getIngress("example-canary")).metadata.annotations?.["zalando.org/skipper-filter"], 'appendResponseHeader("X-Served-By", "skipper")');
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    await router.finalize(canary, signal());
    assert.notEqual((await kubectl(["get", "ingresses.networking.k8s.io", "example-canary", "-n", ns.name])).code, 0);
  });

  it("refuses an Ingress that does not route to the apex Service", async () => {
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(userIngress("elsewhere", "some-other-service")));
    const canary = await createCanary(client, ns.name, "elsewhere", { provider: "skipper", ingressRef: { name: "elsewhere" }, service: { port: 80 } });
    await assert.rejects(router.reconcile(canary, signal()), (err: unknown) => err instanceof RouterSpecError && err.field === "spec.ingressRef");
  });
});
