/**
 * Migrating from Flagger by swapping the controller: the objects of a Canary that Flagger
 * promoted are laid out as Flagger lays them out (the `-primary` Deployment with its
 * `flagger-id`, the three Services, the Istio DestinationRules and VirtualService, each with
 * Flagger's controller owner reference and written by the field manager `flagger`; the target
 * scaled to zero; a status Flagger wrote). aviary then runs with --api-group flagger.app and
 * --mesh-provider istio. It must take everything over in place — no run, no new objects, no
 * rolled pods, no traffic moved — and then run the next revision like any other.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { eventually, holdsFor, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { events } from "../../support/canary-fixtures.ts";

const NAME = "podinfo";
const CANARY = "canaries.flagger.app";
const FLAGGER_HASH = "6c7f8d5b9d";
const INTERVAL_MS = 1_000;
const CONFIG = "podinfo-config";

interface Meta {
  uid: string;
  generation?: number;
  resourceVersion: string;
  labels?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: { manager: string; operation: string; fieldsV1?: Record<string, unknown>; subresource?: string }[];
}
interface Obj { metadata: Meta; spec: Record<string, unknown>; status?: Record<string, unknown> }
interface DeploymentObj extends Obj {
  spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { image: string; env?: { name: string }[] }[] } } };
}
interface VirtualServiceObj extends Obj { spec: { http: { route: { destination: { host: string }; weight?: number }[] }[] } }

const get = <T = Obj>(ns: string, kind: string, name: string) => kubectlJson<T>(["get", kind, name, "-n", ns, "--show-managed-fields"]);

/** kubectl create as Flagger does it: a client-side create under the field manager `flagger`. */
async function createAsFlagger(ns: string, obj: Record<string, unknown>): Promise<void> {
  await kubectlOk(["create", "-n", ns, "--field-manager=flagger", "-f", "-"], JSON.stringify(obj));
}

/** The pod template; `config` is the ConfigMap it takes its environment from (the primary's is Flagger's copy). */
const template = (labels: Record<string, string>, config: string, annotations?: Record<string, string>) => ({
  metadata: { labels, ...(annotations ? { annotations } : {}) },
  spec: {
    containers: [{
      name: "app", image: "podinfo:1.0.0", ports: [{ name: "http", containerPort: 9898 }],
      env: [{ name: "FOO", value: "bar" }], envFrom: [{ configMapRef: { name: config } }],
    }],
  },
});

/** The VirtualService's weights (primary/canary) as `p/c`. */
async function weights(ns: string): Promise<string> {
  const vs = await get<VirtualServiceObj>(ns, "virtualservices.networking.istio.io", NAME);
  const route = vs.spec.http.find((h) => h.route.some((r) => r.destination.host === `${NAME}-canary`));
  const w = (host: string) => route?.route.find((r) => r.destination.host === host)?.weight ?? 0;
  return `${w(`${NAME}-primary`)}/${w(`${NAME}-canary`)}`;
}

