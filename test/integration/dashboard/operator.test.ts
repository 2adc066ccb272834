/**
 * The dashboard served by the operator (--dashboard-port): read-only without
 * --dashboard-actions, and a page open in Chromium that reconnects on its own when the
 * operator restarts, and then shows what changed while it was down.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { Browser } from "puppeteer-core";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { startAviary } from "../../support/aviary.ts";
import type { AviaryProcess } from "../../support/aviary.ts";
import { launchBrowser } from "../../support/browser.ts";
import { clusterClient, createCanary, createNamespace, ensureCanaryCrd, readCanary, setStatus } from "../cli/support.ts";
import { post } from "./support.ts";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Row {
  dataset: { phase?: string };
}
interface Doc {
  querySelector(selector: string): (Row & { textContent: string | null }) | null;
}

describe("dashboard served by the operator", function () {
  this.timeout(120_000);
  let client: ClusterClient;
  let ns: string;
  let port: number;
  let aviary: AviaryProcess | undefined;
  let browser: Browser;

  // The controller is off: these Canaries get hand-written status and must keep it.
  const operator = () => startAviary(["--no-controller", "--webhook-host", "127.0.0.1", "--webhook-port", "0", "--cert-dir", `/tmp/aviary-dash-certs-${ns}`, "--namespace", ns, "--dashboard-port", String(port)]);

  before(async () => {
    client = clusterClient();
    await ensureCanaryCrd(client);
    ns = await createNamespace(client);
    await createCanary(client, ns, "web");
    await setStatus(client, ns, "web", { phase: "Progressing", canaryWeight: 20 });
    port = await freePort();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await aviary?.stop();
    await client?.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => {});
    await client?.close();
  });

  it("is read-only without --dashboard-actions", async () => {
    aviary = operator();
    await aviary.waitForLog(/serving the dashboard/);
    const answer = await post(`http://127.0.0.1:${port}/api/canaries/${ns}/web/abort`, { "x-aviary-action": "1" });
    assert.equal(answer.status, 403);
    assert.match(answer.body.message, /read-only/);
    assert.equal((await readCanary(client, ns, "web")).metadata.annotations?.["aviary.dev/abort"], undefined);
  });

  it("keeps an open page live across an operator restart", async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const row = `tr[data-key="${ns}/web"]`;
    await page.waitForSelector(`${row}[data-phase="Progressing"]`, { timeout: 20_000 });
    assert.equal(await page.$eval("#mode", (el) => (el as unknown as { textContent: string }).textContent), "read-only");

    await aviary!.kill();
    await page.waitForSelector('#connection[data-state="reconnecting"]', { timeout: 20_000 });
    // What happens while the page is cut off must show once it is back.
    await setStatus(client, ns, "web", { phase: "Failed", canaryWeight: 0 });
    aviary = operator();
    await page.waitForSelector('#connection[data-state="live"]', { timeout: 30_000 });
    await page.waitForFunction((selector: string) => (globalThis as unknown as { document: Doc }).document.querySelector(selector)?.dataset.phase === "Failed", { timeout: 20_000 }, row);
  });
});
