/**
 * Chaos at scale: 10 Canaries, 5 releases each with verdicts drawn at random (a healthy
 * version, a failing webhook, a failing metric), while a chaos driver SIGKILLs the leading
 * aviary replica, restarts kube-apiserver and etcd, and deletes generated objects. Then every
 * release must have ended with the verdict its checks dictate, one promotion per passing
 * release and none for a failing one, weights never moving back within a run, no run standing
 * still for longer than its progress deadline, and the Canaries' events telling each release
 * once.
 *
 * AVIARY_CHAOS_SEED replays a run (the seed is printed); AVIARY_CHAOS_LOGS keeps the replicas'
 * logs in that directory.
 */
import { strict as assert } from "node:assert";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { seededRandom } from "../../src/ground/random.ts";
import { apply, canary, deployment, type CanaryObject } from "../support/canary-fixtures.ts";
import { kubectl, kubectlJson } from "../support/kubectl.ts";
import { sleep, waitFor } from "../support/peers.ts";
import { startChaosDriver, CHAOS_KINDS, type ChaosDriver } from "./driver.ts";
import { startChaosEnvironment, type ChaosEnvironment } from "./environment.ts";
import { startObserver, type Observations, type Sample } from "./observer.ts";

const APPS = 10;
const RELEASES_PER_APP = 5;
const PROGRESS_DEADLINE_SECONDS = 120;

type Verdict = "pass" | "failing-webhook" | "failing-metric";

interface Release {
  app: string;
  n: number;
  verdict: Verdict;
  image: string;
  startedAt: number;
  endedAt?: number;
  phase?: string;
  reason?: string;
}

const imageOf = (app: string, n: number) => `registry.local/chaos/${app}:v${n}`;
const expectedPhase = (v: Verdict) => (v === "pass" ? "Succeeded" : "Failed");

/** A kubectl call that the chaos may refuse for a while (API server restarting). */
async function persistently(args: string[]): Promise<string> {
  return waitFor(`kubectl ${args.join(" ")}`, 120_000, async () => {
    const r = await kubectl(args);
    return r.code === 0 ? r.stdout : undefined;
  });
}

async function readCanary(ns: string, app: string): Promise<CanaryObject | undefined> {
  return kubectlJson<CanaryObject>(["get", "canaries.aviary.dev", app, "-n", ns]).catch(() => undefined);
}

function canaryFor(env: ChaosEnvironment, app: string): Record<string, unknown> {
  const c = canary(app, {
    analysis: {
      interval: "3s",
      threshold: 2,
      stepWeight: 20,
      maxWeight: 60,
      metrics: [{ name: "health", templateRef: { name: "chaos-health" }, thresholdRange: { min: 1 }, interval: "30s" }],
      webhooks: [{ name: "gate", type: "rollout", url: env.hooks.url(`/gate/${app}`) }],
    },
  });
  (c.spec as Record<string, unknown>).progressDeadlineSeconds = PROGRESS_DEADLINE_SECONDS;
  return c;
}

/** Weights in a run's window, less the final return to 0 (promotion or rollback), must not fall. */
function fallsBack(samples: Sample<number>[], from: number, to: number): number[] | undefined {
  const inRun = samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.value);
  while (inRun.length > 0 && inRun[inRun.length - 1] === 0) inRun.pop();
  for (let i = 1; i < inRun.length; i++) if ((inRun[i] as number) < (inRun[i - 1] as number)) return inRun;
  return undefined;
}

/** The longest time within [from, to] in which the Canary's phase and weight did not change. */
function longestStall(samples: Sample<unknown>[], from: number, to: number): number {
  const times = [from, ...samples.map((s) => s.at).filter((t) => t > from && t < to), to];
  return Math.max(...times.slice(1).map((t, i) => t - (times[i] as number)));
}

