/**
 * The admission webhook against the real API server, registered by URL the way a local run
 * does it: revision stamps, the replica guard for Helm/GitOps re-applies, `kubectl scale` of
 * an idle target and of a generated primary, validation of Canaries, protected generated objects, and deploys that go
 * on while the webhook is down.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { applyManifest, eventually, kubectl, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, events, getDeployment, image, waitForPhase } from "../../support/canary-fixtures.ts";

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

/** Canary manifests that must be refused, each with the field the message must name. */
function invalidCanaries(): [string, Record<string, unknown>, string][] {
  const base = () => canary("podinfo") as { spec: Record<string, any> } & Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const cases: [string, (c: ReturnType<typeof base>) => void, string][] = [
    ["unknown provider", (c) => { c.spec.provider = "ambassador"; }, "spec.provider"],
    ["no targetRef", (c) => { delete c.spec.targetRef; }, "spec.targetRef"],
    ["empty target name", (c) => { c.spec.targetRef.name = ""; }, "spec.targetRef.name"],
    ["StatefulSet target", (c) => { c.spec.targetRef.kind = "StatefulSet"; }, "spec.targetRef.kind"],
    ["DaemonSet target with an autoscaler", (c) => { c.spec.targetRef.kind = "DaemonSet"; c.spec.autoscalerRef = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "podinfo" }; }, "spec.autoscalerRef"],
    ["no service", (c) => { delete c.spec.service; }, "spec.service"],
    ["port 0", (c) => { c.spec.service.port = 0; }, "spec.service.port"],
    ["port 70000", (c) => { c.spec.service.port = 70000; }, "spec.service.port"],
    ["upper-case port name", (c) => { c.spec.service.portName = "HTTP"; }, "spec.service.portName"],
    ["gatewayapi without gatewayRefs", (c) => { delete c.spec.service.gatewayRefs; }, "spec.service.gatewayRefs"],
    ["stepWeight 0", (c) => { c.spec.analysis.stepWeight = 0; }, "spec.analysis.stepWeight"],
    ["stepWeight 150", (c) => { c.spec.analysis.stepWeight = 150; }, "spec.analysis.stepWeight"],
    ["maxWeight below stepWeight", (c) => { c.spec.analysis.maxWeight = 10; c.spec.analysis.stepWeight = 20; }, "spec.analysis.maxWeight"],
    ["maxWeight over 100", (c) => { c.spec.analysis.maxWeight = 120; }, "spec.analysis.maxWeight"],
    ["stepWeights not increasing", (c) => { delete c.spec.analysis.stepWeight; delete c.spec.analysis.maxWeight; c.spec.analysis.stepWeights = [10, 30, 20]; }, "spec.analysis.stepWeights"],
    ["stepWeights over 100", (c) => { delete c.spec.analysis.stepWeight; delete c.spec.analysis.maxWeight; c.spec.analysis.stepWeights = [50, 150]; }, "spec.analysis.stepWeights"],
    ["threshold 0", (c) => { c.spec.analysis.threshold = 0; }, "spec.analysis.threshold"],
    ["interval without a unit", (c) => { c.spec.analysis.interval = "30"; }, "spec.analysis.interval"],
    ["interval garbage", (c) => { c.spec.analysis.interval = "soon"; }, "spec.analysis.interval"],
    ["thresholdRange min above max", (c) => { c.spec.analysis.metrics = [{ name: "request-success-rate", thresholdRange: { min: 99, max: 90 } }]; }, "spec.analysis.metrics[0].thresholdRange"],
    ["metric without a query or template", (c) => { c.spec.analysis.metrics = [{ name: "my-latency", thresholdRange: { max: 5 } }]; }, "spec.analysis.metrics[0]"],
    ["unknown webhook type", (c) => { c.spec.analysis.webhooks = [{ name: "x", type: "pre-flight", url: "http://hook.test/" }]; }, "spec.analysis.webhooks[0].type"],
    ["webhook URL not a URL", (c) => { c.spec.analysis.webhooks = [{ name: "x", url: "not a url" }]; }, "spec.analysis.webhooks[0].url"],
    ["header match with the kubernetes router", (c) => { c.spec.provider = "kubernetes"; c.spec.analysis = { interval: "1s", iterations: 5, match: [{ headers: { "x-canary": { exact: "insider" } } }] }; }, "spec.analysis.match"],
    ["progressDeadlineSeconds negative", (c) => { c.spec.progressDeadlineSeconds = -5; }, "spec.progressDeadlineSeconds"],
  ];
  return cases.map(([name, edit, field]) => {
    const c = base();
    edit(c);
    return [name, c, field];
  });
}

