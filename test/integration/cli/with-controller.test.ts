/**
 * The `aviary` CLI against a running controller: `status -w` follows a
 * real run to its verdict, and promote, abort, retry, pause and resume change what the
 * controller does. aviary runs as its own process (controller only, one namespace); the
 * Canaries' webhooks are a local HTTP server the tests answer for.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "mocha";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { eventually, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, events, getCanary, getDeployment, image, routeWeights, waitForPhase, watchWeights } from "../../support/canary-fixtures.ts";
import { runCli, startCli, type RunningCli } from "./support.ts";

/** `[12:00:31] Progressing | canary 20% | primary 80% | checks 0/2` (no bar: stdout is a pipe). */
const PROGRESS_LINE = /^\[\d\d:\d\d:\d\d\] (\w+) \| canary (\d+)% \| primary (\d+)% \| checks (\d+)\/(\d+)/;

interface ProgressLine { phase: string; canary: number; primary: number; failed: number; threshold: number }

function progressLines(lines: readonly string[]): ProgressLine[] {
  return lines.flatMap((line) => {
    const m = PROGRESS_LINE.exec(line);
    return m ? [{ phase: m[1]!, canary: Number(m[2]), primary: Number(m[3]), failed: Number(m[4]), threshold: Number(m[5]) }] : [];
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("aviary CLI with the controller running (integration)", function () {
  this.timeout(120_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let hooks: HookServer;
  let aviary: AviaryProcess;
  const clis: RunningCli[] = [];
  const weightWatches: ReturnType<typeof watchWeights>[] = [];

  /** Records the HTTPRoute's canary weights; the poller is stopped after the test whatever happens. */
  function recordWeights(name: string): ReturnType<typeof watchWeights> {
    const w = watchWeights(ns.name, name);
    weightWatches.push(w);
    return w;
  }

  /**
   * `status -w --next-run` for a run about to start, once it has printed the state it starts
   * on (`first`) and had a moment to open its watch; stopped after the test whatever happens.
   */
  async function watchNextRun(name: string, first: RegExp): Promise<RunningCli> {
    const cli = startCli(["status", name, "-w", "--next-run", "--timeout", "60s", "-n", ns.name], 70_000);
    clis.push(cli);
    await cli.waitForLine(first);
    await sleep(500);
    return cli;
  }

  async function release(name: string, analysis: Record<string, unknown>): Promise<void> {
    await apply(ns.name, deployment(name, `${name}:1`));
    await apply(ns.name, canary(name, { analysis }));
    await waitForPhase(ns.name, name, "Initialized");
  }

  const setImage = (name: string, tag: string) => kubectlOk(["set", "image", `deployment/${name}`, `app=${name}:${tag}`, "-n", ns.name]);
  const annotations = async (name: string) => (await kubectlOk(["get", "canaries.aviary.dev", name, "-n", ns.name, "-o", "jsonpath={.metadata.annotations}"])).trim();

  before(async () => {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace();
    hooks = await startHookServer();
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
  });
  afterEach(async () => {
    for (const cli of clis.splice(0)) {
      cli.kill();
      await cli.exited;
    }
    for (const w of weightWatches.splice(0)) await w.stop();
  });
  after(async () => {
    await aviary?.stop();
    await hooks?.close();
    await ns?.remove();
  });

  it("status -w --next-run prints each step of a full run in order and exits 0 on Succeeded", async () => {
    await release("watched", { stepWeight: 20, maxWeight: 60, webhooks: [{ name: "load", type: "rollout", url: hooks.url("/watched") }] });
    // The settled state it starts on must not end the watch: --next-run waits for the run.
    const cli = await watchNextRun("watched", /Initialized \| canary 0% \| primary 100% \| checks 0\/2$/);
    await setImage("watched", "2");
    const result = await cli.exited;
    assert.equal(result.code, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.equal(result.stderr, "");

    const steps = progressLines(result.stdout.split("\n"));
    for (const s of steps) {
      assert.equal(s.primary, 100 - s.canary, `weights add up: ${JSON.stringify(s)}`);
      assert.deepEqual([s.failed, s.threshold], [0, 2], `a healthy run has no failed checks: ${JSON.stringify(s)}`);
    }
    const progressing = steps.filter((s) => s.phase === "Progressing" && s.canary > 0).map((s) => s.canary);
    assert.deepEqual(progressing, [20, 40, 60], `weights in order:\n${result.stdout}`);
    // Phases in the order they happened, each shown once per change.
    const phases = steps.map((s) => s.phase).filter((p, i, all) => p !== all[i - 1]);
    assert.deepEqual(phases.filter((p) => p !== "Finalising"), ["Initialized", "Progressing", "Promoting", "Succeeded"], `phases:\n${result.stdout}`);
    assert.equal(steps.find((s) => s.phase === "Promoting")?.canary, 60, "promotion starts at maxWeight");
    assert.deepEqual(steps.at(-1), { phase: "Succeeded", canary: 0, primary: 100, failed: 0, threshold: 2 });
    // What the CLI reported is what happened.
    assert.equal(image(await getDeployment(ns.name, "watched-primary")), "watched:2");
    assert.equal((await getCanary(ns.name, "watched")).status?.phase, "Succeeded");
  });

  it("status -w --next-run exits 1 when the run fails (rollout webhook answers 500)", async () => {
    hooks.status.set("/watched", 500);
    try {
      const cli = await watchNextRun("watched", /Succeeded \| canary 0% \| primary 100%/);
      await setImage("watched", "3-bad");
      const result = await cli.exited;
      assert.equal(result.code, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
      const steps = progressLines(result.stdout.split("\n"));
      assert.deepEqual(steps.at(-1), { phase: "Failed", canary: 0, primary: 100, failed: 2, threshold: 2 }, result.stdout);
      assert.ok(steps.some((s) => s.phase === "Progressing" && s.failed === 1), `the first failed check is shown:\n${result.stdout}`);
      assert.match(result.stdout, /^ +fail +.*500/m, "the failing check's verdict is printed");
      assert.equal(image(await getDeployment(ns.name, "watched-primary")), "watched:2");
      // Without -w, status still exits 1 for the failed run (CI gates on it).
      const status = await runCli(["status", "watched", "-n", ns.name]);
      assert.equal(status.code, 1, status.stderr);
    } finally {
      hooks.status.delete("/watched");
    }
  });

  it("promote --yes releases a closed confirm-promotion gate: WaitingPromotion → Succeeded with the new image", async () => {
    hooks.status.set("/approve", 403);
    await release("approve", { stepWeight: 20, maxWeight: 60, webhooks: [{ name: "approve", type: "confirm-promotion", url: hooks.url("/approve") }] });
    await setImage("approve", "2");
    await waitForPhase(ns.name, "approve", "WaitingPromotion", 60_000);
    await sleep(2_500);
    const held = await getCanary(ns.name, "approve");
    assert.equal(held.status?.phase, "WaitingPromotion", "the closed gate holds the run");
    assert.deepEqual(await routeWeights(ns.name, "approve"), { primary: 40, canary: 60 });
    assert.equal(image(await getDeployment(ns.name, "approve-primary")), "approve:1");
    const asked = hooks.calls.filter((c) => c.path === "/approve").length;
    assert.ok(asked >= 2, `the gate was asked every interval (${asked} calls)`);

    const r = await runCli(["promote", "approve", "--yes", "-n", ns.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^promotion requested for ${ns.name}/approve \\(aviary.dev/promote=\\S+\\): the confirm-promotion gate opens`));
    const done = await waitForPhase(ns.name, "approve", "Succeeded", 60_000);
    assert.equal(hooks.status.get("/approve"), 403, "the gate itself never opened");
    assert.equal(image(await getDeployment(ns.name, "approve-primary")), "approve:2");
    assert.deepEqual(await routeWeights(ns.name, "approve"), { primary: 100, canary: 0 });
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
    await eventually("the promote request to be cleared", async () => (/aviary.dev\/promote/.test(await annotations("approve")) ? undefined : true), 10_000);
    hooks.status.delete("/approve");
  });

  it("abort rolls a healthy run back: Failed, routes 100/0, primary on the old image", async () => {
    await release("abortme", { interval: "3s", stepWeight: 20, maxWeight: 80 });
    const weights = recordWeights("abortme");
    await setImage("abortme", "2");
    await eventually("weight 20", async () => ((await routeWeights(ns.name, "abortme"))?.canary === 20 ? true : undefined), 30_000, 100);
    const r = await runCli(["abort", "abortme", "-n", ns.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^abort requested for .*all traffic returns to the primary/);
    const failed = await waitForPhase(ns.name, "abortme", "Failed", 30_000);
    const seen = await weights.stop();
    assert.ok(Math.max(...seen) <= 40, `the run stopped where it was aborted: ${seen.join(" → ")}`);
    assert.equal(failed.status?.failedChecks ?? 0, 0, "no check failed: the abort ended the run");
    assert.match(failed.status?.conditions?.find((c) => c.type === "Promoted")?.message ?? "", /abort/);
    assert.deepEqual(await routeWeights(ns.name, "abortme"), { primary: 100, canary: 0 });
    assert.equal(image(await getDeployment(ns.name, "abortme-primary")), "abortme:1");
    assert.equal((await getDeployment(ns.name, "abortme")).spec.replicas, 0, "the canary is scaled to zero");
    await eventually("the abort request to be cleared", async () => (/aviary.dev\/abort/.test(await annotations("abortme")) ? undefined : true), 10_000);
    // Nothing more happens on its own: the aborted revision is not run again.
    await sleep(3_500);
    assert.equal((await getCanary(ns.name, "abortme")).status?.phase, "Failed");
  });

  it("retry re-runs a failed revision without a new image and promotes it", async () => {
    hooks.status.set("/again", 500);
    await release("again", { stepWeight: 20, maxWeight: 60, webhooks: [{ name: "load", type: "rollout", url: hooks.url("/again") }] });
    await setImage("again", "2");
    await waitForPhase(ns.name, "again", "Failed", 60_000);
    assert.equal(image(await getDeployment(ns.name, "again-primary")), "again:1");
    const templateBefore = await kubectlOk(["get", "deployment", "again", "-n", ns.name, "-o", "jsonpath={.spec.template}"]);
    // A failed revision stays failed until asked: the fixed webhook alone starts nothing.
    hooks.status.delete("/again");
    await sleep(2_500);
    assert.equal((await getCanary(ns.name, "again")).status?.phase, "Failed");

    // Watching first, as a pipeline would: the Failed state it starts on does not end the watch.
    const cli = await watchNextRun("again", /Failed \| canary 0% \| primary 100% \| checks 2\/2$/);
    const r = await runCli(["retry", "again", "-n", ns.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^retry requested for ${ns.name}/again \\(aviary.dev/retry=\\S+\\): revision \\S+ is analysed again from the first step`));
    const result = await cli.exited;
    assert.equal(result.code, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.deepEqual(progressLines(result.stdout.split("\n")).filter((s) => s.phase === "Progressing" && s.canary > 0).map((s) => s.canary), [20, 40, 60], result.stdout);
    assert.equal((await getCanary(ns.name, "again")).status?.phase, "Succeeded");
    assert.equal(image(await getDeployment(ns.name, "again-primary")), "again:2");
    // The same revision ran again: nobody (CLI or controller) rewrote the target's pod template.
    assert.equal(await kubectlOk(["get", "deployment", "again", "-n", ns.name, "-o", "jsonpath={.spec.template}"]), templateBefore, "no new image");
    const reasons = (await events(ns.name, "again")).map((e) => e.reason);
    assert.ok(reasons.includes("Retrying"), `events: ${reasons.join(", ")}`);
  });

  it("pause holds the weight for several intervals; resume lets the run finish", async () => {
    // Small steps, so the run is still under way when the pause (a new CLI process) lands.
    await release("hold", { stepWeight: 10, maxWeight: 90 });
    const weights = recordWeights("hold");
    await setImage("hold", "2");
    await eventually("weight 10", async () => ((await routeWeights(ns.name, "hold"))?.canary === 10 ? true : undefined), 30_000, 50);
    const paused = await runCli(["pause", "hold", "-n", ns.name]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /^paused .*\/hold \(aviary.dev\/paused=true\): the run holds at its current step/);
    // The pause may land just after a step was taken; from the moment the controller says it holds, nothing moves.
    await eventually("the controller to hold the run", async () => {
      const c = await getCanary(ns.name, "hold");
      return /paused by annotation/.test(c.status?.conditions?.find((x) => x.type === "Promoted")?.message ?? "") ? c : undefined;
    }, 10_000, 100);
    const heldAt = await routeWeights(ns.name, "hold");
    const heldPhase = (await getCanary(ns.name, "hold")).status;
    assert.ok(heldAt && heldAt.canary > 0 && heldAt.canary < 90, `held mid-run: ${JSON.stringify(heldAt)}`);
    await sleep(4_500); // more than four 1 s intervals
    assert.deepEqual(await routeWeights(ns.name, "hold"), heldAt, "the weight did not move while paused");
    const still = (await getCanary(ns.name, "hold")).status;
    assert.equal(still?.phase, "Progressing");
    assert.equal(still?.canaryWeight, heldPhase?.canaryWeight);
    const status = await runCli(["status", "hold", "-n", ns.name]);
    assert.match(status.stdout, /^Paused: +yes/m);

    const resumed = await runCli(["resume", "hold", "-n", ns.name]);
    assert.equal(resumed.code, 0, resumed.stderr);
    await waitForPhase(ns.name, "hold", "Succeeded", 60_000);
    const seen = (await weights.stop()).filter((w) => w > 0);
    assert.deepEqual(seen, [10, 20, 30, 40, 50, 60, 70, 80, 90], `weights never go backwards across the pause: ${seen.join(" → ")}`);
    assert.equal(image(await getDeployment(ns.name, "hold-primary")), "hold:2");
  });
});