async function runRelease(env: ChaosEnvironment, r: Release): Promise<void> {
  if (r.verdict === "failing-webhook") env.hooks.status.set(`/gate/${r.app}`, 500);
  if (r.verdict === "failing-metric") await env.setHealthy(r.app, false);
  const before = (await waitFor(`the Canary ${r.app}`, 120_000, () => readCanary(env.namespace, r.app))).status?.lastAppliedSpec;
  r.startedAt = Date.now();
  await persistently(["-n", env.namespace, "set", "image", `deployment/${r.app}`, `app=${r.image}`]);
  const deadline = r.startedAt + PROGRESS_DEADLINE_SECONDS * 1000 + 120_000;
  for (;;) {
    const c = await readCanary(env.namespace, r.app);
    const phase = c?.status?.phase;
    if (c && c.status?.lastAppliedSpec !== before && (phase === "Succeeded" || phase === "Failed")) {
      r.endedAt = Date.now();
      r.phase = phase;
      r.reason = c.status?.conditions?.find((x) => x.type === "Promoted")?.message;
      break;
    }
    if (Date.now() > deadline) {
      r.phase = `stuck in ${phase ?? "?"}`;
      break;
    }
    await sleep(500);
  }
  env.hooks.status.delete(`/gate/${r.app}`);
  await env.setHealthy(r.app, true);
}

interface EventItem { reason: string; message: string; count?: number; involvedObject: { name: string } }

