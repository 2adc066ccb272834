/**
 * The dashboard at scale, in headless Chromium: 200 real Canaries on the local control plane
 * (objects with a written status; no pods are needed, the dashboard only reads them), served
 * by `aviary dashboard` as its own process.
 *
 *   npm run bench -- dashboard      (AVIARY_BENCH_CANARIES=200, AVIARY_BENCH_RUNNING=20)
 *
 * Prints: the page load (navigation until every row is drawn), the same with the list
 * stream already warm, and while 20 releases run (20 Canaries moving weight and writing
 * measurements every 500 ms): how long a change takes from the API write to the page,
 * how long opening a Canary's page takes, and the main thread's long tasks. The targets are
 * a load under 1 s and a page that stays responsive (changes within ~0.5 s, no long task
 * over 200 ms). It measures and does not assert.
 *
 * A long task is wall-clock time; on a busy machine the renderer also waits for a core in
 * the middle of one. A trace of the run gives each task's CPU time on the main thread too,
 * which is the page's own share.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { Canary, CanaryStatus } from "../../src/api/types.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import type { ClusterClient } from "../../src/kube/client.ts";
import { loadKubeConfig } from "../../src/kube/config.ts";
import { ensureCanaryCrd } from "../integration/cli/support.ts";
import { openStream } from "../integration/dashboard/support.ts";
import { launchBrowser } from "../support/browser.ts";

const CANARIES = Number(process.env.AVIARY_BENCH_CANARIES ?? 200);
const RUNNING = Number(process.env.AVIARY_BENCH_RUNNING ?? 20);
const CHURN_SECONDS = Number(process.env.AVIARY_BENCH_SECONDS ?? 15);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The little of the browser's DOM the page-side functions touch (the project compiles without DOM types). */
interface Doc {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
}

const PHASES = ["Initialized", "Succeeded", "Failed", "Progressing"] as const;

if (!process.env.KUBECONFIG) {
  execFileSync("bash", ["hack/cluster", "up"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  process.env.KUBECONFIG = execFileSync("bash", ["hack/cluster", "kubeconfig"], { cwd: ROOT }).toString().trim();
}

const ref = (namespace: string, name: string) => ({ apiVersion: "aviary.dev/v1beta1", kind: "Canary", namespace, name });
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const ms = (n: number) => `${Math.round(n)} ms`;

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

async function createCanaries(client: ClusterClient, namespace: string): Promise<string[]> {
  const names = Array.from({ length: CANARIES }, (_, i) => `app-${String(i).padStart(3, "0")}`);
  await inBatches(names, 10, async (name) => {
    await client.create<Canary>({
      apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name, namespace },
      spec: {
        provider: "gatewayapi", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name }, service: { port: 80, gatewayRefs: [{ name: "public" }] },
        analysis: { interval: "30s", threshold: 3, maxWeight: 50, stepWeight: 10, metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 } }] },
      },
    });
    const i = Number(name.slice(4));
    const status: CanaryStatus = { phase: PHASES[i % PHASES.length]!, canaryWeight: 0, failedChecks: i % 3, canaryRevision: randomBytes(8).toString("hex"), lastTransitionTime: new Date().toISOString() };
    await client.mergePatch(ref(namespace, name), { status }, { subresource: "status" });
  });
  return names;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** The renderer main thread's tasks in a Chromium trace: wall time and the thread's CPU time. */
