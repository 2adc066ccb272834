/**
 * The nginx router against a real API server: the canary Ingress is a valid
 * networking.k8s.io/v1 Ingress, weights follow a canary run and a rollback through its
 * annotations, A/B conditions come and go, a second reconcile writes nothing, hand edits
 * are undone, the user's Ingress is never written, and finalize deletes the copy.
 */
import assert from "node:assert/strict";
import { errorsOf, validateCanary } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createNginxRouter } from "../../../src/router/nginx.ts";
import { RouterSpecError } from "../../../src/router/types.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertIdleReconcile, assertRunKeptByReconcile, createCanary, ingressCanary, loadExample, setUpRouterBench, tearDownRouterBench, userIngressOf } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

const P = "nginx.ingress.kubernetes.io";

interface Ingress extends KubeObject {
  spec: {
    ingressClassName?: string;
    tls?: unknown[];
    rules: { host?: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { number?: number; name?: string } } } }[] } }[];
  };
}

describe("nginx router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const getIngress = (name: string) => kubectlJson<Ingress>(["get", "ingresses.networking.k8s.io", name, "-n", ns.name]);
  const canaryAnnotations = async (name: string) =>
    Object.fromEntries(Object.entries((await getIngress(name)).metadata.annotations ?? {}).filter(([k]) => k.startsWith(`${P}/canary`)));
  const userIngress = userIngressOf({ className: "nginx", annotations: () => ({ [`${P}/proxy-body-size`]: "8m", "example.com/owner": "platform" }), portName: "http", tls: true });

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createNginxRouter({ kube, logger: testLogger() })));
  });

  after(() => tearDownRouterBench({ ns, client }));

  describe("a weighted canary", () => {
    let canary: Canary;
    let original: Ingress;

    before(async () => {
      await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(userIngress("podinfo", "podinfo")));
      original = await getIngress("podinfo");
      canary = await ingressCanary(client, ns.name, "nginx");
    });

    it("creates <ingress>-canary, a valid Ingress pointing at <svc>-canary", async () => {
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const copy = await getIngress("podinfo-canary");
      assert.deepEqual(copy.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
      assert.equal(copy.metadata.labels?.["aviary.dev/canary"], "podinfo");
      assert.deepEqual(copy.metadata.annotations, { [`${P}/proxy-body-size`]: "8m", [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0" });
      assert.equal(copy.spec.ingressClassName, "nginx");
      assert.deepEqual(copy.spec.tls, original.spec.tls);
      assert.deepEqual(copy.spec.rules[0]!.http.paths.map((p) => p.backend.service.name), ["podinfo-canary", "assets"]);
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
      await assertIdleReconcile({ kube, router }, canary, async () => (await getIngress("podinfo-canary")).metadata.resourceVersion, signal());
    });

    it("follows a canary run 10 → 20 → 30 → promotion → 100/0 through the weight annotation", async () => {
      await assertRunKeptByReconcile(router, canary, [[90, 10], [80, 20], [70, 30], [0, 100], [100, 0]], async (_p, c) => {
        assert.equal((await canaryAnnotations("podinfo-canary"))[`${P}/canary-weight`], String(c));
      }, signal);
    });

    it("rolls back from 20% to the primary", async () => {
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("undoes hand edits to the canary Ingress", async () => {
      await router.setRoutes(canary, { primary: 70, canary: 30, mirror: false }, signal());
      await kubectlOk(["annotate", "--overwrite", "ingresses.networking.k8s.io", "podinfo-canary", "-n", ns.name, `${P}/canary-by-header=x-sneaky`, "example.com/note=kept"]);
      await kubectlOk(["patch", "ingresses.networking.k8s.io", "podinfo-canary", "-n", ns.name, "--type=json",
        "-p", JSON.stringify([{ op: "replace", path: "/spec/rules/0/http/paths/0/backend/service/name", value: "podinfo-primary" }])]);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const copy = await getIngress("podinfo-canary");
      assert.equal(copy.spec.rules[0]!.http.paths[0]!.backend.service.name, "podinfo-canary");
      assert.deepEqual(await canaryAnnotations("podinfo-canary"), { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "30" });
      assert.equal(copy.metadata.annotations?.["example.com/note"], "kept", "annotations outside ingress-nginx's are left alone");
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    });

    it("follows a change of the user's Ingress", async () => {
      const changed = userIngress("podinfo", "podinfo");
      changed.metadata.annotations[`${P}/proxy-body-size`] = "16m";
      await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(changed));
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.equal((await getIngress("podinfo-canary")).metadata.annotations?.[`${P}/proxy-body-size`], "16m");
    });

    it("never wrote the user's Ingress, and finalize deletes only the copy", async () => {
      assert.ok(!kube.writes.some((w) => w.endsWith(" podinfo")), kube.writes.join(", "));
      await router.finalize(canary, signal());
      const left = await kubectlJson<{ items: Ingress[] }>(["get", "ingresses.networking.k8s.io", "-n", ns.name]);
      assert.deepEqual(left.items.map((i) => i.metadata.name).filter((n) => n.startsWith("podinfo")), ["podinfo"]);
      assert.equal((await getIngress("podinfo")).metadata.annotations?.[`${P}/canary`], undefined);
    });
  });

  it("A/B: header and cookie conditions while the run takes matched traffic, none after", async () => {
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(userIngress("abtest", "abtest")));
    const canary = await createCanary(client, ns.name, "abtest", {
      provider: "nginx",
      ingressRef: { name: "abtest" },
      service: { port: 80 },
      analysis: { interval: "1m", iterations: 5, match: [{ headers: { "x-canary": { regex: "^(insider|beta)$" } } }, { headers: { cookie: { exact: "canary" } } }] },
    });
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 0, canary: 100, mirror: false }, signal());
    assert.deepEqual(await canaryAnnotations("abtest-canary"), {
      [`${P}/canary`]: "true",
      [`${P}/canary-weight`]: "0",
      [`${P}/canary-by-header`]: "x-canary",
      [`${P}/canary-by-header-pattern`]: "^(insider|beta)$",
      [`${P}/canary-by-cookie`]: "canary",
    });
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 0, canary: 100, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
    assert.deepEqual(await canaryAnnotations("abtest-canary"), { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0" });
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
  });

  it("the examples in examples/nginx are valid and produce a canary Ingress the API server accepts", async () => {
    const [ingress] = await loadExample("examples/nginx/ingress.yaml");
    // The example's Ingress routes to the apex Service podinfo; here it is renamed with the Canary.
    ingress!.metadata.name = "example";
    (ingress!.spec as Ingress["spec"]).rules[0]!.http.paths[0]!.backend.service.name = "example";
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(ingress));
    for (const [file, routes, expected] of [
      ["canary.yaml", { primary: 95, canary: 5 }, { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "5" }],
      ["ab-testing.yaml", { primary: 0, canary: 100 }, {
        [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0",
        [`${P}/canary-by-header`]: "x-canary", [`${P}/canary-by-header-value`]: "insider", [`${P}/canary-by-cookie`]: "canary",
      }],
    ] as const) {
      const [example] = await loadExample(`examples/nginx/${file}`);
      assert.deepEqual(errorsOf(validateCanary(example)), [], file);
      const spec = example!.spec as Canary["spec"];
      await kubectlOk(["delete", "canaries.aviary.dev", "example", "-n", ns.name, "--ignore-not-found"]);
      const canary = await createCanary(client, ns.name, "example", { ...spec, targetRef: { ...spec.targetRef, name: "example" }, ingressRef: { ...spec.ingressRef!, name: "example" } });
      await router.reconcile(canary, signal());
      await router.setRoutes(canary, { ...routes, mirror: false }, signal());
      assert.deepEqual(await canaryAnnotations("example-canary"), expected, file);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false }, file);
      await router.finalize(canary, signal());
    }
  });

  it("refuses an Ingress that does not route to the apex Service", async () => {
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(userIngress("elsewhere", "some-other-service")));
    const canary = await createCanary(client, ns.name, "elsewhere", { provider: "nginx", ingressRef: { name: "elsewhere" }, service: { port: 80 } });
    await assert.rejects(router.reconcile(canary, signal()), (err: unknown) => err instanceof RouterSpecError && err.field === "spec.ingressRef");
  });
});
