/**
 * End to end with the judge: the demo application in the simulated mesh, real Prometheus,
 * aviary deciding. One Canary is judged against its primary (`compare` on the success
 * rate), another holds its own success rate to a fixed 99%. The same good release (2.0.0)
 * meets a shared incident (both versions answer 5% 5xx and twice as slowly while the
 * incident file exists): the fixed threshold rolls it back, the judge promotes it. Then a
 * subtle regression (3.0.0-errors2: 2 more points of 5xx) is rolled back by the judge,
 * with its verdict sentence in the events.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { appCanary } from "../../demo/manifests.ts";
import type { CanaryTuning } from "../../demo/manifests.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { eventsWith } from "../support/canary-metrics.ts";
import type { CanaryObject } from "../support/canary-fixtures.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const JUDGED = "judged";
const FIXED = "fixed";
const RATE = 300;
const run: Omit<CanaryTuning, "metrics"> = { interval: "2s", threshold: 2, stepWeight: 10, maxWeight: 90, metricInterval: "4s", successMin: 99, durationMaxMs: 5000 };
const judgedMetrics = [{ name: "request-success-rate", interval: "4s", onNoData: "skip", compare: { tolerance: 1.2, confidence: 0.99, minRequests: 50 } }];
// No data (a scrape late under load) is not what this compares: only a measured rate may fail the fixed threshold.
const fixedMetrics = [{ name: "request-success-rate", interval: "4s", onNoData: "skip", thresholdRange: { min: 99 } }];
const lastMessage = (c: CanaryObject): string => c.status?.lastAnalysis?.[0]?.message ?? "";

describe("e2e: the judge against fixed thresholds (simulated mesh, Prometheus)", function () {
  this.timeout(300_000);
  let env: E2eEnvironment;
  let dir: string;
  let incidentFile: string;

  before(async function () {
    this.timeout(400_000);
    dir = await mkdtemp(path.join(tmpdir(), "aviary-e2e-incident-"));
    incidentFile = path.join(dir, "incident");
    // The mesh's application processes inherit it: one file hits both versions of both Canaries.
    process.env.DEMO_INCIDENT_FILE = incidentFile;
    env = await startE2eEnvironment("aviary-e2e-judge");
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await env.deployCanary(JUDGED, appCanary(JUDGED, env.namespace, { ...run, metrics: judgedMetrics }), { requestsPerSecond: RATE });
    await env.deployCanary(FIXED, appCanary(FIXED, env.namespace, { ...run, metrics: fixedMetrics }), { requestsPerSecond: RATE });
  });
  after(async () => {
    await env?.stop();
    delete process.env.DEMO_INCIDENT_FILE;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("promotes a good release through a shared incident that makes a fixed 99% threshold roll it back", async () => {
    await Promise.all([env.release(JUDGED, "2.0.0"), env.release(FIXED, "2.0.0")]);
    await writeFile(incidentFile, "");
    const ending = setTimeout(() => void rm(incidentFile, { force: true }), 12_000);
    try {
      const [judged, fixed] = await Promise.all([waitForVerdict(env.namespace, JUDGED, 120_000), waitForVerdict(env.namespace, FIXED, 120_000)]);
      assert.equal(fixed.status?.phase, "Failed", reasonOf(fixed));
      assert.match(reasonOf(fixed), /request-success-rate \d+(\.\d+)?% < 99%/);
      assert.equal(judged.status?.phase, "Succeeded", `${reasonOf(judged)}; ${lastMessage(judged)}`);
      // The incident's 5xx are in both arms' counts, and the ratio stayed within tolerance.
      const evidence = (judged.status?.lastAnalysis?.[0] as { judge?: { canaryBad: number; primaryBad: number; outcome: string } } | undefined)?.judge;
      assert.ok((evidence?.canaryBad ?? 0) > 0 && (evidence?.primaryBad ?? 0) > 0, JSON.stringify(evidence));
      assert.notEqual(evidence?.outcome, "regression");
    } finally {
      clearTimeout(ending);
      await rm(incidentFile, { force: true });
    }
  });

  it("rolls back a release with 2 more points of 5xx, the verdict sentence in the events", async () => {
    await env.release(JUDGED, "3.0.0-errors2");
    const done = await waitForVerdict(env.namespace, JUDGED, 120_000);
    assert.equal(done.status?.phase, "Failed", `${reasonOf(done)}; ${lastMessage(done)}`);
    const failed = await eventsWith(env.namespace, JUDGED, "CheckFailed");
    const sentence = /request-success-rate: 5xx: canary \d+(\.\d+)?% vs primary \d+(\.\d+)?% \(ratio \S+, 99% CI \S+\) > tolerance 1\.2 \(e-value \S+ ≥ 100\)/;
    assert.ok(failed.some((m) => sentence.test(m)), failed.join("\n"));
    const rolledBack = await eventsWith(env.namespace, JUDGED, "RolledBack");
    assert.ok(rolledBack.some((m) => sentence.test(m)), rolledBack.join("\n"));
  });
});
