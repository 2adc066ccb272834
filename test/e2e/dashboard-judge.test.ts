/**
 * End to end in a real browser: a Canary judged against its primary (`compare` on the
 * success rate) on the local control plane with the simulated mesh and Prometheus, its page
 * open in headless Chromium. During a shared incident (both versions answer 5% 5xx) a good
 * release runs: the page's comparison section gains points in its rate, ratio and evidence
 * charts as the judge counts window after window, and the release is promoted with the
 * judge's "within tolerance" sentence. Then a release with 20 more points of 5xx is rolled
 * back, and the page shows the regression, its sentence and the run's verdict.
 *
 * With AVIARY_SCREENSHOT_DIR set it saves the page of the rolled-back run there (hack/screenshots.sh
 * does that for the README).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { appCanary } from "../../demo/manifests.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import type { ClusterClient } from "../../src/kube/client.ts";
import { loadKubeConfig } from "../../src/kube/config.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { startDashboard } from "../../src/dashboard/run.ts";
import type { RunningDashboard } from "../../src/dashboard/run.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { waitForCanary } from "../support/canary-metrics.ts";
import { launchBrowser } from "../support/browser.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "judged";
const METRIC = "request-success-rate";
const SHOTS = process.env.AVIARY_SCREENSHOT_DIR;
const tuning = { interval: "2s", threshold: 2, stepWeight: 10, maxWeight: 90, metricInterval: "4s", successMin: 99, durationMaxMs: 5000 };
const metrics = [{ name: METRIC, interval: "4s", onNoData: "skip", compare: { tolerance: 1.2, confidence: 0.99, minRequests: 50 } }];

/** The little of the browser's DOM the page-side functions touch (the project compiles without DOM types). */
interface El {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
}
interface Doc {
  querySelector(selector: string): El | null;
}

describe("e2e: the judge's evidence on the dashboard", function () {
  this.timeout(300_000);
  let env: E2eEnvironment;
  let client: ClusterClient;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let incidentFile: string;

  before(async function () {
    this.timeout(600_000);
    dir = await mkdtemp(path.join(tmpdir(), "aviary-e2e-dash-incident-"));
    incidentFile = path.join(dir, "incident");
    // The mesh's application processes inherit it: one file hits both arms alike.
    process.env.DEMO_INCIDENT_FILE = incidentFile;
    browser = await launchBrowser();
    env = await startE2eEnvironment("aviary-e2e-dash-judge");
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await env.deployCanary(NAME, appCanary(NAME, env.namespace, { ...tuning, metrics }), { requestsPerSecond: 300 });
    client = createKubeClient(loadKubeConfig(), { userAgent: "aviary-e2e-dashboard-judge" });
    dashboard = await startDashboard({ client, namespace: env.namespace, host: "127.0.0.1", port: 0, logger: createLogger({ level: "warn" }), actions: false });
    page = await browser.newPage();
    page.on("pageerror", (err) => console.error(`  [page] ${String(err)}`));
  });
  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await client?.close();
    await env?.stop();
    delete process.env.DEMO_INCIDENT_FILE;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const box = `.comparison[data-metric="${METRIC}"]`;
  /** Points drawn by each of the metric's three charts (rates, ratio, evidence). */
  const points = () =>
    page.evaluate((sel: string) => {
      const doc = (globalThis as unknown as { document: Doc }).document;
      return ["rates", "ratio", "evidence"].map((c) => Number(doc.querySelector(`${sel} [data-chart="${c}"] .chart`)?.dataset.points ?? 0));
    }, box);
  const text = (selector: string) => page.$eval(selector, (el) => (el as unknown as El).textContent ?? "");
  const waitForOutcome = (outcome: string) => page.waitForSelector(`${box}[data-outcome="${outcome}"]`, { timeout: 60_000 });
  const shoot = async (file: string) => {
    if (!SHOTS) return;
    await new Promise((r) => setTimeout(r, 500)); // let the charts finish their frame
    await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
  };

  it("charts both arms, the ratio and the evidence as the judge counts, and promotes a good release through a shared incident", async () => {
    await page.goto(`${dashboard.url}#/${env.namespace}/${NAME}`);
    await page.waitForSelector("#canary-name", { timeout: 20_000 });
    await writeFile(incidentFile, "");
    await env.release(NAME, "2.0.0");
    // The first window the judge could say something about: both arms' rates and an e-value.
    await waitForCanary(env.namespace, NAME, "the judge's first evidence", (c) => (c.status?.lastAnalysis ?? []).some((r) => (r as { judge?: { eValue?: number } }).judge?.eValue !== undefined), 90_000);
    // The charts are drawn in the frames after the update arrives: wait until each has drawn it.
    await page.waitForFunction(
      (sel: string) => ["rates", "ratio", "evidence"].every((c) => Number((globalThis as unknown as { document: Doc }).document.querySelector(`${sel} [data-chart="${c}"] .chart`)?.dataset.points ?? 0) > 0),
      { timeout: 20_000 },
      box,
    );
    const early = await points();
    assert.ok(early.every((n) => n >= 1), `every chart has its first point: ${early.join(", ")}`);

    const done = await waitForVerdict(env.namespace, NAME, 180_000);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    await page.waitForSelector('#verdict[data-outcome="Succeeded"]', { timeout: 30_000 });
    await waitForOutcome("no-regression-yet");
    const late = await points();
    assert.ok(late.every((n, i) => n > early[i]!), `each chart gained points while the run went on: ${early.join(", ")} early, ${late.join(", ")} at the end`);
    const sentence = await text(`${box} .sentence`);
    assert.match(sentence, /^5xx: canary \d+(\.\d+)?% vs primary \d+(\.\d+)?% \(ratio \S+, 99% CI \S+\) within tolerance 1\.2 so far \(e-value \S+ < 100\)$/);
    const figures = await text(`${box} .figures`);
    assert.match(figures, /E-value \/ threshold\S+ \/ 100/, figures);
    assert.match(figures, /Tolerance1\.2/, figures);
    // Both arms carry the incident's 5xx: the primary's rate is there to compare against.
    assert.match(figures, /Primary[\d,]+ of [\d,]+ \([1-9][\d.]*%\)/, figures);
  });

  it("shows a regression: the judge's sentence, the evidence past the threshold and the rollback", async () => {
    await env.release(NAME, "3.0.0-errors");
    const done = await waitForVerdict(env.namespace, NAME, 120_000);
    assert.equal(done.status?.phase, "Failed", reasonOf(done));
    await waitForOutcome("regression");
    const sentence = await text(`${box} .sentence`);
    assert.match(sentence, /^5xx: canary \d+(\.\d+)?% vs primary \d+(\.\d+)?% \(ratio \S+, 99% CI \S+\) > tolerance 1\.2 \(e-value \S+ ≥ 100\)$/);
    assert.equal(await page.$eval(`${box} .sentence`, (el) => (el as unknown as { className: string }).className), "sentence bad");
    // The page hears of the rollback from its event stream, a moment after the API server has it.
    await page.waitForSelector('#verdict[data-outcome="Failed"]', { timeout: 30_000 });
    const verdict = await text('#verdict[data-outcome="Failed"]');
    assert.match(verdict, /Rolled back\..*> tolerance 1\.2/);
    const [rates, ratio, evidence] = await points();
    assert.ok(rates! >= 1 && ratio! >= 1 && evidence! >= 1, `the new run's charts: ${rates}, ${ratio}, ${evidence}`);
    await shoot("dashboard-judged.png");
  });
});
