/**
 * The step schedule and Argo Rollouts' per-metric limits on the real control plane: the
 * Canary converted from examples/argo/nginx (its steps, metrics and limits, durations
 * scaled down so a run takes seconds) runs against Prometheus scraping a simulated
 * workload. Healthy data promotes after every step was held; with failureLimit 1 the first
 * failed measurement is tolerated and the second rolls back; with consecutiveErrorLimit 4
 * four provider errors are tolerated and the fifth rolls back.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { kubectl, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import type { Peer } from "../../support/peers.ts";
import { runScript, startPrometheus } from "../../support/peers.ts";
import type { TrafficExporter, TrafficShape } from "../../support/traffic-exporter.ts";
import { startTrafficExporter } from "../../support/traffic-exporter.ts";
import { apply, deployment, getCanary, getDeployment, image, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { canaryPod, promotedMessage, scrapeConfig, waitForCanary, waitForSample, waitForVerdict } from "../../support/canary-metrics.ts";

const HEALTHY: TrafficShape = { requestsPerTick: 100, errorRatio: 0, latencyMs: 150 };
const DEGRADED: TrafficShape = { requestsPerTick: 100, errorRatio: 0.2, latencyMs: 150 };
const NAME = "storefront";

interface Manifest { kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> }
interface ScheduledMetric { name: string; interval?: string; templateVariables?: Record<string, string>; [k: string]: unknown }
interface Analysis { interval: string; steps: { weight: number; pause: string }[]; metrics: ScheduledMetric[] }

/** 30s → 2s, 1m → 4s: the example's schedule fifteen times faster. */
const faster = (d: string): string => {
  const m = /^(\d+)(s|m)$/.exec(d);
  if (m === null) return d;
  return `${Math.round((Number(m[1]) * (m[2] === "m" ? 60 : 1)) / 15)}s`;
};

/** The converted example's Canary, in namespace `ns`, on short intervals, its metrics reading the simulated canary pod. */
async function convertedCanary(ns: string): Promise<{ canary: Manifest; analysis: Analysis }> {
  const docs = parseAllDocuments(await readFile("examples/argo/nginx/aviary.yaml", "utf8")).map((d) => d.toJS() as Manifest);
  const canary = docs.find((d) => d.kind === "Canary")!;
  canary.metadata.namespace = ns;
  const analysis = canary.spec.analysis as Analysis;
  analysis.interval = "1s";
  analysis.steps = analysis.steps.map((s) => ({ ...s, pause: faster(s.pause) }));
  for (const m of analysis.metrics) {
    m.interval = "1s";
    m.templateVariables = { pod: canaryPod(NAME) };
  }
  (canary.spec.service as Record<string, unknown>).port = 9898;
  return { canary, analysis };
}

/** The example's two templates, over the simulated pod's own series (the example reads ingress-nginx's). */
function templates(ns: string, prometheus: string): Manifest[] {
  const sel = `namespace="${ns}", pod="{{ variables.pod }}"`;
  return [
    {
      kind: "MetricTemplate", metadata: { name: "success-rate", namespace: ns },
      spec: { provider: { type: "prometheus", address: prometheus }, query: `sum(rate(http_requests_total{${sel}, status!~"5.."}[5s])) / sum(rate(http_requests_total{${sel}}[5s])) * 100` },
    },
    {
      kind: "MetricTemplate", metadata: { name: "latency-p99", namespace: ns },
      spec: { provider: { type: "prometheus", address: prometheus }, query: `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{${sel}}[5s])) by (le)) * 1000` },
    },
  ].map((t) => ({ apiVersion: "aviary.dev/v1beta1", ...t }));
}

const userIngress = (name: string) => ({
  apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name },
  spec: { ingressClassName: "nginx", rules: [{ host: `${name}.example.com`, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 9898 } } } }] } }] },
});

/** The canary Ingress's weight annotation, or undefined while there is none. */
async function ingressWeight(ns: string): Promise<number | undefined> {
  const r = await kubectl(["get", "ingresses.networking.k8s.io", `${NAME}-canary`, "-n", ns, "-o", "jsonpath={.metadata.annotations.nginx\\.ingress\\.kubernetes\\.io/canary-weight}"]);
  return r.code === 0 && r.stdout !== "" ? Number(r.stdout) : undefined;
}

type Tally = { name: string; failures: number; consecutiveErrors: number; measurements: number };
const tallies = (c: { status?: Record<string, unknown> }): Tally[] => (c.status?.metricStates ?? []) as Tally[];

