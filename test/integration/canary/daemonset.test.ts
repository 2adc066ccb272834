/**
 * DaemonSet targets against the real API server, whose kube-controller-manager runs the
 * DaemonSet controller on kwok's fake nodes: a primary DaemonSet with a pod on every node, the
 * canary parked by a node selector no node carries and unparked for a run, weights moving
 * step by step to a promotion, a failing revision rolled back, the admission webhook stamping
 * revisions and keeping an idle DaemonSet parked, a hand-deleted primary restored, deletion of
 * the Canary with and without revertOnDeletion, config tracking and an OnDelete target refused.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { applyManifest, eventually, holdsFor, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, events, getCanary, routeWeights, waitForPhase, watchDistinct, watchWeights } from "../../support/canary-fixtures.ts";
import { loadHook } from "./router-runs.ts";

const PARK = "aviary.dev/scale-to-zero";
/** Someone other than aviary (which runs with the test's own credentials and passes its guards). */
const AS_USER = ["--as=jane@example.com", "--as-group=system:masters"];

interface DaemonSetObject {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: { updateStrategy?: { type?: string }; template: { spec: { nodeSelector?: Record<string, string>; containers: { image: string }[] } } };
  status?: { desiredNumberScheduled?: number; numberAvailable?: number; updatedNumberScheduled?: number };
}

function daemonSet(name: string, image: string): Record<string, unknown> {
  return {
    apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name, labels: { app: name } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image, ports: [{ name: "http", containerPort: 9898 }] }] } },
    },
  };
}

function dsCanary(name: string, hooks: HookServer): Record<string, unknown> {
  const c = canary(name, { analysis: { webhooks: loadHook(hooks, name) } }) as { spec: Record<string, unknown> };
  c.spec.targetRef = { apiVersion: "apps/v1", kind: "DaemonSet", name };
  return c;
}