describe("chaos: releases while aviary, the API server and etcd die and generated objects vanish", function () {
  let env: ChaosEnvironment;
  let observed: Observations | undefined;
  let driver: ChaosDriver | undefined;
  const seed = Number(process.env.AVIARY_CHAOS_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const apps = Array.from({ length: APPS }, (_, i) => `app-${i}`);

  before(async function () {
    env = await startChaosEnvironment();
    await apply(env.namespace, {
      apiVersion: "aviary.dev/v1beta1", kind: "MetricTemplate", metadata: { name: "chaos-health" },
      spec: { provider: { type: "prometheus", address: env.prometheus.url }, query: 'min(chaos_health{app="{{ target }}"})' },
    });
    for (const app of apps) {
      await env.setHealthy(app, true);
      await apply(env.namespace, deployment(app, imageOf(app, 0), { replicas: 1 }));
      await apply(env.namespace, canaryFor(env, app));
    }
    for (const app of apps) {
      await waitFor(`${app} Initialized`, 180_000, async () => ((await readCanary(env.namespace, app))?.status?.phase === "Initialized" ? true : undefined));
    }
    observed = await startObserver(env.namespace);
  });

  after(async () => {
    await driver?.stop();
    await observed?.stop();
    await env?.stop();
  });

  it("ends every release with the verdict its checks dictate and loses nothing", async () => {
    console.log(`    seed ${seed} (AVIARY_CHAOS_SEED=${seed} replays it); replica logs in ${env.logDir}`);
    const verdicts: Verdict[] = ["pass", "pass", "failing-webhook", "failing-metric"];
    const plan: Release[][] = apps.map((app) =>
      Array.from({ length: RELEASES_PER_APP }, (_, k) => ({ app, n: k + 1, verdict: verdicts[Math.floor(random() * verdicts.length)] as Verdict, image: imageOf(app, k + 1), startedAt: 0 })),
    );
    driver = startChaosDriver({ env, apps, random, pauseMs: [4_000, 10_000] });
    await Promise.all(
      plan.map(async (releases, i) => {
        await sleep(i * 700);
        for (const r of releases) {
          await runRelease(env, r);
          await sleep(500 + random() * 1500);
        }
      }),
    );
    await driver.stop();
    const obs = observed as Observations;

    const releases = plan.flat();
    const problems: string[] = [];
    // A run that met too little chaos proves little.
    for (const kind of CHAOS_KINDS) {
      const done = driver.actions.filter((a) => a.kind === kind && a.error === undefined).length;
      if (done < 2) problems.push(`chaos: ${kind} happened ${done} times during the releases, expected at least 2`);
    }
    for (const r of releases) {
      const label = `${r.app} v${r.n} (${r.verdict})`;
      if (r.phase !== expectedPhase(r.verdict)) problems.push(`${label}: ended ${r.phase ?? "?"}, expected ${expectedPhase(r.verdict)} (${r.reason ?? "no reason"})`);
      const promotions = (obs.primaryImages.get(r.app) ?? []).filter((s) => s.value === r.image).length;
      const want = r.verdict === "pass" ? 1 : 0;
      if (promotions !== want) problems.push(`${label}: the primary took the release's image ${promotions} times, expected ${want}`);
      const stalled = longestStall(obs.canaries.get(r.app) ?? [], r.startedAt, r.endedAt ?? Date.now());
      if (stalled > PROGRESS_DEADLINE_SECONDS * 1000) problems.push(`${label}: made no progress for ${Math.round(stalled / 1000)} s, longer than its progress deadline`);
      const back = fallsBack(obs.routeWeights.get(r.app) ?? [], r.startedAt, r.endedAt ?? Date.now());
      if (back) problems.push(`${label}: the route's canary weight went back within the run: ${back.join(" → ")}`);
      const statusWeights = (obs.canaries.get(r.app) ?? []).filter((s) => s.value.phase === "Progressing").map((s) => ({ at: s.at, value: s.value.weight }));
      const statusBack = fallsBack(statusWeights, r.startedAt, r.endedAt ?? Date.now());
      if (statusBack) problems.push(`${label}: the status weight went back within the run: ${statusBack.join(" → ")}`);
    }

    // The story, once: one NewRevision per release, one Promoted per passing release, one
    // RolledBack per failing one, each event written once (count 1).
    const events = JSON.parse(await persistently(["-n", env.namespace, "get", "events", "-o", "json"])) as { items: EventItem[] };
    const tally = new Map<string, number>();
    for (const e of events.items) {
      if (!["NewRevision", "Promoted", "RolledBack"].includes(e.reason)) continue;
      const key = `${e.involvedObject.name}/${e.reason}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if ((e.count ?? 1) > 1) problems.push(`${e.involvedObject.name}: event ${e.reason} "${e.message}" was written ${e.count} times`);
    }
    for (const app of apps) {
      const mine = releases.filter((r) => r.app === app);
      const passes = mine.filter((r) => r.verdict === "pass").length;
      const expected: [string, number][] = [["NewRevision", mine.length], ["Promoted", passes], ["RolledBack", mine.length - passes]];
      for (const [reason, n] of expected) {
        const got = tally.get(`${app}/${reason}`) ?? 0;
        if (got !== n) problems.push(`${app}: ${got} ${reason} events, expected ${n}`);
      }
    }

    const summary = summarize(releases, driver, env);
    console.log(summary);
    await writeFile(path.join(env.logDir, "summary.txt"), `${summary}\n${problems.join("\n")}\n`);
    assert.deepEqual(problems, [], `chaos seed ${seed}: ${problems.length} problems (replica logs in ${env.logDir})`);
  });
});

function summarize(releases: Release[], driver: ChaosDriver, env: ChaosEnvironment): string {
  const lines: string[] = [];
  const seconds = (r: Release) => (r.endedAt === undefined ? NaN : (r.endedAt - r.startedAt) / 1000);
  const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  lines.push(row(["verdict drawn", "releases", "ended as dictated", "promotions", "release length (median / max)"]));
  lines.push(row(["---", "---:", "---:", "---:", "---:"]));
  for (const v of ["pass", "failing-webhook", "failing-metric"] as Verdict[]) {
    const rs = releases.filter((r) => r.verdict === v);
    const lengths = rs.map(seconds).filter((s) => !Number.isNaN(s)).sort((a, b) => a - b);
    const median = lengths[Math.floor(lengths.length / 2)] ?? NaN;
    const promoted = rs.filter((r) => r.phase === "Succeeded").length;
    lines.push(row([v, rs.length, rs.filter((r) => r.phase === expectedPhase(v)).length, promoted, `${median.toFixed(0)} s / ${(lengths[lengths.length - 1] ?? NaN).toFixed(0)} s`]));
  }
  lines.push("");
  lines.push(row(["chaos", "times", "failed to act"]));
  lines.push(row(["---", "---:", "---:"]));
  for (const kind of CHAOS_KINDS) {
    const done = driver.actions.filter((a) => a.kind === kind);
    lines.push(row([kind, done.length, done.filter((a) => a.error).length]));
  }
  lines.push("");
  lines.push(`replica restarts: ${env.replicas.map((r) => `${r.identity} ${r.restarts}`).join(", ")}`);
  return lines.join("\n");
}
