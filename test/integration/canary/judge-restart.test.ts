/**
 * The judge's test survives a controller restart: aviary (its own process) judges a
 * canary against its primary from real Prometheus counts, is killed mid-run and started
 * again, and the counts in status continue where they were — the window after the restart
 * starts at the last one's end, so the requests counted keep pace with the requests served,
 * none twice and none missed.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import type { Peer } from "../../support/peers.ts";
import { runScript, startPrometheus } from "../../support/peers.ts";
import type { TrafficExporter } from "../../support/traffic-exporter.ts";
import { startTrafficExporter } from "../../support/traffic-exporter.ts";
import { getCanary, watchDistinct } from "../../support/canary-fixtures.ts";
import { canaryPod, scrapeConfig, startRun, waitForCanary, waitForSample, waitForVerdict } from "../../support/canary-metrics.ts";

/** 100 requests per 200 ms tick: 500 requests/s for the canary, 1% of them 5xx. */
const CANARY_PER_SECOND = 500;

interface JudgeEntry {
  windowEnd: string;
  windows: number;
  state: { test: { canary: { requests: number; bad: number }; primary: { requests: number; bad: number } } };
}

const entryOf = (c: unknown): JudgeEntry | undefined =>
  (c as { status?: { judge?: { metrics?: Record<string, JudgeEntry> } } } | undefined)?.status?.judge?.metrics?.["request-success-rate"];

describe("the judge across a controller restart", function () {
  this.timeout(240_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let exporter: TrafficExporter;
  let prometheusDir: string;
  let prometheus: Peer | undefined;
  let aviary: AviaryProcess | undefined;

  before(async function () {
    this.timeout(300_000);
    await runScript("prometheus.sh", ["install"], 280_000);
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace("aviary-judge");
    exporter = await startTrafficExporter({ requestsPerTick: 100, errorRatio: 0.01, latencyMs: 150 });
    prometheusDir = await mkdtemp(path.join(tmpdir(), "aviary-judge-prometheus-"));
    prometheus = await startPrometheus(scrapeConfig([{ exporter, namespace: ns.name, target: "judged" }]), { dir: prometheusDir });
    await waitForSample(prometheus.url, `sum(rate(http_requests_total{namespace="${ns.name}", pod="${canaryPod("judged")}"}[5s]))`);
    aviary = startAviary(["--no-webhook", "--namespace", ns.name, "--metrics-server", prometheus.url]);
  });

  after(async () => {
    await aviary?.stop();
    await prometheus?.stop();
    await exporter?.close();
    if (prometheusDir) await rm(prometheusDir, { recursive: true, force: true });
    await ns?.remove();
  });

  it("continues the accumulated counts after aviary is killed mid-run, without a gap or a window counted twice", async () => {
    const analysis = {
      interval: "2s",
      threshold: 2,
      stepWeight: 10,
      maxWeight: 90,
      metrics: [{ name: "request-success-rate", interval: "5s", compare: { tolerance: 1.2, confidence: 0.99, minRequests: 50 } }],
    };
    const seen = watchDistinct(async () => entryOf(await getCanary(ns.name, "judged").catch(() => undefined)), (a, b) => a.windows !== b.windows);
    try {
      await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
      await startRun(ns.name, "judged", { analysis });
      const stored = (await getCanary(ns.name, "judged")) as unknown as { spec: { analysis: { metrics: { compare?: unknown }[] } } };
      assert.ok(stored.spec.analysis.metrics[0]?.compare, "the cluster's Canary CRD keeps spec.analysis.metrics[].compare (manifests/crds is applied)");
      const before = entryOf(
        await waitForCanary(ns.name, "judged", "two judged windows", (c) => (entryOf(c)?.windows ?? 0) >= 2, 90_000).catch(async (err: Error) => {
          throw new Error(`${err.message}; status: ${JSON.stringify((await getCanary(ns.name, "judged")).status)}`);
        }),
      )!;
      await aviary!.kill();
      // Long enough for a check to be due at least once while nobody runs it.
      await new Promise((r) => setTimeout(r, 4000));
      aviary = startAviary(["--no-webhook", "--namespace", ns.name, "--metrics-server", prometheus!.url]);
      const done = await waitForVerdict(ns.name, "judged", "Succeeded", 120_000);
      const after = entryOf(done)!;
      assert.ok(after.windows > before.windows + 1, `windows went on from ${before.windows} to ${after.windows}`);
      assert.ok(after.state.test.canary.requests > before.state.test.canary.requests);

      // Every step between two observed states: the requests added match the time the windows covered.
      const states = (await seen.stop()).filter((s) => s.windows >= before.windows);
      const restartStep = states.findIndex((s, i) => i > 0 && Date.parse(s.windowEnd) - Date.parse(states[i - 1]!.windowEnd) >= 4000);
      assert.ok(restartStep > 0, `one window spans the restart: ${states.map((s) => `${s.windows}@${s.windowEnd}`).join(", ")}`);
      for (let i = 1; i < states.length; i++) {
        const seconds = (Date.parse(states[i]!.windowEnd) - Date.parse(states[i - 1]!.windowEnd)) / 1000;
        const added = states[i]!.state.test.canary.requests - states[i - 1]!.state.test.canary.requests;
        const expected = seconds * CANARY_PER_SECOND;
        assert.ok(Math.abs(added - expected) <= 0.15 * expected + 150, `window ${states[i]!.windows}: ${added} requests counted over ${seconds}s, expected about ${expected}`);
      }
      const [verdict] = (done.status?.lastAnalysis ?? []) as { verdict: string; message: string }[];
      assert.equal(verdict?.verdict, "pass");
      assert.match(verdict!.message, /^request-success-rate: 5xx: canary 1(\.0)?% vs primary 50% \(ratio 0\.0\d+, 99% CI .*\) within tolerance 1\.2 so far/);
    } finally {
      await seen.stop();
    }
  });
});
