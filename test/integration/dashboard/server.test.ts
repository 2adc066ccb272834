/**
 * The dashboard server against the real API server: one set of watches fanned out to every
 * open stream, the full state on connect, the per-Canary snapshot, and the action endpoint
 * writing the same annotation as the CLI — or passing on the API server's 403.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { createKubeClient } from "../../../src/kube/client.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { kubeConfigFor } from "../../../src/kube/config.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { startDashboard } from "../../../src/dashboard/run.ts";
import type { RunningDashboard } from "../../../src/dashboard/run.ts";
import type { CanaryDetail, CanarySummary } from "../../../src/dashboard/model.ts";
import { eventually, kubectlOk } from "../../support/kubectl.ts";
import { clusterClient, createCanary, createNamespace, ensureCanaryCrd, readCanary, setStatus } from "../cli/support.ts";
import { openStream, post } from "./support.ts";
import type { SseEvent, SseStream } from "./support.ts";

const quiet = createLogger({ level: "error" });
const isSummary = (name: string, weight: number) => (e: SseEvent) => e.event === "summary" && (e.data as CanarySummary).name === name && (e.data as CanarySummary).canaryWeight === weight;

describe("dashboard server", function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let ns: string;
  let dashboard: RunningDashboard;
  const streams: SseStream[] = [];

  before(async () => {
    client = clusterClient();
    await ensureCanaryCrd(client);
    ns = await createNamespace(client);
    await createCanary(client, ns, "web");
    await createCanary(client, ns, "api");
    await setStatus(client, ns, "web", { phase: "Progressing", canaryWeight: 10, canaryRevision: "rev1", failedChecks: 0 });
    await setStatus(client, ns, "api", { phase: "Succeeded", canaryWeight: 0 });
    dashboard = await startDashboard({ client, namespace: ns, host: "127.0.0.1", port: 0, logger: quiet, actions: true });
  });
  after(async () => {
    for (const s of streams) s.close();
    await dashboard?.stop();
    await client?.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => {});
    await client?.close();
  });

  const stream = async (query = "") => {
    const s = await openStream(`${dashboard.url}api/stream${query}`);
    streams.push(s);
    return s;
  };

  it("sends the full state on connect and fans one change out to every stream", async () => {
    const plain = await stream();
    const focused = await stream(`?canary=${ns}/web`);
    for (const s of [plain, focused]) {
      const hello = await s.waitFor("hello", (e) => e.event === "hello");
      assert.equal((hello.data as { actions: boolean }).actions, true);
      const list = await s.waitFor("list", (e) => e.event === "list" && (e.data as CanarySummary[]).length === 2);
      assert.deepEqual((list.data as CanarySummary[]).map((c) => [c.name, c.phase]), [["api", "Succeeded"], ["web", "Progressing"]]);
    }
    await focused.waitFor("the first detail", (e) => e.event === "detail" && (e.data as CanaryDetail).summary.name === "web");
    assert.equal(dashboard.server.streams(), 2);

    await setStatus(client, ns, "web", { canaryWeight: 30, lastAnalysis: [{ name: "request-success-rate", kind: "metric", value: 99.7, min: 99, verdict: "pass", message: "request-success-rate 99.7% >= 99%", time: new Date().toISOString() }] });
    await plain.waitFor("web at 30%", isSummary("web", 30));
    await focused.waitFor("web at 30%", isSummary("web", 30));
    const detail = await focused.waitFor("web's detail at 30%", (e) => e.event === "detail" && (e.data as CanaryDetail).summary.canaryWeight === 30);
    const run = (detail.data as CanaryDetail).runs.at(-1)!;
    assert.deepEqual(run.weights.map((w) => w.canary), [10, 30]);
    assert.deepEqual(run.checks.map((c) => [c.name, c.points.map((p) => p.value)]), [["request-success-rate", [99.7]]]);
    assert.ok(!plain.events.some((e) => e.event === "detail"), "a stream without a focus gets no detail");
  });

  it("serves the page, its script and uPlot, and one Canary's snapshot", async () => {
    for (const path of ["", "static/app.js", "static/charts.js", "vendor/uPlot.esm.js", "vendor/uPlot.min.css"]) {
      const res = await fetch(dashboard.url + path);
      assert.equal(res.status, 200, path);
    }
    const res = await fetch(`${dashboard.url}api/canaries/${ns}/web`);
    const detail = (await res.json()) as CanaryDetail;
    assert.equal(detail.summary.key, `${ns}/web`);
    assert.equal(detail.summary.canaryWeight, 30);
    assert.equal((await fetch(`${dashboard.url}api/canaries/${ns}/nothing`)).status, 404);
  });

  it("writes the CLI's annotation for an action, and refuses one without the CSRF header or from another origin", async () => {
    const url = `${dashboard.url}api/canaries/${ns}/web/abort`;
    const bare = await post(url);
    assert.equal(bare.status, 403);
    assert.match(bare.body.message, /x-aviary-action/);
    const foreign = await post(url, { "x-aviary-action": "1", origin: "http://evil.example" });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.message, /another origin/);
    assert.equal((await readCanary(client, ns, "web")).metadata.annotations?.["aviary.dev/abort"], undefined, "nothing written for refused requests");

    const refused = await post(`${dashboard.url}api/canaries/${ns}/api/abort`, { "x-aviary-action": "1" });
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /no run is in progress/);

    const ok = await post(url, { "x-aviary-action": "1", origin: dashboard.url.replace(/\/$/, "") });
    assert.equal(ok.status, 200, ok.body.message);
    assert.match(ok.body.message, /abort requested/);
    const stamped = (await readCanary(client, ns, "web")).metadata.annotations?.["aviary.dev/abort"];
    assert.ok(stamped !== undefined && !Number.isNaN(Date.parse(stamped)), `aviary.dev/abort is a timestamp, got ${stamped}`);
  });

  it("shows the API server's 403 to a user who may read but not patch Canaries", async () => {
    await kubectlOk(["-n", ns, "create", "serviceaccount", "viewer"]);
    await kubectlOk(["-n", ns, "create", "role", "canary-viewer", "--verb=get,list,watch", "--resource=canaries.aviary.dev,events,deployments.apps,services,ingresses.networking.k8s.io"]);
    await kubectlOk(["-n", ns, "create", "rolebinding", "canary-viewer", "--role=canary-viewer", `--serviceaccount=${ns}:viewer`]);
    const token = (await kubectlOk(["-n", ns, "create", "token", "viewer", "--duration=10m"])).trim();
    const viewer = createKubeClient(kubeConfigFor(client.server, { token, skipTLSVerify: true }), { timeoutMs: 15_000 });
    const asViewer = await startDashboard({ client: viewer, namespace: ns, host: "127.0.0.1", port: 0, logger: quiet, actions: true });
    try {
      // The new RoleBinding reaches the API server's authorizer a moment later: the viewer's
      // first list may be refused and retried, so its state is awaited before the stream opens.
      await eventually("the viewer's dashboard to hold both Canaries", async () => {
        const state = await (await fetch(`${asViewer.url}api/canaries`)).json() as { hello: { synced: boolean }; canaries: unknown[] };
        return state.hello.synced && state.canaries.length === 2 ? true : undefined;
      }, 30_000);
      const s = await openStream(`${asViewer.url}api/stream`);
      streams.push(s);
      await s.waitFor("the viewer's list", (e) => e.event === "list" && (e.data as unknown[]).length === 2);
      const before = await readCanary(client, ns, "api");
      const answer = await post(`${asViewer.url}api/canaries/${ns}/api/pause`, { "x-aviary-action": "1" });
      assert.equal(answer.status, 403, answer.body.message);
      assert.match(answer.body.message, /forbidden|cannot patch/i);
      assert.match(answer.body.message, new RegExp(`system:serviceaccount:${ns}:viewer`));
      const after: Canary = await readCanary(client, ns, "api");
      assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, "nothing was written");
    } finally {
      await asViewer.stop();
      await viewer.close();
    }
  });
});
