/**
 * End to end with the Argo Rollouts NGINX setup (examples/argo/nginx/argo.yaml): `aviary
 * convert` runs on the Rollout, its AnalysisTemplates, Services and Ingress, and what it writes
 * (the Deployment, the rewritten Ingress, both MetricTemplates and the Canary) is applied to
 * the control plane. The simulated mesh plays ingress-nginx: it splits the load by the canary
 * Ingress aviary writes and exports ingress-nginx's series with their `service` label, which
 * the converted queries select; real Prometheus scrapes it every second.
 *
 * The converted objects are changed in three ways only: every duration is divided by six
 * (pauses 30s/1m → 5s/10s, the 30 s check interval → 5s, the queries' [1m] → [10s]), the
 * MetricTemplates' Prometheus address becomes the local Prometheus, and the environment adds
 * its usual confirm-rollout gate that opens once Prometheus has scraped the new version.
 *
 * A healthy version walks 10 → 25 → 50 → 75 → 100 and is promoted; one that answers 20% 5xx
 * has its first failed measurement tolerated and is rolled back on the second (failureLimit 1);
 * a Prometheus that cannot be reached is tolerated four times in a row and the fifth error
 * rolls back (consecutiveErrorLimit 4).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SimulatedMesh } from "../../demo/mesh.ts";
import { apply, getCanary, getDeployment, image } from "../support/canary-fixtures.ts";
import type { CanaryObject } from "../support/canary-fixtures.ts";
import { analysisOf, waitForCanary } from "../support/canary-metrics.ts";
import { pick, runConvert, scaleDuration, scaleRanges } from "../support/convert.ts";
import type { Conversion, ConvertedObject } from "../support/convert.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { freePort } from "../support/peers.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "storefront";
const REPOSITORY = "registry.example.com/web/storefront";
/** Minutes become ten seconds: 30s → 5s, 1m → 10s. */
const FACTOR = 6;
const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

interface Metric { name: string; interval?: string; failureLimit?: number; consecutiveErrorLimit?: number }
interface Analysis { interval: string; steps: { weight: number; pause: string }[]; metrics: Metric[] }
interface Tally { name: string; measurements: number; failures: number; consecutiveErrors: number }
const tallies = (c: CanaryObject): Tally[] => ((c.status as Record<string, unknown> | undefined)?.metricStates ?? []) as Tally[];
const tally = (c: CanaryObject, name: string): Tally | undefined => tallies(c).find((t) => t.name === name);

/** The converted Canary with every duration divided by FACTOR (nothing else changed). */
function faster(canary: ConvertedObject): { canary: ConvertedObject; analysis: Analysis } {
  const analysis = structuredClone(canary.spec.analysis) as Analysis;
  analysis.interval = scaleDuration(analysis.interval, FACTOR);
  analysis.steps = analysis.steps.map((s) => ({ ...s, pause: scaleDuration(s.pause, FACTOR) }));
  for (const m of analysis.metrics) if (m.interval !== undefined) m.interval = scaleDuration(m.interval, FACTOR);
  return { canary: { ...canary, spec: { ...canary.spec, analysis } }, analysis };
}

/** A converted MetricTemplate in `namespace`, asking `prometheus`, its query's ranges divided by FACTOR. */
function template(t: ConvertedObject, namespace: string, prometheus: string): ConvertedObject {
  const provider = { ...(t.spec.provider as Record<string, unknown>), address: prometheus };
  return { ...t, metadata: { ...t.metadata, namespace }, spec: { ...t.spec, provider, query: scaleRanges(t.spec.query as string, FACTOR) } };
}

/** `aviary get` as a user runs it. */
function aviaryGet(namespace: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, "get", "-n", namespace], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

