/**
 * The canary engine end to end against the real API server: initialization, promotion,
 * rollback, config changes, a new revision mid-run and a controller restart mid-run.
 * aviary runs as its own process (controller only); webhooks are a local HTTP server.
 */
import assert from "node:assert/strict";
import { scrape, startAviary, type AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { eventually, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, events, getCanary, getDeployment, image, routeWeights, waitForCanary, waitForPhase, watchWeights } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

describe("canary engine: lifecycle", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("initializes: primary, services and HTTPRoute created, target scaled to zero", async () => {
    await apply(ns.name, deployment("podinfo", "podinfo:1.0.0", { replicas: 2 }));
    await apply(ns.name, canary("podinfo", { analysis: { webhooks: loadHook(hooks, "podinfo") } }));
    const c = await waitForPhase(ns.name, "podinfo", "Initialized");
    assert.equal(c.status?.canaryWeight ?? 0, 0);

    const primary = await getDeployment(ns.name, "podinfo-primary");
    assert.equal(image(primary), "podinfo:1.0.0");
    assert.equal(primary.spec.replicas, 2);
    assert.equal(primary.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
    assert.deepEqual(primary.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ["Canary/podinfo"]);
    const target = await getDeployment(ns.name, "podinfo");
    assert.equal(target.spec.replicas, 0, "the target is scaled to zero");

    const services = await kubectlJson<{ items: { metadata: { name: string }; spec: { selector: Record<string, string> } }[] }>(["get", "services", "-n", ns.name]);
    const selectors = Object.fromEntries(services.items.map((s) => [s.metadata.name, s.spec.selector.app]));
    assert.deepEqual(selectors, { podinfo: "podinfo-primary", "podinfo-primary": "podinfo-primary", "podinfo-canary": "podinfo" });
    assert.deepEqual(await routeWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
    const reasons = (await events(ns.name, "podinfo")).map((e) => e.reason);
    assert.ok(reasons.includes("Initialized"), `events: ${reasons.join(", ")}`);
  });

  it("sees a new image at once and promotes it step by step (20, 40, 60)", async () => {
    const weights = watchWeights(ns.name, "podinfo");
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:2.0.0", "-n", ns.name]);
    const updatedAt = Date.now(); // kubectl returned: the update is stored
    await eventually("a NewRevision event", async () => (await events(ns.name, "podinfo")).find((e) => e.reason === "NewRevision"), 10_000, 50);
    const latency = Date.now() - updatedAt;
    console.log(`      NewRevision event seen ${latency} ms after the update (polled every 50 ms)`);
    assert.ok(latency < 2_000, `the change is seen from the watch, not a polling tick: ${latency} ms`);
    const done = await waitForPhase(ns.name, "podinfo", "Succeeded", 90_000);
    const seen = await weights.stop();
    for (const w of [20, 40, 60]) assert.ok(seen.includes(w), `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(seen.filter((w) => w > 0), [20, 40, 60], `weights never go backwards: ${seen.join(" → ")}`);
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2.0.0");
    assert.equal((await getDeployment(ns.name, "podinfo")).spec.replicas, 0);
    assert.deepEqual(await routeWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
    const promoted = done.status?.conditions?.find((x) => x.type === "Promoted");
    assert.equal(promoted?.status, "True");
    assert.ok(hooks.calls.some((call) => call.path === "/podinfo" && call.body.name === "podinfo"));
  });

  it("rolls back when the rollout webhook fails: Failed after threshold, routes 100/0, primary unchanged", async () => {
    const failed = await failRollout(ns.name, hooks, "podinfo", "podinfo:3.0.0-bad");
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await routeWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
    assert.equal((await getDeployment(ns.name, "podinfo")).spec.replicas, 0);
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2.0.0");
    const rolledBack = (await events(ns.name, "podinfo")).find((e) => e.reason === "RolledBack");
    assert.ok(rolledBack, "a RolledBack event");
    assert.ok(failed.status?.lastAnalysis?.some((r) => r.verdict === "fail" && /500/.test(r.message)), JSON.stringify(failed.status?.lastAnalysis));
    hooks.status.delete("/podinfo");
  });

  it("retries a failed revision when asked, without a new image", async () => {
    // Its own failed run: a revision whose checks fail until the hook is fixed.
    const before = (await getCanary(ns.name, "podinfo")).status?.lastAppliedSpec;
    hooks.status.set("/podinfo", 500);
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:4.0.0-flaky", "-n", ns.name]);
    const failed = await eventually("the new revision to fail", async () => {
      const c = await getCanary(ns.name, "podinfo");
      return c.status?.phase === "Failed" && c.status.lastAppliedSpec !== before ? c : undefined;
    }, 60_000, 100);
    const rev = failed.status?.lastAppliedSpec;
    hooks.status.delete("/podinfo");
    await kubectlOk(["annotate", "canaries.aviary.dev/podinfo", "-n", ns.name, `aviary.dev/retry=${Date.now()}`, "--overwrite"]);
    const done = await waitForPhase(ns.name, "podinfo", "Succeeded", 90_000);
    assert.equal(done.status?.lastPromotedSpec, rev, "the failed revision itself was promoted");
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:4.0.0-flaky");
    assert.ok((await events(ns.name, "podinfo")).some((e) => e.reason === "Retrying"), "a Retrying event");
  });

  it("exports the canary's phase, weights and run totals on /metrics", async () => {
    const labels = `namespace="${ns.name}",name="podinfo"`;
    const m = await eventually("the final phase on /metrics", async () => {
      const samples = await scrape(aviary);
      return samples.get(`aviary_canary_phase{${labels},phase="Succeeded"}`) === 1 ? samples : undefined;
    }, 10_000);
    for (const phase of ["Progressing", "Failed", "Initialized"]) assert.equal(m.get(`aviary_canary_phase{${labels},phase="${phase}"}`), 0, phase);
    assert.equal(m.get(`aviary_canary_weight{${labels},workload="primary"}`), 100);
    assert.equal(m.get(`aviary_canary_weight{${labels},workload="canary"}`), 0);
    // The runs of this suite: promoted; rolled back; rolled back, retried and promoted.
    assert.equal(m.get(`aviary_canary_runs_total{strategy="canary",result="succeeded"}`), 2);
    assert.equal(m.get(`aviary_canary_runs_total{strategy="canary",result="failed"}`), 2);
    assert.equal(m.get("aviary_leader_status"), 1);
    assert.ok((m.get(`aviary_reconcile_duration_seconds_count{result="success"}`) ?? 0) > 0, "reconciles are timed");
  });
});

describe("canary engine: configuration changes and restarts", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let aviary: AviaryProcess;

  before(async () => {
    ns = await tempNamespace();
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
  });
  after(async () => {
    await aviary?.stop();
    await ns?.remove();
  });

  it("starts a run on a ConfigMap change alone and promotes it as <name>-primary", async () => {
    await kubectlOk(["create", "configmap", "web-config", "-n", ns.name, "--from-literal=GREETING=hello"]);
    await apply(ns.name, deployment("web", "web:1", { configMap: "web-config" }));
    await apply(ns.name, canary("web", { analysis: { stepWeight: 50, maxWeight: 50 } }));
    const init = await waitForPhase(ns.name, "web", "Initialized");
    assert.ok(init.status?.trackedConfigs?.["ConfigMap/web-config"], JSON.stringify(init.status?.trackedConfigs));
    const primary = await getDeployment(ns.name, "web-primary");
    assert.equal(primary.spec.template.spec.containers[0]?.envFrom?.[0]?.configMapRef?.name, "web-config-primary");
    const copy = await kubectlJson<{ data: Record<string, string> }>(["get", "configmap", "web-config-primary", "-n", ns.name]);
    assert.equal(copy.data.GREETING, "hello");

    await kubectlOk(["patch", "configmap", "web-config", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ data: { GREETING: "bonjour" } })]);
    await eventually("a run for the config change", async () => (await events(ns.name, "web")).find((e) => e.reason === "NewRevision"), 10_000, 100);
    await eventually("the promoted config", async () => {
      const c = await getCanary(ns.name, "web");
      const cm = await kubectlJson<{ data: Record<string, string> }>(["get", "configmap", "web-config-primary", "-n", ns.name]);
      return c.status?.phase === "Succeeded" && cm.data.GREETING === "bonjour" ? true : undefined;
    }, 60_000);
  });

  it("restarts the analysis from weight 0 when a new image arrives mid-run", async () => {
    await apply(ns.name, deployment("api", "api:1"));
    await apply(ns.name, canary("api", { analysis: { interval: "2s", stepWeight: 20, maxWeight: 80 } }));
    await waitForPhase(ns.name, "api", "Initialized");
    await kubectlOk(["set", "image", "deployment/api", "app=api:2", "-n", ns.name]);
    await eventually("weight 40", async () => ((await routeWeights(ns.name, "api"))?.canary === 40 ? true : undefined), 60_000, 100);
    const weights = watchWeights(ns.name, "api");
    // The interrupted run's weight is seen before the new image goes in, however slow the machine.
    await eventually("the weight watch to start", async () => (weights.seen.length > 0 ? true : undefined), 10_000, 20);
    await kubectlOk(["set", "image", "deployment/api", "app=api:3", "-n", ns.name]);
    const done = await waitForPhase(ns.name, "api", "Succeeded", 90_000);
    const seen = (await weights.stop()).filter((w) => w > 0);
    // The interrupted run (at 40 or beyond), then the new revision's whole schedule from the start.
    const restart = seen.findIndex((w, i) => i > 0 && w < seen[i - 1]!);
    assert.ok(restart > 0 && seen.slice(0, restart).every((w) => w >= 40), `one drop, from the interrupted run: ${seen.join(" → ")}`);
    assert.deepEqual(seen.slice(restart), [20, 40, 60, 80], `the new revision ran its whole schedule: ${seen.join(" → ")}`);
    const fromZero = (await events(ns.name, "api")).filter((e) => e.reason === "WeightAdvanced" && e.message.startsWith("canary weight 0% -> 20%"));
    assert.ok(fromZero.some((e) => e.message.endsWith(`for revision ${done.status?.lastPromotedSpec}`)), `the new revision started at 0%: ${fromZero.map((e) => e.message).join("; ")}`);
    assert.equal(image(await getDeployment(ns.name, "api-primary")), "api:3");
  });

  it("resumes a run after the controller is killed mid-run and ends with the right verdict", async () => {
    await apply(ns.name, deployment("shop", "shop:1"));
    await apply(ns.name, canary("shop", { analysis: { interval: "1s", stepWeight: 20, maxWeight: 80 } }));
    await waitForPhase(ns.name, "shop", "Initialized");
    const weights = watchWeights(ns.name, "shop");
    await kubectlOk(["set", "image", "deployment/shop", "app=shop:2", "-n", ns.name]);
    await eventually("weight 40", async () => ((await routeWeights(ns.name, "shop"))?.canary === 40 ? true : undefined), 60_000, 100);
    await aviary.kill();
    const atKill = await getCanary(ns.name, "shop");
    const weightAtKill = atKill.status?.canaryWeight ?? 0;
    // The restart below only means something if the run was still going when aviary died.
    assert.ok(["Progressing", "Promoting"].includes(atKill.status?.phase ?? "") && weightAtKill >= 40, `killed mid-run: ${atKill.status?.phase} at ${weightAtKill}%`);
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
    await waitForPhase(ns.name, "shop", "Succeeded", 90_000);
    const seen = (await weights.stop()).filter((w) => w > 0);
    assert.deepEqual(seen, [20, 40, 60, 80], `weights never go backwards across the restart: ${seen.join(" → ")}`);
    assert.equal(image(await getDeployment(ns.name, "shop-primary")), "shop:2");
    const promotions = (await events(ns.name, "shop")).filter((e) => e.reason === "Promoted");
    assert.equal(promotions.reduce((n, e) => n + (e.count ?? 1), 0), 1, "promoted once");
  });

  it("reports an invalid Canary by field and rule, and touches nothing", async () => {
    await apply(ns.name, deployment("broken", "broken:1"));
    // Valid for the CRD schema, invalid for aviary: the gatewayapi router needs a Gateway to attach to.
    const manifest = canary("broken");
    delete (manifest.spec as { service: Record<string, unknown> }).service.gatewayRefs;
    await apply(ns.name, manifest);
    const c = await eventually("an InvalidSpec condition", async () => {
      const x = await getCanary(ns.name, "broken");
      return x.status?.conditions?.find((k) => k.reason === "InvalidSpec") ? x : undefined;
    }, 20_000);
    const cond = c.status?.conditions?.find((k) => k.reason === "InvalidSpec");
    assert.equal(cond?.status, "False");
    assert.match(cond?.message ?? "", /spec\.service\.gatewayRefs: /);
    const event = (await events(ns.name, "broken")).find((e) => e.reason === "InvalidSpec");
    assert.match(event?.message ?? "", /spec\.service\.gatewayRefs/);
    assert.equal((await kubectl(["get", "deployment", "broken-primary", "-n", ns.name])).code, 1, "no primary was created");
    assert.equal((await getDeployment(ns.name, "broken")).spec.replicas, 2, "the target is untouched");
  });

  it("waits for a missing target and says why", async () => {
    await apply(ns.name, canary("ghost"));
    const c = await eventually("a condition naming the missing target", async () => {
      const x = await getCanary(ns.name, "ghost");
      const cond = x.status?.conditions?.find((k) => /ghost/.test(k.message ?? "") && /not found|missing|waiting/i.test(k.message ?? ""));
      return cond ? x : undefined;
    }, 20_000);
    assert.notEqual(c.status?.phase, "Initialized");
    await kubectl(["delete", "canaries.aviary.dev", "ghost", "-n", ns.name]);
  });

  it("initializes a target created after its Canary from the watch, not at the next interval", async () => {
    // An interval of 10 minutes: only the watch of not-yet-labelled workloads can wake it.
    await apply(ns.name, canary("late", { analysis: { interval: "10m" } }));
    await waitForCanary(ns.name, "late", "a WaitingForTarget condition", (x) => (x.status?.conditions ?? []).some((k) => /waiting for target Deployment late/.test(k.message ?? "")), 20_000);
    await apply(ns.name, deployment("late", "podinfo:1.0.0"));
    await waitForPhase(ns.name, "late", "Initialized", 30_000);
    const target = await getDeployment(ns.name, "late");
    assert.equal(target.metadata.labels?.["aviary.dev/canary"], "late", "an initialized target carries its Canary's label");
    await kubectl(["delete", "canaries.aviary.dev", "late", "-n", ns.name]);
  });
});