describe("canary engine: taking over from Flagger (--api-group flagger.app)", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let aviary: AviaryProcess | undefined;
  const uids = new Map<string, string>();
  let primaryGeneration = 0;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/flagger-compat/crds"]);
    ns = await tempNamespace("aviary-flagger");
    const n = ns.name;
    // The user's ConfigMap and Deployment, the Deployment scaled to zero by Flagger after initialization.
    await kubectlOk(["apply", "--server-side", "-n", n, "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: CONFIG }, data: { A: "1", B: "2" } }));
    await kubectlOk(["apply", "--server-side", "-n", n, "-f", "-"], JSON.stringify({
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: NAME, labels: { app: NAME } },
      spec: { replicas: 2, selector: { matchLabels: { app: NAME } }, template: template({ app: NAME }, CONFIG) },
    }));
    await kubectlOk(["patch", "deployment", NAME, "-n", n, "--field-manager=flagger", "--type=merge", "-p", '{"spec":{"replicas":0}}']);
    // The user's Canary, in Flagger's group, and the status Flagger wrote after its last promotion.
    await kubectlOk(["apply", "--server-side", "-n", n, "-f", "-"], JSON.stringify({
      apiVersion: "flagger.app/v1beta1", kind: "Canary", metadata: { name: NAME },
      spec: {
        targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: NAME },
        service: { port: 9898 },
        analysis: { interval: "1s", threshold: 2, stepWeight: 50, maxWeight: 50 },
      },
    }));
    const at = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    await kubectlOk(["patch", CANARY, NAME, "-n", n, "--subresource=status", "--field-manager=flagger", "--type=merge", "-p", JSON.stringify({
      status: {
        phase: "Succeeded", canaryWeight: 0, failedChecks: 0, iterations: 0,
        lastAppliedSpec: FLAGGER_HASH, lastPromotedSpec: FLAGGER_HASH, trackedConfigs: {}, lastTransitionTime: at,
        conditions: [{ type: "Promoted", status: "True", reason: "Succeeded", message: "Canary analysis completed successfully, promotion finished.", lastUpdateTime: at, lastTransitionTime: at }],
      },
    })]);
    const canaryUid = (await get(n, CANARY, NAME)).metadata.uid;
    const ownerReferences = [{ apiVersion: "flagger.app/v1beta1", kind: "Canary", name: NAME, uid: canaryUid, controller: true, blockOwnerDeletion: true }];
    const primary = `${NAME}-primary`;
    // Flagger's copy of the tracked ConfigMap, which its primary references.
    await createAsFlagger(n, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${CONFIG}-primary`, ownerReferences }, data: { A: "1", B: "2" } });
    await createAsFlagger(n, {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: primary, labels: { app: primary }, ownerReferences },
      spec: { replicas: 2, selector: { matchLabels: { app: primary } }, template: template({ app: primary }, `${CONFIG}-primary`, { "flagger-id": "0b6f9a52-6c2e-4a0f-9b43-3f7d7f1c2b11" }) },
    });
    const service = (name: string, selector: string) => ({
      apiVersion: "v1", kind: "Service", metadata: { name, labels: { app: name }, ownerReferences },
      spec: { type: "ClusterIP", selector: { app: selector }, ports: [{ name: "http", protocol: "TCP", port: 9898, targetPort: 9898 }] },
    });
    await createAsFlagger(n, service(`${NAME}-canary`, NAME));
    await createAsFlagger(n, service(`${NAME}-primary`, primary));
    await createAsFlagger(n, service(NAME, primary));
    for (const host of [`${NAME}-canary`, primary]) {
      await createAsFlagger(n, { apiVersion: "networking.istio.io/v1beta1", kind: "DestinationRule", metadata: { name: host, ownerReferences }, spec: { host } });
    }
    await createAsFlagger(n, {
      apiVersion: "networking.istio.io/v1beta1", kind: "VirtualService", metadata: { name: NAME, ownerReferences },
      spec: { hosts: [NAME], gateways: ["mesh"], http: [{ route: [{ destination: { host: primary }, weight: 100 }, { destination: { host: `${NAME}-canary` }, weight: 0 }] }] },
    });
    for (const [kind, name] of [["deployment", primary], ["service", NAME], ["service", primary], ["service", `${NAME}-canary`], ["virtualservices.networking.istio.io", NAME], ["destinationrules.networking.istio.io", primary]] as const) {
      uids.set(`${kind}/${name}`, (await get(n, kind, name)).metadata.uid);
    }
    primaryGeneration = (await get(n, "deployment", primary)).metadata.generation!;
    aviary = startAviary(["--no-webhook", "--namespace", n, "--api-group", "flagger.app", "--mesh-provider", "istio"]);
  });
  after(async () => {
    await aviary?.stop();
    await ns?.remove();
  });

  it("adopts Flagger's objects in place and starts no run", async () => {
    const n = ns.name;
    const adopted = await eventually("the status in aviary's revisions", async () => {
      const c = await get<{ metadata: Meta; status?: { phase?: string; lastAppliedSpec?: string; lastPromotedSpec?: string } }>(n, CANARY, NAME);
      return c.status?.lastPromotedSpec !== FLAGGER_HASH && /^[0-9a-f]{16}$/.test(c.status?.lastPromotedSpec ?? "") ? c : undefined;
    });
    assert.equal(adopted.status?.phase, "Succeeded");
    assert.equal(adopted.status?.lastAppliedSpec, adopted.status?.lastPromotedSpec);
    // Watched across several analysis intervals: no run, no traffic moved, the target stays down.
    await holdsFor("no run, all traffic on the primary, the target at zero", async () => {
      const phase = (await get<{ status?: { phase?: string } }>(n, CANARY, NAME)).status?.phase;
      if (phase !== "Succeeded") return `phase ${phase}`;
      const w = await weights(n);
      if (w !== "100/0") return `weights ${w}`;
      const target = await get<DeploymentObj>(n, "deployment", NAME);
      return target.spec.replicas === 0 ? undefined : `target replicas ${target.spec.replicas}`;
    }, 5 * INTERVAL_MS);
    const reasons = (await events(n, NAME)).map((e) => e.reason);
    assert.ok(reasons.includes("Adopted"), `events: ${reasons.join(", ")}`);
    assert.ok(!reasons.includes("NewRevision"), `events: ${reasons.join(", ")}`);

    // The same objects: nothing recreated, the primary's pods not rolled.
    for (const [key, uid] of uids) {
      const [kind, name] = key.split("/") as [string, string];
      assert.equal((await get(n, kind, name)).metadata.uid, uid, `${key} was not recreated`);
    }
    const primary = await get<DeploymentObj>(n, "deployment", `${NAME}-primary`);
    assert.equal(primary.metadata.generation, primaryGeneration, "the primary's spec is untouched");
    assert.equal(primary.spec.replicas, 2);
    // Now aviary's: its labels, one controller owner reference (the Canary in flagger.app), and Flagger's spec fields.
    for (const obj of [primary, await get(n, "service", NAME), await get(n, "service", `${NAME}-primary`), await get(n, "virtualservices.networking.istio.io", NAME)]) {
      assert.equal(obj.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
      assert.equal(obj.metadata.labels?.["aviary.dev/canary"], NAME);
      const controllers = (obj.metadata.ownerReferences ?? []).filter((o) => o.controller === true);
      assert.deepEqual(controllers.map((o) => `${o.apiVersion} ${o.kind} ${o.name} ${o.uid}`), [`flagger.app/v1beta1 Canary ${NAME} ${adopted.metadata.uid}`]);
    }
    const flaggerSpec = (o: Obj) => (o.metadata.managedFields ?? []).filter((f) => f.manager === "flagger" && f.operation === "Update" && !f.subresource)
      .flatMap((f) => Object.keys((f.fieldsV1?.["f:spec"] ?? {}) as Record<string, unknown>));
    assert.deepEqual(flaggerSpec(primary), ["f:replicas"], "Flagger keeps only the replica count it set");
    assert.deepEqual(flaggerSpec(await get(n, "service", NAME)), ["f:type"]);
    const target = await get<DeploymentObj>(n, "deployment", NAME);
    assert.equal(target.metadata.labels?.["aviary.dev/canary"], NAME, "the target carries the canary label the admission webhook selects on");
  });

  it("runs the next revision normally, and the promotion drops what the target no longer has", async () => {
    const n = ns.name;
    await kubectlOk(["patch", "configmap", CONFIG, "-n", n, "--type=json", "-p", '[{"op":"remove","path":"/data/B"}]']);
    await kubectlOk(["set", "env", "deployment", NAME, "-n", n, "FOO-"]);
    await kubectlOk(["set", "image", "deployment", NAME, "-n", n, "app=podinfo:2.0.0"]);
    await eventually("a run of the new revision", async () => ((await events(n, NAME)).some((e) => e.reason === "NewRevision") ? true : undefined));
    const promoted = await eventually("the new revision promoted", async () => {
      const c = await get<{ status?: { phase?: string } }>(n, CANARY, NAME);
      const primary = await get<DeploymentObj>(n, "deployment", `${NAME}-primary`);
      const container = primary.spec.template.spec.containers[0]!;
      return c.status?.phase === "Succeeded" && container.image === "podinfo:2.0.0" && container.env === undefined ? primary : undefined;
    }, 120_000, 500);
    assert.equal(promoted.metadata.uid, uids.get(`deployment/${NAME}-primary`));
    const copy = await get<{ data?: Record<string, string> } & Obj>(n, "configmap", `${CONFIG}-primary`);
    assert.deepEqual(copy.data, { A: "1" }, "the copy Flagger made follows its source: the removed key is gone");
    assert.equal(promoted.spec.template.metadata.annotations?.["flagger-id"], undefined, "aviary's promotion owns the whole template");
    assert.equal(await weights(n), "100/0");
    assert.equal((await kubectl(["get", "deployment", NAME, "-n", n, "-o", "jsonpath={.spec.replicas}"])).stdout, "0");
  });
});
