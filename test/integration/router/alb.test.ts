/**
 * The alb router against a real API server: the forward action is written on the user's own
 * Ingress (the API server's Ingress schema accepts it), weights follow a run and a rollback,
 * a second reconcile writes nothing, a hand edit or removal of the action is undone in one
 * patch, every other field of the user's Ingress stays as the user wrote it, and finalize
 * puts the user's original action back.
 */
import assert from "node:assert/strict";
import { errorsOf, validateCanary } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { ANNOTATION_ORIGINAL_ACTION, createAlbRouter } from "../../../src/router/alb.ts";
import { RouterSpecError } from "../../../src/router/types.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertIdleReconcile, assertRunKeptByReconcile, createCanary, ingressCanary, loadExample, setUpRouterBench, tearDownRouterBench, userIngressOf } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

const P = "alb.ingress.kubernetes.io";

interface TargetGroup { serviceName: string; servicePort: string; weight: number }
interface Action { type: string; forwardConfig: { targetGroups: TargetGroup[] } }

describe("alb router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const getIngress = (name: string) => kubectlJson<KubeObject>(["get", "ingresses.networking.k8s.io", name, "-n", ns.name]);
  const actionOf = async (ingress: string, action: string): Promise<Action | undefined> => {
    const text = (await getIngress(ingress)).metadata.annotations?.[`${P}/actions.${action}`];
    return text === undefined ? undefined : (JSON.parse(text) as Action);
  };
  const weightsOf = async (ingress: string, action: string) =>
    (await actionOf(ingress, action))?.forwardConfig.targetGroups.map((g) => [g.serviceName, g.servicePort, g.weight]);
  const argoAction = JSON.stringify({ Type: "forward", ForwardConfig: { TargetGroups: [{ ServiceName: "podinfo-stable", ServicePort: "80", Weight: 100 }] } });
  const userIngress = userIngressOf({
    className: "alb",
    annotations: (service) => ({ [`${P}/scheme`]: "internet-facing", [`${P}/actions.${service}`]: argoAction }),
    portName: "use-annotation",
  });

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createAlbRouter({ kube, logger: testLogger() })));
  });

  after(() => tearDownRouterBench({ ns, client }));

  describe("a weighted canary", () => {
    let canary: Canary;
    let original: KubeObject;

    before(async () => {
      await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(userIngress("podinfo", "podinfo")));
      original = await getIngress("podinfo");
      canary = await ingressCanary(client, ns.name, "alb");
    });

    it("writes the forward action on the user's Ingress in one patch, recording the action it replaced", async () => {
      kube.writes.length = 0;
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.deepEqual(kube.writes, ["patch Ingress podinfo"]);
      const ingress = await getIngress("podinfo");
      assert.deepEqual(await actionOf("podinfo", "podinfo"), {
        type: "forward",
        forwardConfig: { targetGroups: [{ serviceName: "podinfo-primary", servicePort: "80", weight: 100 }, { serviceName: "podinfo-canary", servicePort: "80", weight: 0 }] },
      });
      assert.deepEqual(JSON.parse(ingress.metadata.annotations![ANNOTATION_ORIGINAL_ACTION]!), { annotation: `${P}/actions.podinfo`, value: argoAction });
      assert.deepEqual(ingress.metadata.labels, { team: "web", "aviary.dev/canary": "podinfo" });
      assert.equal(ingress.metadata.annotations![`${P}/scheme`], "internet-facing");
      assert.deepEqual(ingress.spec, original.spec, "the spec stays the user's");
      assert.equal(ingress.metadata.ownerReferences, undefined);
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
      await assertIdleReconcile({ kube, router }, canary, async () => (await getIngress("podinfo")).metadata.resourceVersion, signal());
    });

    it("follows a canary run 10 → 20 → 30 → promotion → 100/0, the weights summing to 100", async () => {
      await assertRunKeptByReconcile(router, canary, [[90, 10], [80, 20], [70, 30], [0, 100], [100, 0]], async (p, c) => {
        assert.deepEqual(await weightsOf("podinfo", "podinfo"), [["podinfo-primary", "80", p], ["podinfo-canary", "80", c]]);
      }, signal);
    });

    it("rolls back from 20% to the primary", async () => {
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("undoes a hand edit of the action in one patch, keeping the user's other changes", async () => {
      await router.setRoutes(canary, { primary: 70, canary: 30, mirror: false }, signal());
      const edited = JSON.stringify({ type: "forward", forwardConfig: { targetGroups: [{ serviceName: "podinfo-primary", servicePort: "80", weight: 0 }, { serviceName: "podinfo-canary", servicePort: "80", weight: 100 }] } });
      await kubectlOk(["annotate", "--overwrite", "ingresses.networking.k8s.io", "podinfo", "-n", ns.name, `${P}/actions.podinfo=${edited}`, `${P}/healthcheck-path=/healthz`]);
      kube.writes.length = 0;
      const split = { primary: 70, canary: 30, mirror: false };
      assert.deepEqual(await router.reconcile(canary, signal(), split), { changed: true, split: { now: split, before: { primary: 0, canary: 100, mirror: false } } });
      assert.deepEqual(kube.writes, ["patch Ingress podinfo"]);
      assert.deepEqual(await weightsOf("podinfo", "podinfo"), [["podinfo-primary", "80", 70], ["podinfo-canary", "80", 30]]);
      assert.equal((await getIngress("podinfo")).metadata.annotations?.[`${P}/healthcheck-path`], "/healthz", "the user's own annotations are theirs");
    });

    it("puts back a removed action and a removed label in one patch", async () => {
      await kubectlOk(["annotate", "ingresses.networking.k8s.io", "podinfo", "-n", ns.name, `${P}/actions.podinfo-`]);
      await kubectlOk(["label", "ingresses.networking.k8s.io", "podinfo", "-n", ns.name, "aviary.dev/canary-"]);
      kube.writes.length = 0;
      const split = { primary: 70, canary: 30, mirror: false };
      assert.deepEqual(await router.reconcile(canary, signal(), split), { changed: true, split: { now: split, before: null } });
      assert.deepEqual(kube.writes, ["patch Ingress podinfo"]);
      assert.deepEqual(await weightsOf("podinfo", "podinfo"), [["podinfo-primary", "80", 70], ["podinfo-canary", "80", 30]]);
      assert.equal((await getIngress("podinfo")).metadata.labels?.["aviary.dev/canary"], "podinfo");
      assert.deepEqual(JSON.parse((await getIngress("podinfo")).metadata.annotations![ANNOTATION_ORIGINAL_ACTION]!).value, argoAction, "the original is still the user's");
    });

    it("finalize gives the user's Ingress back as it was, apart from the user's own edits", async () => {
      await router.finalize(canary, signal());
      const back = await getIngress("podinfo");
      assert.deepEqual(back.metadata.labels, { team: "web" });
      assert.deepEqual(back.metadata.annotations, { ...original.metadata.annotations, [`${P}/healthcheck-path`]: "/healthz" });
      assert.deepEqual(back.spec, original.spec);
      kube.writes.length = 0;
      await router.finalize(canary, signal());
      assert.deepEqual(kube.writes, [], "finalize twice writes once");
    });
  });

  it("the example in examples/alb is valid and its Ingress takes the action", async () => {
    const [ingress] = await loadExample("examples/alb/ingress.yaml");
    ingress!.metadata.name = "example";
    (ingress!.spec as { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] }).rules[0]!.http.paths[0]!.backend.service.name = "example";
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(ingress));
    const [example] = await loadExample("examples/alb/canary.yaml", "Canary");
    assert.deepEqual(errorsOf(validateCanary(example)), []);
    const spec = example!.spec as Canary["spec"];
    const canary = await createCanary(client, ns.name, "example", { ...spec, targetRef: { ...spec.targetRef, name: "example" }, ingressRef: { ...spec.ingressRef!, name: "example" } });
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 90, canary: 10, mirror: false }, signal());
    assert.deepEqual(await weightsOf("example", "example"), [["example-primary", "80", 90], ["example-canary", "80", 10]]);
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    await router.finalize(canary, signal());
    assert.equal(await actionOf("example", "example"), undefined, "there was no action before: none after");
  });

  it("refuses an Ingress whose rule sends traffic to the apex Service directly", async () => {
    const direct = userIngress("direct", "direct");
    direct.spec.rules[0]!.http.paths[0]!.backend.service.port = { number: 80 } as never;
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(direct));
    const canary = await createCanary(client, ns.name, "direct", { provider: "alb", ingressRef: { name: "direct" }, service: { port: 80 } });
    await assert.rejects(router.reconcile(canary, signal()), (err: unknown) => err instanceof RouterSpecError && err.field === "spec.ingressRef" && /use-annotation/.test(err.message));
  });
});