/**
 * A user other than aviary: aviary runs with the test's own credentials, and its own requests
 * pass its guards, so the tests act as someone else through impersonation.
 */
const AS_USER = ["--as=jane@example.com", "--as-group=system:masters"];

describe("admission webhook (registered by URL)", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let webhook: AviaryProcess | undefined;
  let controller: AviaryProcess;
  let certDir: string;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace();
    certDir = await mkdtemp(join(tmpdir(), "aviary-certs-"));
    const port = await freePort();
    controller = startAviary(["--no-webhook", "--namespace", ns.name]);
    webhook = startAviary(["--no-controller", "--webhook-host", "127.0.0.1", "--webhook-port", String(port),
      "--webhook-url", `https://127.0.0.1:${port}`, "--cert-dir", certDir]);
    await webhook.waitForLog(/admission webhook serving/, 30_000);
    // The API server picks up new webhook configurations within a moment.
    await eventually("the webhook to be called", async () => {
      // Valid for the CRD schema, invalid for aviary: only the webhook can refuse it.
      const probe = canary("probe") as { spec: { service: Record<string, unknown> } };
      delete probe.spec.service.gatewayRefs;
      const r = await applyManifest(ns.name, probe);
      return r.code !== 0 && /denied the request/.test(r.stderr) ? true : undefined;
    }, 30_000, 500);
  });

  after(async () => {
    await webhook?.stop();
    // The killed webhook process could not remove its configurations.
    await kubectl(["delete", "mutatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await kubectl(["delete", "validatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await controller?.stop();
    await ns?.remove();
    await rm(certDir, { recursive: true, force: true });
  });

  it("stamps the revision and who made it on `kubectl set image`", async () => {
    await apply(ns.name, deployment("podinfo", "podinfo:1.0.0", { replicas: 2 }));
    await apply(ns.name, canary("podinfo"));
    await waitForPhase(ns.name, "podinfo", "Initialized");
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:2.0.0", "-n", ns.name, ...AS_USER]);
    const d = await getDeployment(ns.name, "podinfo");
    assert.match(d.metadata.annotations?.["aviary.dev/revision"] ?? "", /^[0-9a-f]{16}$/);
    assert.equal(d.metadata.annotations?.["aviary.dev/changed-by"], "jane@example.com");
    await waitForPhase(ns.name, "podinfo", "Succeeded", 60_000);
    const promoted = await getDeployment(ns.name, "podinfo-primary");
    assert.equal(promoted.metadata.annotations?.["aviary.dev/changed-by"], "jane@example.com");
  });

  it("keeps a re-apply from moving the target's replicas and records what it asked for", async () => {
    const r = await kubectl(["apply", "-n", ns.name, "-f", "-", ...AS_USER], JSON.stringify(deployment("podinfo", "podinfo:2.0.0", { replicas: 5 })));
    assert.equal(r.code, 0, r.stderr);
    const target = await getDeployment(ns.name, "podinfo");
    assert.equal(target.spec.replicas, 0, "the idle target stays at zero");
    assert.equal(target.metadata.annotations?.["aviary.dev/desired-replicas"], "5");
    await eventually("the primary at 5 replicas", async () => ((await getDeployment(ns.name, "podinfo-primary")).spec.replicas === 5 ? true : undefined), 30_000);
  });

  it("treats `kubectl scale` of the idle target as the new desired size", async () => {
    await kubectlOk(["scale", "deployment/podinfo", "--replicas=4", "-n", ns.name, ...AS_USER]);
    await eventually("primary at 4 and target back at 0", async () => {
      const [primary, target] = await Promise.all([getDeployment(ns.name, "podinfo-primary"), getDeployment(ns.name, "podinfo")]);
      return primary.spec.replicas === 4 && target.spec.replicas === 0 ? true : undefined;
    }, 30_000);
    assert.equal((await getDeployment(ns.name, "podinfo")).metadata.annotations?.["aviary.dev/desired-replicas"], "4");
  });

  it("denies edits of the generated primary, naming the Deployment to change", async () => {
    const r = await kubectl(["set", "image", "deployment/podinfo-primary", "app=podinfo:hacked", "-n", ns.name, ...AS_USER]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`podinfo-primary is managed by canary ${ns.name}/podinfo; change deployment/podinfo`));
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2.0.0");
  });

  it("denies deleting the primary's snapshot, naming the Canary", async () => {
    const r = await kubectl(["delete", "controllerrevisions.apps", "podinfo-primary", "-n", ns.name, ...AS_USER]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`podinfo-primary is managed by canary ${ns.name}/podinfo; change canary/podinfo`));
    assert.equal((await kubectl(["get", "controllerrevisions.apps", "podinfo-primary", "-n", ns.name])).code, 0, "the snapshot is still there");
  });

  it("denies `kubectl scale` of the generated primary, naming the Deployment to scale; the HPA controller passes", async () => {
    const before = (await getDeployment(ns.name, "podinfo-primary")).spec.replicas;
    const r = await kubectl(["scale", "deployment/podinfo-primary", "--replicas=7", "-n", ns.name, ...AS_USER]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`podinfo-primary is managed by canary ${ns.name}/podinfo; scale deployment/podinfo instead`));
    assert.equal((await getDeployment(ns.name, "podinfo-primary")).spec.replicas, before);
    const hpa = ["--as=system:serviceaccount:kube-system:horizontal-pod-autoscaler", "--as-group=system:masters"];
    // Admitted (kubectlOk throws on a denial); without spec.autoscalerRef aviary then sizes it back.
    await kubectlOk(["scale", "deployment/podinfo-primary", `--replicas=${before + 1}`, "-n", ns.name, ...hpa]);
  });

  for (const [name, manifest, field] of invalidCanaries()) {
    it(`rejects an invalid Canary (${name}) naming ${field}`, async () => {
      const r = await applyManifest(ns.name, { ...manifest, metadata: { name: "invalid" } });
      assert.notEqual(r.code, 0, `accepted: ${name}`);
      assert.ok(r.stderr.includes(field), `the message names ${field}: ${r.stderr}`);
    });
  }

  it("lets deploys through while the webhook is down, and the controller still starts the run", async () => {
    // Killed, not stopped: a crashed webhook leaves its configurations behind, pointing at nothing.
    await webhook?.kill();
    webhook = undefined;
    assert.equal((await kubectl(["get", "mutatingwebhookconfiguration", "aviary"])).code, 0, "the configuration is still registered");
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:4.0.0", "-n", ns.name, ...AS_USER]);
    await eventually("a run for 4.0.0", async () => (await events(ns.name, "podinfo")).filter((e) => e.reason === "NewRevision").length >= 2 ? true : undefined, 20_000);
    await waitForPhase(ns.name, "podinfo", "Succeeded", 60_000);
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:4.0.0");
  });

  it("removes the configurations it registered when a local run stops", async () => {
    const port = await freePort();
    const local = startAviary(["--no-controller", "--webhook-host", "127.0.0.1", "--webhook-port", String(port),
      "--webhook-url", `https://127.0.0.1:${port}`, "--cert-dir", certDir]);
    await local.waitForLog(/admission webhook serving/, 30_000);
    assert.equal((await kubectl(["get", "validatingwebhookconfiguration", "aviary"])).code, 0);
    await local.stop();
    assert.notEqual((await kubectl(["get", "validatingwebhookconfiguration", "aviary"])).code, 0, "validating configuration removed");
    assert.notEqual((await kubectl(["get", "mutatingwebhookconfiguration", "aviary"])).code, 0, "mutating configuration removed");
  });
});