describe("the step schedule on the converted NGINX example", function () {
  this.timeout(180_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let exporter: TrafficExporter;
  let dir: string;
  let prometheus: Peer;
  let aviary: AviaryProcess;
  let fixture: Awaited<ReturnType<typeof convertedCanary>>;

  before(async function () {
    this.timeout(400_000);
    await runScript("prometheus.sh", ["install"], 280_000);
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace("aviary-schedule");
    exporter = await startTrafficExporter(HEALTHY);
    dir = await mkdtemp(path.join(tmpdir(), "aviary-schedule-prometheus-"));
    prometheus = await startPrometheus(scrapeConfig([{ exporter, namespace: ns.name, target: NAME }]), { dir });
    await waitForSample(prometheus.url, `sum(rate(http_requests_total{namespace="${ns.name}", pod="${canaryPod(NAME)}"}[5s]))`);
    for (const t of templates(ns.name, prometheus.url)) await apply(ns.name, t);
    fixture = await convertedCanary(ns.name);
    await apply(ns.name, userIngress(NAME));
    await apply(ns.name, deployment(NAME, `${NAME}:1`, { replicas: 1 }));
    // The CRDs are cluster-wide: apply this tree's again right before the Canary that needs them.
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", "manifests/crds/canaries.yaml"]);
    await apply(ns.name, fixture.canary);
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
    await waitForPhase(ns.name, NAME, "Initialized", 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${aviary.logs.filter((l) => /"level":"(warn|error)"/.test(l)).slice(-10).join("\n")}`);
    });
  });

  afterEach(async function () {
    // A run that did not end as expected: what the Canary said, for the failure report.
    if (this.currentTest?.state === "failed") console.log(JSON.stringify((await getCanary(ns.name, NAME).catch(() => undefined))?.status, null, 1));
  });

  after(async () => {
    await aviary?.stop();
    await prometheus?.stop();
    await exporter?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await ns?.remove();
  });

  it("is accepted as converted, and promotes a healthy revision after holding every step for its pause", async () => {
    const weights = watchDistinct(() => ingressWeight(ns.name), (a, b) => a !== b);
    const started = Date.now();
    await kubectlOk(["set", "image", `deployment/${NAME}`, `app=${NAME}:2`, "-n", ns.name]);
    const done = await waitForVerdict(ns.name, NAME, "Succeeded", 120_000);
    const seen = (await weights.stop()).filter((w) => w > 0);
    assert.deepEqual(seen, fixture.analysis.steps.map((s) => s.weight), `every step was held: ${seen.join(" → ")}`);
    const pauses = fixture.analysis.steps.reduce((sum, s) => sum + Number(s.pause.replace("s", "")), 0);
    assert.ok(Date.now() - started >= pauses * 1000, "the run lasted at least the sum of the pauses");
    assert.deepEqual(tallies(done).map((t) => [t.name, t.failures, t.consecutiveErrors]), [["success-rate", 0, 0], ["latency-p99", 0, 0]]);
    assert.equal(image(await getDeployment(ns.name, `${NAME}-primary`)), `${NAME}:2`);
  });

  it("failureLimit 1: tolerates the first failed measurement and rolls back on the second", async () => {
    exporter.setCanary(DEGRADED);
    await kubectlOk(["set", "image", `deployment/${NAME}`, `app=${NAME}:3`, "-n", ns.name]);
    const tolerated = await waitForCanary(ns.name, NAME, "one tolerated failure", (c) => tallies(c).some((t) => t.name === "success-rate" && t.failures >= 1) || c.status?.phase === "Failed");
    assert.equal(tolerated.status?.phase, "Progressing", `the first failure did not end the run: ${promotedMessage(tolerated)}`);
    assert.equal(tallies(tolerated).find((t) => t.name === "success-rate")?.failures, 1);
    const failed = await waitForVerdict(ns.name, NAME, "Failed");
    assert.match(promotedMessage(failed), /success-rate: 2 failed measurements exceed failureLimit 1/);
    assert.equal(image(await getDeployment(ns.name, `${NAME}-primary`)), `${NAME}:2`);
    exporter.setCanary(HEALTHY);
  });

  it("consecutiveErrorLimit 4: tolerates four provider errors in a row and rolls back on the fifth", async () => {
    // The success-rate template now asks a Prometheus that is not there: every measurement is a provider error.
    const broken = templates(ns.name, "http://127.0.0.1:9")[0]!;
    await apply(ns.name, broken);
    await kubectlOk(["set", "image", `deployment/${NAME}`, `app=${NAME}:4`, "-n", ns.name]);
    const errors = new Set<number>();
    const c = await waitForCanary(ns.name, NAME, "the run to end on errors", (x) => {
      const t = tallies(x).find((y) => y.name === "success-rate");
      if (x.status?.phase === "Progressing" && t !== undefined) errors.add(t.consecutiveErrors);
      return x.status?.phase === "Failed" || x.status?.phase === "Succeeded";
    }, 120_000);
    assert.equal(c.status?.phase, "Failed", promotedMessage(c));
    assert.match(promotedMessage(c), /success-rate: 5 errors in a row exceed consecutiveErrorLimit 4/);
    assert.ok(errors.has(4), `four errors were tolerated while the run went on (seen ${[...errors].join(", ")})`);
  });
});
