/**
 * End to end in a real browser: the dashboard (as `aviary dashboard` runs it, with the
 * test's kubeconfig) follows real releases on the local control plane with the simulated
 * mesh and Prometheus, seen through headless Chromium. The list shows the Canary; the
 * weight chart gains points as a run advances; the verdict sentence appears when it ends;
 * the abort button rolls a running release back.
 *
 * With AVIARY_SCREENSHOT_DIR set it also saves the promoted and the rolled-back page there
 * (hack/screenshots.sh does that for the README).
 */
import assert from "node:assert/strict";
import path from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { createKubeClient } from "../../src/kube/client.ts";
import type { ClusterClient } from "../../src/kube/client.ts";
import { loadKubeConfig } from "../../src/kube/config.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { startDashboard } from "../../src/dashboard/run.ts";
import type { RunningDashboard } from "../../src/dashboard/run.ts";
import { waitForCanary } from "../support/canary-metrics.ts";
import { launchBrowser } from "../support/browser.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "storefront";
const SHOTS = process.env.AVIARY_SCREENSHOT_DIR;

describe("e2e: the dashboard in a browser", function () {
  this.timeout(240_000);
  let env: E2eEnvironment;
  let client: ClusterClient;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let page: Page;

  before(async function () {
    this.timeout(600_000);
    browser = await launchBrowser();
    env = await startE2eEnvironment("aviary-e2e-dash");
    await env.deploy(NAME, { interval: "2s", threshold: 2, stepWeight: 20, maxWeight: 60, metricInterval: "4s", successMin: 95, durationMaxMs: 500 });
    client = createKubeClient(loadKubeConfig(), { userAgent: "aviary-e2e-dashboard" });
    dashboard = await startDashboard({ client, namespace: env.namespace, host: "127.0.0.1", port: 0, logger: createLogger({ level: "warn" }), actions: true });
    page = await browser.newPage();
    page.on("pageerror", (err) => console.error(`  [page] ${String(err)}`));
  });
  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await client?.close();
    await env?.stop();
  });

  const points = () => page.$eval("#weight-chart", (el) => Number((el as unknown as { dataset: { points?: string } }).dataset.points ?? 0));
  const verdict = (outcome: string) => page.waitForSelector(`#verdict[data-outcome="${outcome}"]`, { timeout: 60_000 }).then((el) => el!.evaluate((e) => (e as unknown as { textContent: string }).textContent));
  const shoot = async (file: string) => {
    if (!SHOTS) return;
    await new Promise((r) => setTimeout(r, 500)); // let the charts finish their frame
    await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
  };

  it("lists the Canary", async () => {
    await page.goto(dashboard.url);
    const row = await page.waitForSelector(`#canary-list tr[data-key="${env.namespace}/${NAME}"]`, { timeout: 20_000 });
    assert.equal(await row!.evaluate((r) => (r as unknown as { dataset: { phase: string } }).dataset.phase), "Initialized");
  });

  it("charts a good release as it advances and shows why it was promoted", async () => {
    await page.goto(`${dashboard.url}#/${env.namespace}/${NAME}`);
    await page.waitForSelector("#canary-name", { timeout: 20_000 });
    await env.release(NAME, "2.0.0");
    await waitForCanary(env.namespace, NAME, "the first step", (c) => (c.status?.canaryWeight ?? 0) >= 20, 60_000);
    await page.waitForFunction(() => Number((globalThis as unknown as { document: { querySelector(s: string): { dataset: { points?: string } } | null } }).document.querySelector("#weight-chart")?.dataset.points ?? 0) > 0, { timeout: 20_000 });
    const early = await points();
    const done = await waitForVerdict(env.namespace, NAME);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    const sentence = await verdict("Succeeded");
    assert.match(sentence, /Promoted\..*promoted/);
    assert.ok((await points()) > early, `the weight chart gained points: ${early} at the first step, ${await points()} at the end`);
    assert.ok((await page.$$(".check .chart canvas")).length >= 2, "a chart per check");
    assert.ok((await page.$$('#objects tr[data-kind="Deployment"]')).length >= 1, "the primary Deployment is listed");
    await shoot("dashboard-promoted.png");
  });

  it("shows a bad release rolled back by its failed checks", async () => {
    await env.release(NAME, "3.0.0-bad");
    const done = await waitForVerdict(env.namespace, NAME);
    assert.equal(done.status?.phase, "Failed", reasonOf(done));
    assert.match(await verdict("Failed"), /Rolled back\..*failed checks/);
    await page.waitForSelector(".check .sentence.bad", { timeout: 10_000 });
    await shoot("dashboard-rolled-back.png");
  });

  it("rolls a running release back with the abort button", async () => {
    await env.release(NAME, "4.0.0");
    const abort = await page.waitForSelector('button[data-action="abort"]:not([disabled])', { timeout: 60_000 });
    await abort!.click();
    const answer = await page.waitForSelector('#action-result[data-ok="true"]', { timeout: 20_000 });
    assert.match(await answer!.evaluate((e) => (e as unknown as { textContent: string }).textContent), /abort requested/);
    const done = await waitForCanary(env.namespace, NAME, "the rollback", (c) => c.status?.phase === "Failed" || c.status?.phase === "Succeeded", 60_000);
    assert.equal(done.status?.phase, "Failed", reasonOf(done));
    assert.match(await verdict("Failed"), /aborted on request/);
  });
});