const getDaemonSet = (ns: string, name: string) => kubectlJson<DaemonSetObject>(["get", "daemonset", name, "-n", ns]);
const dsImage = (d: DaemonSetObject) => d.spec.template.spec.containers[0]?.image;
const isParked = (d: DaemonSetObject) => d.spec.template.spec.nodeSelector?.[PARK] === "true";
async function podCount(ns: string, app: string): Promise<number> {
  const pods = await kubectlJson<{ items: { metadata: { deletionTimestamp?: string } }[] }>(["get", "pods", "-n", ns, "-l", `app=${app}`]);
  return pods.items.filter((p) => p.metadata.deletionTimestamp === undefined).length;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("canary engine: DaemonSet targets", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let hooks: HookServer;
  let controller: AviaryProcess;
  let webhook: AviaryProcess | undefined;
  let certDir: string;
  let nodes: number;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    nodes = (await kubectlJson<{ items: unknown[] }>(["get", "nodes"])).items.length;
    assert.ok(nodes > 0, "the control plane has nodes for DaemonSet pods");
    ns = await tempNamespace();
    hooks = await startHookServer();
    certDir = await mkdtemp(join(tmpdir(), "aviary-certs-"));
    const port = await freePort();
    controller = startAviary(["--no-webhook", "--namespace", ns.name]);
    webhook = startAviary(["--no-controller", "--webhook-host", "127.0.0.1", "--webhook-port", String(port), "--webhook-url", `https://127.0.0.1:${port}`, "--cert-dir", certDir]);
    await webhook.waitForLog(/admission webhook serving/, 30_000);
    await eventually("the webhook to be called", async () => {
      const probe = canary("probe") as { spec: { service: Record<string, unknown> } };
      delete probe.spec.service.gatewayRefs;
      const r = await applyManifest(ns.name, probe);
      return r.code !== 0 && /denied the request/.test(r.stderr) ? true : undefined;
    }, 30_000, 500);
  });

  after(async () => {
    await webhook?.stop();
    await kubectl(["delete", "mutatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await kubectl(["delete", "validatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await controller?.stop();
    await hooks?.close();
    await ns?.remove();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it("initializes: a ready primary DaemonSet with a pod on every node, the canary parked with no pods", async () => {
    await apply(ns.name, daemonSet("agent", "agent:1.0.0"));
    await eventually("the target's pods on every node", async () => ((await podCount(ns.name, "agent")) === nodes ? true : undefined), 30_000);
    await apply(ns.name, dsCanary("agent", hooks));
    await waitForPhase(ns.name, "agent", "Initialized");

    const primary = await getDaemonSet(ns.name, "agent-primary");
    assert.equal(dsImage(primary), "agent:1.0.0");
    assert.equal(primary.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
    assert.deepEqual(primary.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ["Canary/agent"]);
    assert.equal(isParked(primary), false);
    assert.equal(primary.status?.desiredNumberScheduled, nodes);
    assert.equal(primary.status?.numberAvailable, nodes, "Initialized only once the primary is ready on every node");

    assert.ok(isParked(await getDaemonSet(ns.name, "agent")), "the target carries the parking node selector");
    await eventually("the canary's pods gone", async () => ((await podCount(ns.name, "agent")) === 0 ? true : undefined), 30_000);
    assert.equal(await podCount(ns.name, "agent-primary"), nodes);

    const services = await kubectlJson<{ items: { metadata: { name: string }; spec: { selector: Record<string, string> } }[] }>(["get", "services", "-n", ns.name]);
    const selectors = Object.fromEntries(services.items.map((s) => [s.metadata.name, s.spec.selector.app]));
    assert.deepEqual(selectors, { agent: "agent-primary", "agent-primary": "agent-primary", "agent-canary": "agent" });
    assert.deepEqual(await routeWeights(ns.name, "agent"), { primary: 100, canary: 0 });
  });

  it("`kubectl set image`: stamped by the webhook, the canary unparked on every node, weights 20 → 40 → 60, promoted and parked again", async () => {
    const weights = watchWeights(ns.name, "agent");
    const canaryPods = watchDistinct(() => podCount(ns.name, "agent"), (a, b) => a !== b);
    await kubectlOk(["set", "image", "daemonset/agent", "app=agent:2.0.0", "-n", ns.name, ...AS_USER]);
    const target = await getDaemonSet(ns.name, "agent");
    assert.match(target.metadata.annotations?.["aviary.dev/revision"] ?? "", /^[0-9a-f]{16}$/);
    assert.equal(target.metadata.annotations?.["aviary.dev/changed-by"], "jane@example.com");

    const done = await waitForPhase(ns.name, "agent", "Succeeded", 90_000);
    const seen = await weights.stop();
    assert.deepEqual(seen.filter((w) => w > 0), [20, 40, 60], `weights never go backwards: ${seen.join(" → ")}`);
    assert.ok((await canaryPods.stop()).includes(nodes), "the canary ran a pod on every node during the run");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");

    const primary = await getDaemonSet(ns.name, "agent-primary");
    assert.equal(dsImage(primary), "agent:2.0.0");
    assert.equal(primary.metadata.annotations?.["aviary.dev/changed-by"], "jane@example.com");
    assert.equal(isParked(primary), false, "the parking selector never reaches the primary");
    assert.ok(isParked(await getDaemonSet(ns.name, "agent")), "the canary is parked again");
    await eventually("the canary's pods gone and the primary's updated", async () => {
      const [canaryCount, p] = await Promise.all([podCount(ns.name, "agent"), getDaemonSet(ns.name, "agent-primary")]);
      return canaryCount === 0 && p.status?.updatedNumberScheduled === nodes && p.status.numberAvailable === nodes ? true : undefined;
    }, 30_000);
    assert.deepEqual(await routeWeights(ns.name, "agent"), { primary: 100, canary: 0 });
    const reasons = (await events(ns.name, "agent")).map((e) => e.reason);
    for (const r of ["NewRevision", "WeightAdvanced", "Promoted"]) assert.ok(reasons.includes(r), `events: ${reasons.join(", ")}`);
  });

  it("keeps the idle canary parked when a replace drops the parking selector, and starts no run", async () => {
    const stored = await getDaemonSet(ns.name, "agent");
    const manifest = daemonSet("agent", dsImage(stored) ?? "");
    (manifest.metadata as Record<string, unknown>).labels = { app: "agent", "aviary.dev/canary": "agent" };
    const r = await kubectl(["replace", "-n", ns.name, "-f", "-", ...AS_USER], JSON.stringify(manifest));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(isParked(await getDaemonSet(ns.name, "agent")), "the webhook put the parking selector back");
    const restoredBefore = (await events(ns.name, "agent")).filter((e) => e.reason === "ObjectRestored").length;
    await holdsFor("no canary pod, no run and no restore of a primary that never drifted", async () => {
      const [pods, c, evs] = await Promise.all([podCount(ns.name, "agent"), getCanary(ns.name, "agent"), events(ns.name, "agent")]);
      if (pods > 0) return `${pods} canary pods`;
      if (evs.filter((e) => e.reason === "ObjectRestored").length !== restoredBefore) return "an ObjectRestored event";
      return c.status?.phase === "Succeeded" ? undefined : `phase ${c.status?.phase}`;
    }, 3_000);
  });

  it("denies edits of the primary DaemonSet, naming the DaemonSet to change", async () => {
    const r = await kubectl(["set", "image", "daemonset/agent-primary", "app=agent:hacked", "-n", ns.name, ...AS_USER]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`agent-primary is managed by canary ${ns.name}/agent; change daemonset/agent`));
    assert.equal(dsImage(await getDaemonSet(ns.name, "agent-primary")), "agent:2.0.0");
  });

  it("restores a hand-deleted primary DaemonSet from the promoted revision", async () => {
    await kubectlOk(["delete", "daemonset", "agent-primary", "-n", ns.name, "--wait=true"]);
    const restored = await eventually("the primary back and ready on every node", async () => {
      const p = await kubectl(["get", "daemonset", "agent-primary", "-n", ns.name, "-o", "json"]);
      if (p.code !== 0) return undefined;
      const d = JSON.parse(p.stdout) as DaemonSetObject;
      return d.status?.numberAvailable === nodes ? d : undefined;
    }, 60_000);
    assert.equal(dsImage(restored), "agent:2.0.0");
    assert.ok((await events(ns.name, "agent")).some((e) => e.reason === "ObjectRestored"));
    assert.equal((await getCanary(ns.name, "agent")).status?.phase, "Succeeded");
    assert.equal(await podCount(ns.name, "agent"), 0, "the canary stays parked");
  });

  it("rolls back a failing revision: Failed after the threshold, routes 100/0, canary parked, primary unchanged", async () => {
    hooks.status.set("/agent", 500);
    await kubectlOk(["set", "image", "daemonset/agent", "app=agent:3.0.0-bad", "-n", ns.name, ...AS_USER]);
    const failed = await waitForPhase(ns.name, "agent", "Failed", 60_000);
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await routeWeights(ns.name, "agent"), { primary: 100, canary: 0 });
    assert.ok(isParked(await getDaemonSet(ns.name, "agent")));
    assert.equal(dsImage(await getDaemonSet(ns.name, "agent-primary")), "agent:2.0.0");
    await eventually("the canary's pods gone", async () => ((await podCount(ns.name, "agent")) === 0 ? true : undefined), 30_000);
    assert.ok((await events(ns.name, "agent")).some((e) => e.reason === "RolledBack"));
    hooks.status.delete("/agent");
  });

  it("revertOnDeletion: deleting the Canary unparks the target on every node, points the apex Service at it and removes the primary", async () => {
    await kubectlOk(["patch", "canaries.aviary.dev", "agent", "-n", ns.name, "--type", "merge", "-p", JSON.stringify({ spec: { revertOnDeletion: true } })]);
    await eventually("aviary's finalizer", async () => ((await getCanary(ns.name, "agent")).metadata.finalizers?.includes("aviary.dev/finalizer") ? true : undefined), 30_000);
    await kubectlOk(["delete", "canaries.aviary.dev", "agent", "-n", ns.name, "--wait=false"]);
    await eventually("the Canary gone", async () => ((await kubectl(["get", "canaries.aviary.dev", "agent", "-n", ns.name])).code !== 0 ? true : undefined), 60_000);
    const target = await getDaemonSet(ns.name, "agent");
    assert.equal(isParked(target), false, "the target is unparked");
    assert.equal(target.status?.numberAvailable, nodes, "and ready on every node before traffic moved to it");
    const apex = await kubectlJson<{ spec: { selector: Record<string, string> } }>(["get", "service", "agent", "-n", ns.name]);
    assert.deepEqual(apex.spec.selector, { app: "agent" });
    await eventually("the primary removed", async () => ((await kubectl(["get", "daemonset", "agent-primary", "-n", ns.name])).code !== 0 ? true : undefined), 30_000);
  });

  it("without revertOnDeletion the target stays parked, and once the Canary is gone its owner can unpark it", async () => {
    await apply(ns.name, daemonSet("solo", "agent:1.0.0"));
    await apply(ns.name, dsCanary("solo", hooks));
    await waitForPhase(ns.name, "solo", "Initialized");
    const unpark = ["patch", "daemonset", "solo", "-n", ns.name, "--type", "json", "-p", JSON.stringify([{ op: "remove", path: "/spec/template/spec/nodeSelector/aviary.dev~1scale-to-zero" }]), ...AS_USER];
    await kubectlOk(unpark);
    assert.ok(isParked(await getDaemonSet(ns.name, "solo")), "while the Canary exists the webhook keeps it parked");
    await kubectlOk(["delete", "canaries.aviary.dev", "solo", "-n", ns.name]);
    assert.ok(isParked(await getDaemonSet(ns.name, "solo")), "deleting the Canary leaves the target parked, as in Flagger");
    await kubectlOk(unpark);
    assert.equal(isParked(await getDaemonSet(ns.name, "solo")), false);
    await eventually("the owner's pods on every node", async () => ((await podCount(ns.name, "solo")) === nodes ? true : undefined), 30_000);
  });

  it("tracks a ConfigMap the DaemonSet reads: a -primary copy, and an edit of it alone released as a run", async () => {
    await apply(ns.name, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg-env" }, data: { LEVEL: "info" } });
    const manifest = daemonSet("cfg", "agent:1.0.0") as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    manifest.spec.template.spec.containers[0]!.envFrom = [{ configMapRef: { name: "cfg-env" } }];
    await apply(ns.name, manifest);
    await apply(ns.name, dsCanary("cfg", hooks));
    await waitForPhase(ns.name, "cfg", "Initialized");
    const primary = await kubectlJson<{ spec: { template: { spec: { containers: { envFrom?: { configMapRef?: { name: string } }[] }[] } } } }>(["get", "daemonset", "cfg-primary", "-n", ns.name]);
    assert.equal(primary.spec.template.spec.containers[0]?.envFrom?.[0]?.configMapRef?.name, "cfg-env-primary");
    const copy = () => kubectlJson<{ data: Record<string, string> }>(["get", "configmap", "cfg-env-primary", "-n", ns.name]);
    assert.deepEqual((await copy()).data, { LEVEL: "info" });

    await kubectlOk(["patch", "configmap", "cfg-env", "-n", ns.name, "--type", "merge", "-p", JSON.stringify({ data: { LEVEL: "debug" } })]);
    await eventually("a run for the ConfigMap edit", async () => ((await events(ns.name, "cfg")).some((e) => e.reason === "NewRevision") ? true : undefined), 30_000);
    await waitForPhase(ns.name, "cfg", "Succeeded", 90_000);
    assert.deepEqual((await copy()).data, { LEVEL: "debug" }, "the promotion copied the new content");
    assert.ok(isParked(await getDaemonSet(ns.name, "cfg")));
  });

  it("reports an OnDelete DaemonSet as a terminal problem naming the field, and creates nothing", async () => {
    const manifest = daemonSet("ondelete", "agent:1.0.0") as { spec: Record<string, unknown> };
    manifest.spec.updateStrategy = { type: "OnDelete" };
    await apply(ns.name, manifest);
    await apply(ns.name, dsCanary("ondelete", hooks));
    const c = await eventually("a Ready=False condition", async () => {
      const got = await getCanary(ns.name, "ondelete");
      return got.status?.conditions?.find((x) => x.type === "Ready" && x.status === "False") ? got : undefined;
    }, 30_000);
    assert.match(c.status?.conditions?.find((x) => x.type === "Ready")?.message ?? "", /spec\.updateStrategy\.type is OnDelete/);
    const primary = await kubectl(["get", "daemonset", "ondelete-primary", "-n", ns.name]);
    assert.notEqual(primary.code, 0, "no primary for a DaemonSet aviary cannot promote into");
  });
});