describe("e2e: the converted Argo Rollouts NGINX canary (simulated ingress-nginx, Prometheus)", function () {
  this.timeout(240_000);
  let env: E2eEnvironment;
  let mesh: SimulatedMesh;
  let conversion: Conversion;
  let analysis: Analysis;

  const release = (version: string) => kubectlOk(["-n", env.namespace, "set", "image", `deployment/${NAME}`, `${NAME}=${REPOSITORY}:${version}`]);

  before(async function () {
    this.timeout(400_000);
    conversion = await runConvert(["examples/argo/nginx/argo.yaml"]);
    assert.equal(conversion.exitCode, 0, `everything carried over:\n${conversion.report}`);
    env = await startE2eEnvironment("aviary-e2e-argo-nginx");
    for (const t of conversion.objects.filter((o) => o.kind === "MetricTemplate")) await apply(env.namespace, template(t, env.namespace, env.prometheus.url));
    const ingress = pick(conversion.objects, "Ingress", NAME);
    await apply(env.namespace, { ...ingress, metadata: { ...ingress.metadata, namespace: env.namespace } });
    const fast = faster(pick(conversion.objects, "Canary", NAME));
    analysis = fast.analysis;
    mesh = await env.deployCanary(NAME, fast.canary, { deployment: pick(conversion.objects, "Deployment", NAME) });
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(JSON.stringify((await getCanary(env.namespace, NAME).catch(() => undefined))?.status, null, 1));
  });

  after(async () => {
    await env?.stop();
  });

  it("converts to a schedule of five steps with both metrics' limits, and promotes a healthy version step by step", async () => {
    assert.deepEqual(analysis.steps.map((s) => s.weight), [10, 25, 50, 75, 100]);
    assert.deepEqual(analysis.metrics.map((m) => [m.name, m.failureLimit, m.consecutiveErrorLimit]), [["success-rate", 1, 4], ["latency-p99", 1, 4]]);

    const seen: number[] = [];
    const watching = setInterval(() => {
      const w = mesh.stats().weights.canary;
      if (seen.at(-1) !== w) seen.push(w);
    }, 50);
    const before = mesh.stats();
    await release("3.3.0");
    // Mid-run, `aviary get` shows the step held: its weight is the step's (one object read).
    const shown = await waitForCanary(env.namespace, NAME, "the run at its second step", (c) => (c.status?.canaryWeight ?? 0) >= 25 || c.status?.phase !== "Progressing", 120_000);
    if (shown.status?.phase === "Progressing") {
      const row = /^storefront\s+Progressing\s+(\d+)\s+(\d)\/5\b/m.exec(await aviaryGet(env.namespace));
      assert.ok(row !== null, "aviary get shows STEP n/5 for a run on a schedule");
      assert.equal(Number(row[1]), analysis.steps[Number(row[2]) - 1]?.weight, `weight ${row[1]} is the weight of step ${row[2]}`);
    }
    const done = await waitForVerdict(env.namespace, NAME, 150_000);
    clearInterval(watching);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    assert.deepEqual(seen.filter((w) => w > 0), [10, 25, 50, 75, 100], `every step was taken through the canary Ingress: ${seen.join(" → ")}`);

    for (const name of ["success-rate", "latency-p99"]) {
      const t = tally(done, name);
      assert.ok((t?.measurements ?? 0) >= 2, `${name} was measured during the run: ${JSON.stringify(t)}`);
      assert.equal(t?.failures, 0, `${name}: ${JSON.stringify(t)}`);
    }
    const [rate, p99] = analysisOf(done);
    assert.equal(rate?.verdict, "pass", rate?.message);
    assert.equal(rate?.value, 100, rate?.message);
    // 20–120 ms answers (plus whatever a busy machine adds) against a limit of 500: measured, not zero.
    assert.equal(p99?.verdict, "pass", p99?.message);
    assert.ok((p99?.value ?? 0) > 20 && (p99?.value ?? 0) < 500, p99?.message);

    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), `${REPOSITORY}:3.3.0`);
    const after = mesh.stats();
    assert.ok(after.canary.requests - before.canary.requests > 100, "the canary served real requests through the split");
    assert.equal(after.canary.errors - before.canary.errors, 0);
  });

  it("failureLimit 1: tolerates the first failed measurement of a version answering 20% 5xx, rolls back on the second", async () => {
    await release("3.4.0-errors");
    const tolerated = await waitForCanary(env.namespace, NAME, "a first failed measurement", (c) => (tally(c, "success-rate")?.failures ?? 0) >= 1 || c.status?.phase === "Failed", 120_000);
    assert.equal(tolerated.status?.phase, "Progressing", `the first failure did not end the run: ${reasonOf(tolerated)}`);
    assert.equal(tally(tolerated, "success-rate")?.failures, 1);

    const failed = await waitForVerdict(env.namespace, NAME, 120_000);
    assert.equal(failed.status?.phase, "Failed", reasonOf(failed));
    assert.match(reasonOf(failed), /success-rate: 2 failed measurements exceed failureLimit 1/);
    assert.equal(tally(failed, "success-rate")?.failures, 2);
    assert.equal(tally(failed, "latency-p99")?.failures, 0, "no latency was injected");
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), `${REPOSITORY}:3.3.0`, "the primary keeps the last good version");
    await waitForCanary(env.namespace, NAME, "traffic back on the primary", (c) => (c.status?.canaryWeight ?? 0) === 0);
  });

  it("consecutiveErrorLimit 4: tolerates four provider errors in a row, rolls back on the fifth", async () => {
    // success-rate now asks a Prometheus that is not there: each measurement is a provider error.
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const converted = pick(conversion.objects, "MetricTemplate", "success-rate");
    await apply(env.namespace, template(converted, env.namespace, nowhere));
    try {
      const inRow = new Set<number>();
      await release("3.5.0");
      await waitForCanary(env.namespace, NAME, "the run under way", (c) => c.status?.phase === "Progressing", 60_000);
      // While the run goes on, the status shows the errors in a row it tolerated.
      const ended = await waitForCanary(env.namespace, NAME, "the verdict", (c) => {
        const t = tally(c, "success-rate");
        if (c.status?.phase === "Progressing" && t !== undefined) inRow.add(t.consecutiveErrors);
        return c.status?.phase === "Failed" || c.status?.phase === "Succeeded";
      }, 150_000);
      assert.ok(inRow.has(4), `four errors in a row were tolerated while the run went on (seen ${[...inRow].join(", ")})`);
      assert.equal(ended.status?.phase, "Failed", reasonOf(ended));
      assert.match(reasonOf(ended), /success-rate: 5 errors in a row exceed consecutiveErrorLimit 4/);
      assert.equal(tally(ended, "success-rate")?.consecutiveErrors, 5);
      assert.equal(tally(ended, "latency-p99")?.failures, 0, "latency-p99 kept measuring the healthy version");
      assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), `${REPOSITORY}:3.3.0`);
    } finally {
      await apply(env.namespace, template(converted, env.namespace, env.prometheus.url));
    }
  });
});
