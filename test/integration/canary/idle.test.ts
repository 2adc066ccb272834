/**
 * What an idle Canary costs the API server: once it is Initialized and its target has
 * settled, aviary sends nothing until something changes (the periodic resync aside, which
 * is minutes away here). Asserted with aviary's own request counter across a window of
 * several seconds; a reconcile with nothing to do (as the resync runs) sends nothing either;
 * then the counter is shown to move as soon as something does change.
 */
import assert from "node:assert/strict";
import { scrape, startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { eventually, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, getDeployment, waitForPhase } from "../../support/canary-fixtures.ts";

const WINDOW_MS = 8_000;

/** Requests sent and reconciles run so far, from aviary's /metrics. */
async function counters(p: AviaryProcess): Promise<{ requests: number; reconciles: number; byVerbKind: string[] }> {
  const samples = await scrape(p);
  let requests = 0;
  let reconciles = 0;
  const byVerbKind: string[] = [];
  for (const [series, value] of samples) {
    if (series.startsWith("aviary_kube_requests_total{")) {
      requests += value;
      byVerbKind.push(`${series.slice("aviary_kube_requests_total".length)} ${value}`);
    }
    if (series.startsWith("aviary_reconcile_duration_seconds_count")) reconciles += value;
  }
  return { requests, reconciles, byVerbKind };
}

describe("canary engine: an idle Canary", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let aviary: AviaryProcess;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace("aviary-idle");
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
  });
  after(async () => {
    await aviary?.stop();
    await ns?.remove();
  });

  it("makes no API requests and runs no reconcile while nothing changes", async () => {
    await apply(ns.name, deployment("idle", "podinfo:1.0.0", { replicas: 1 }));
    await apply(ns.name, canary("idle", { provider: "kubernetes", analysis: { interval: "2s", iterations: 2, stepWeight: undefined, maxWeight: undefined } }));
    await waitForPhase(ns.name, "idle", "Initialized");
    await eventually("the target to be scaled down", async () => {
      const d = await getDeployment(ns.name, "idle");
      return d.spec.replicas === 0 && ((d.status as { replicas?: number } | undefined)?.replicas ?? 0) === 0 ? d : undefined;
    });
    // The last events of the scale-down may still be on their way: wait for a quiet second.
    let before = await counters(aviary);
    await eventually("a quiet second", async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await counters(aviary);
      const quiet = now.requests === before.requests;
      before = now;
      return quiet ? now : undefined;
    }, 30_000, 0);

    const samples: number[] = [];
    const started = Date.now();
    while (Date.now() - started < WINDOW_MS) {
      await new Promise((r) => setTimeout(r, 500));
      samples.push((await counters(aviary)).requests);
    }
    const after = await counters(aviary);
    assert.equal(after.requests - before.requests, 0, `requests while idle (by verb and kind, cumulative):\n${after.byVerbKind.join("\n")}`);
    assert.equal(after.reconciles - before.reconciles, 0, "no reconcile while idle");
    assert.ok(samples.length >= 10, "the window was watched throughout");

    // A reconcile that finds nothing to do (the periodic resync, an annotation no one acts on)
    // reads everything from the watches and sends nothing either.
    await kubectlOk(["annotate", "canaries.aviary.dev", "idle", "-n", ns.name, "example.com/note=unrelated"]);
    const woken = await eventually("a reconcile for the unrelated annotation", async () => {
      const now = await counters(aviary);
      return now.reconciles > after.reconciles ? now : undefined;
    }, 10_000, 100);
    await new Promise((r) => setTimeout(r, 1000));
    const settled = await counters(aviary);
    assert.ok(settled.reconciles - woken.reconciles <= 1, "a reconcile or two (each watch wakes it once), not a loop");
    assert.equal(settled.requests - after.requests, 0, `requests of a reconcile with nothing to do (by verb and kind, cumulative):\n${settled.byVerbKind.join("\n")}`);

    // The counter does move when there is something to do: a generated Service deleted by hand is restored.
    await kubectlOk(["delete", "service", "idle-canary", "-n", ns.name]);
    await eventually("the Service to be restored", async () => ((await counters(aviary)).requests > settled.requests ? true : undefined), 10_000, 100);
  });

  it("reads whether its namespace is being deleted from a watch, not with a request per reconcile", async () => {
    const { reconciles, byVerbKind } = await counters(aviary);
    assert.ok(reconciles >= 3, `the Canary was reconciled (${reconciles} times)`);
    const namespaceRequests = byVerbKind.filter((s) => s.includes('kind="Namespace"'));
    assert.ok(namespaceRequests.some((s) => s.startsWith('{verb="watch",kind="Namespace"}')), `a watch of namespaces: ${namespaceRequests.join(", ")}`);
    assert.deepEqual(namespaceRequests.filter((s) => s.startsWith('{verb="get"')), [], "no namespace read per reconcile");
  });
});