function mainThreadTasks(trace: Uint8Array | undefined): { wallMs: number; cpuMs: number }[] {
  if (!trace) return [];
  const events = (JSON.parse(Buffer.from(trace).toString()) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`);
  return events
    .filter((e) => e.name === "RunTask" && e.ph === "X" && main.includes(`${e.pid}:${e.tid}`))
    .map((e) => ({ wallMs: (e.dur ?? 0) / 1000, cpuMs: (e.tdur ?? e.dur ?? 0) / 1000 }));
}

async function main(): Promise<void> {
  const client = createKubeClient(loadKubeConfig(), { timeoutMs: 30_000, userAgent: "aviary-bench" });
  await ensureCanaryCrd(client);
  const namespace = `aviary-bench-${randomBytes(3).toString("hex")}`;
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  const cli = spawn(process.execPath, [fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url)), "dashboard", "-n", namespace, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const browser = await launchBrowser();
  try {
    let started = Date.now();
    const names = await createCanaries(client, namespace);
    console.log(`machine: ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} (figures move with it)`);
    console.log(`created ${names.length} Canaries with status in ${ms(Date.now() - started)}`);
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      cli.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /(http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      cli.once("exit", (code) => reject(new Error(`aviary dashboard exited (${code}): ${out}`)));
    });

    const page = await browser.newPage();
    await page.evaluateOnNewDocument(() => {
      const g = globalThis as unknown as { __longTasks: number[]; PerformanceObserver: typeof PerformanceObserver };
      g.__longTasks = [];
      // "longtask" is a Chromium entry type that Node's PerformanceObserver types do not list.
      new g.PerformanceObserver((list) => { for (const e of list.getEntries()) g.__longTasks.push(e.duration); }).observe({ type: "longtask" as "mark", buffered: true });
    });
    const rowsDrawn = (n: number) => page.waitForFunction((count: number) => (globalThis as unknown as { document: Doc }).document.querySelectorAll("#canary-list tbody tr.row").length >= count, { timeout: 30_000, polling: "mutation" }, n);
    const loads: number[] = [];
    for (let i = 0; i < 4; i++) {
      started = performance.now();
      await page.goto(`${url}?load=${i}`, { waitUntil: "domcontentloaded" });
      await rowsDrawn(names.length);
      loads.push(performance.now() - started);
    }
    console.log(`page load with ${names.length} Canaries (navigation until every row is drawn): first ${ms(loads[0]!)}, then ${loads.slice(1).map(ms).join(", ")}`);

    // 20 releases: weight steps and a measurement every 500 ms each.
    const running = names.slice(0, RUNNING);
    let stop = false;
    let writes = 0;
    const churn = (async () => {
      let step = 0;
      while (!stop) {
        step++;
        const t = new Date().toISOString();
        await inBatches(running, RUNNING, (name) =>
          client.mergePatch(ref(namespace, name), {
            status: { phase: "Progressing", canaryWeight: (step * 10) % 60, lastAnalysis: [{ name: "request-success-rate", kind: "metric", value: 99 + Math.random(), min: 99, verdict: "pass", message: "ok", time: t }] },
          }, { subresource: "status" }).then(() => writes++));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await page.evaluate(() => { (globalThis as unknown as { __longTasks: number[] }).__longTasks.length = 0; });
    await page.tracing.start({ categories: ["toplevel", "disabled-by-default-devtools.timeline"] });
    const churnStarted = Date.now();
    // The same stream the page reads, read here too: it tells the server's share of a delay from the browser's.
    const stream = await openStream(`${url}api/stream`);
    const streamed: number[] = [];
    const propagation: number[] = [];
    const opens: number[] = [];
    const probe = names[names.length - 1]!;
    let k = 0;
    while (Date.now() - churnStarted < CHURN_SECONDS * 1000) {
      k++;
      const failed = 100 + k;
      started = performance.now();
      const onStream = stream.waitFor("the probe's change", (e) => e.event === "summary" && (e.data as { name: string; failedChecks: number }).name === probe && (e.data as { failedChecks: number }).failedChecks === failed)
        .then(() => streamed.push(performance.now() - started));
      await client.mergePatch(ref(namespace, probe), { status: { failedChecks: failed } }, { subresource: "status" });
      await page.waitForFunction((key: string, text: string) => {
        const row = (globalThis as unknown as { document: Doc }).document.querySelector(`tr[data-key="${key}"]`);
        return row?.textContent?.includes(text) ?? false;
      }, { timeout: 10_000, polling: "mutation" }, `${namespace}/${probe}`, `${failed}/3`);
      propagation.push(performance.now() - started);
      await onStream;
      if (k % 4 === 0) {
        started = performance.now();
        await page.evaluate((hash: string) => { (globalThis as unknown as { location: { hash: string } }).location.hash = hash; }, `#/${namespace}/${running[k % RUNNING]}`);
        await page.waitForSelector("#weight-chart canvas, #weight-chart.empty", { timeout: 10_000 });
        opens.push(performance.now() - started);
        await page.evaluate(() => { (globalThis as unknown as { location: { hash: string } }).location.hash = "#/"; });
        await rowsDrawn(names.length);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    stop = true;
    await churn;
    stream.close();
    const longTasks = await page.evaluate(() => (globalThis as unknown as { __longTasks: number[] }).__longTasks);
    const tasks = mainThreadTasks(await page.tracing.stop());
    const seconds = (Date.now() - churnStarted) / 1000;
    console.log(`while ${RUNNING} releases run (${Math.round(writes / seconds)} status writes/s for ${Math.round(seconds)} s):`);
    console.log(`  API write -> event on the dashboard's stream: p50 ${ms(quantile(streamed, 0.5))}, p95 ${ms(quantile(streamed, 0.95))}`);
    console.log(`  API write -> row updated on the page: p50 ${ms(quantile(propagation, 0.5))}, p95 ${ms(quantile(propagation, 0.95))}, max ${ms(Math.max(...propagation))} (${propagation.length} probes)`);
    console.log(`  open a Canary's page from the list: p50 ${ms(quantile(opens, 0.5))}, max ${ms(Math.max(...opens))} (${opens.length} opens)`);
    console.log(`  main-thread long tasks (> 50 ms): ${longTasks.length}, longest ${ms(Math.max(0, ...longTasks))}, total ${ms(longTasks.reduce((a, b) => a + b, 0))}`);
    const long = tasks.filter((t) => t.wallMs > 50);
    console.log(`  the same tasks' CPU time on the main thread (trace): longest ${ms(Math.max(0, ...long.map((t) => t.cpuMs)))}, ${long.filter((t) => t.cpuMs > 50).length} over 50 ms of CPU; busiest task of the run ${ms(Math.max(0, ...tasks.map((t) => t.cpuMs)))} CPU`);
  } finally {
    await browser.close();
    cli.kill("SIGINT");
    await client.delete({ apiVersion: "v1", kind: "Namespace", name: namespace }).catch(() => {});
    await client.close();
  }
}

await main();
