#!/usr/bin/env node
/**
 * The demo runner behind `npm run demo` (hack/demo.sh brings the control plane up first and
 * puts its kubeconfig and kubectl in the environment). It installs aviary's CRDs, starts
 * Prometheus, aviary and the simulated mesh, deploys the demo application with a Canary,
 * and ships two releases with kubectl: a healthy one that aviary promotes step by step and
 * a bad one it rolls back, printing a line each time the Canary changes. Then (unless
 * --no-judge) the Canary is switched to the judge for two more: a good release during a
 * shared incident, promoted, and a subtle regression, rolled back (demo/runner/judge-scenario.ts).
 */
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Canary } from "../src/api/types.ts";
import { createKubeClient } from "../src/kube/client.ts";
import { loadKubeConfig } from "../src/kube/config.ts";
import { isSettled } from "../src/cli/progress.ts";
import { createLogger } from "../src/observability/logger.ts";
import type { KubeObject } from "../src/kube/types.ts";
import type { Logger } from "../src/observability/logger.ts";
import { createRouterRegistry } from "../src/router/registry.ts";
import { startSimulatedMesh } from "./mesh.ts";
import type { SimulatedMesh } from "./mesh.ts";
import { appCanary, appDeployment, DEMO_CONTAINER, imageFor } from "./manifests.ts";
import { imageOf } from "./mesh/roles.ts";
import type { DeploymentView } from "./mesh/roles.ts";
import { createTimeline } from "./timeline.ts";
import type { Timeline } from "./timeline.ts";
import { followCanary } from "./runner/follow.ts";
import { kubectl, shellLine } from "./runner/kubectl.ts";
import { resetNamespace } from "./runner/namespace.ts";
import { describeOutcome, whereToLook } from "./runner/report.ts";
import type { ReleaseOutcome } from "./runner/report.ts";
import { startDemoDashboard } from "./runner/dashboard.ts";
import type { RunningDashboard } from "../src/dashboard/run.ts";
import { ensurePrometheus, freePort, ROOT, startAviaryProcess, WEBHOOK_CONFIGURATIONS } from "./runner/services.ts";
import type { AviaryChild } from "./runner/services.ts";
import { applyJudgedCanary, JUDGE_RELEASES, judgedCanary, startIncident } from "./runner/judge-scenario.ts";

const APP = "storefront";
const RELEASES = [
  { version: "2.0.0", expect: "Succeeded", story: "a good release: 2.0.0 is healthy" },
  { version: "3.0.0-bad", expect: "Failed", story: "a bad release: 3.0.0-bad answers 20% of requests with 500 and takes 200-800 ms" },
] as const;

interface Args {
  stateDir: string;
  namespace: string;
  interval: string;
  prometheusPort: number;
  stay: boolean;
  /** Run aviary's admission webhook too (AVIARY_DEMO_WEBHOOK=0 turns it off). */
  webhook: boolean;
  /** Ship the judge's releases too (AVIARY_DEMO_JUDGE=0 turns them off). */
  judge: boolean;
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      "state-dir": { type: "string" },
      namespace: { type: "string" },
      interval: { type: "string" },
      "prometheus-port": { type: "string" },
      stay: { type: "boolean" },
      "no-webhook": { type: "boolean" },
      "no-judge": { type: "boolean" },
      down: { type: "boolean" },
    },
  });
  const stateDir = values["state-dir"] ?? env.AVIARY_DEMO_DIR;
  if (!stateDir) throw new Error("--state-dir is required (hack/demo.sh passes it)");
  return {
    stateDir,
    namespace: values.namespace ?? env.AVIARY_DEMO_NAMESPACE ?? "aviary-demo",
    interval: values.interval ?? env.AVIARY_DEMO_INTERVAL ?? "5s",
    prometheusPort: Number(values["prometheus-port"] ?? env.AVIARY_DEMO_PROMETHEUS_PORT ?? 19090),
    stay: values.stay ?? env.AVIARY_DEMO_STAY === "1",
    webhook: !(values["no-webhook"] ?? env.AVIARY_DEMO_WEBHOOK === "0"),
    judge: !(values["no-judge"] ?? env.AVIARY_DEMO_JUDGE === "0"),
  };
}

const out = (line = "") => process.stdout.write(line + "\n");
const step = (what: string) => out(`==> ${what}`);

interface Session {
  args: Args;
  client: ReturnType<typeof createKubeClient>;
  timeline: Timeline;
  signal: AbortSignal;
  aviary?: AviaryChild;
  mesh?: SimulatedMesh;
  prometheus?: string;
  dashboard?: RunningDashboard;
}

async function setUp(s: Session, logger: Logger, meshLogFile: string): Promise<void> {
  const ns = s.args.namespace;
  const targetDir = path.join(s.args.stateDir, "targets");
  step("installing aviary's CRDs");
  const crds = ["apply", "--server-side", "--force-conflicts", "-k", path.join(ROOT, "manifests/crds")];
  out(shellLine(crds));
  await kubectl(crds);
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/canaries.aviary.dev", "crd/metrictemplates.aviary.dev", "crd/alertproviders.aviary.dev"]);

  step("Prometheus (scrapes the simulated mesh every second)");
  const prometheus = await ensurePrometheus(s.args.stateDir, targetDir, s.args.prometheusPort);
  s.prometheus = prometheus.url;
  out(`    ${prometheus.reused ? "reusing" : "started"} Prometheus on ${prometheus.url}`);

  const roles = s.args.webhook ? "controller and admission webhook" : "controller only";
  step(`starting aviary (${roles}) as a local process, reconciling namespace ${ns}`);
  const webhook = s.args.webhook ? { port: await freePort(), certDir: path.join(s.args.stateDir, "certs") } : undefined;
  s.aviary = await startAviaryProcess({ logFile: path.join(s.args.stateDir, "aviary.log"), namespace: ns, metricsServer: prometheus.url, ...(webhook ? { webhook } : {}) });
  out(`    aviary pid ${s.aviary.pid}, log ${s.aviary.logFile}, metrics http://${s.aviary.opsAddress}/metrics`);
  if (s.aviary.webhookUrl) out(`    webhook ${s.aviary.webhookUrl}, registered as ${WEBHOOK_CONFIGURATIONS.join(" and ")} until the demo ends`);

  s.dashboard = await startDemoDashboard(s.client, ns, logger, Number(process.env.AVIARY_DEMO_DASHBOARD_PORT ?? 8080));
  out(`    dashboard: ${s.dashboard.url}#/${ns}/${APP}   (live: traffic, checks, events; open it now)`);

  step(`namespace ${ns}`);
  await resetNamespace(s.client, ns, out, s.signal);

  step("starting the simulated mesh (it plays the data plane: pods on kwok nodes serve no traffic)");
  const targetFile = path.join(targetDir, `${APP}.json`);
  await rm(targetFile, { force: true });
  const routers = createRouterRegistry({ kube: s.client, logger });
  s.mesh = await startSimulatedMesh({ client: s.client, routers, logger, namespace: ns, canary: APP, targetFile });
  out(`    50 req/s split by the weights read back from the HTTPRoute; log ${meshLogFile}`);

  step(`deploying ${APP} 1.0.0 with a Canary: gatewayapi, interval ${s.args.interval}, threshold 3, stepWeight 20, maxWeight 60,`);
  out(`    request-success-rate >= 99% and request-duration (p99) <= 500ms, each over the last ${s.args.interval}`);
  const manifests = [
    appDeployment(APP, ns, imageFor("1.0.0")),
    appCanary(APP, ns, { interval: s.args.interval, threshold: 3, stepWeight: 20, maxWeight: 60, metricInterval: s.args.interval, successMin: 99, durationMaxMs: 500 }),
  ];
  out(shellLine(["apply", "-f", `${APP}.yaml`]));
  await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }) });
  await followCanary({
    kube: s.client, namespace: ns, name: APP, timeline: s.timeline, write: out, signal: s.signal,
    until: (c) => c.status?.phase === "Initialized", waitingFor: "Initialized", timeoutMs: 180_000,
  });
}

async function ship(s: Session, mesh: SimulatedMesh, release: { version: string; expect: "Succeeded" | "Failed"; story: string }): Promise<ReleaseOutcome> {
  const ns = s.args.namespace;
  out("");
  step(release.story);
  const setImage = ["-n", ns, "set", "image", `deployment/${APP}`, `${DEMO_CONTAINER}=${imageFor(release.version)}`];
  out(shellLine(setImage));
  const started = Date.now();
  const meshBefore = mesh.stats();
  await kubectl(setImage);
  const done: Canary = await followCanary({
    kube: s.client, namespace: ns, name: APP, timeline: s.timeline, write: out, signal: s.signal,
    until: (c, sawActive) => sawActive && isSettled(c.status?.phase),
    waitingFor: release.expect === "Succeeded" ? "the promotion" : "the rollback", timeoutMs: 300_000,
  });
  const primary = await s.client.get<DeploymentView & KubeObject>(
    { apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: `${APP}-primary` }, { signal: AbortSignal.timeout(10_000) });
  const outcome: ReleaseOutcome = {
    version: release.version, expected: release.expect, canary: done, seconds: Math.round((Date.now() - started) / 1000),
    primaryImage: imageOf(primary ?? undefined) ?? "(none)", meshBefore, meshAfter: mesh.stats(),
  };
  for (const line of describeOutcome(outcome)) out(line);
  return outcome;
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2), process.env);
  const started = Date.now();
  await mkdir(args.stateDir, { recursive: true });
  const meshLogFile = path.join(args.stateDir, "mesh.log");
  const meshLog = createWriteStream(meshLogFile, { flags: "w" });
  const logger = createLogger({ level: "info", write: (line) => meshLog.write(line + "\n") });
  // The demo app processes the mesh starts inherit it: while the file exists, both versions
  // serve as during a shared incident (demo/behaviour.ts).
  const incidentFile = path.join(args.stateDir, "incident");
  await rm(incidentFile, { force: true });
  process.env.DEMO_INCIDENT_FILE = incidentFile;
  const stopping = new AbortController();
  const s: Session = { args, client: createKubeClient(loadKubeConfig(), { userAgent: "aviary-demo" }), timeline: createTimeline(), signal: stopping.signal };
  const cleanup = async () => {
    await s.mesh?.stop().catch(() => undefined);
    await s.dashboard?.stop().catch(() => undefined);
    await s.aviary?.stop().catch(() => undefined);
    // A registered webhook with nobody behind it would refuse every Canary (failurePolicy Fail).
    if (s.aviary?.webhookUrl) await kubectl(["delete", ...WEBHOOK_CONFIGURATIONS, "--ignore-not-found"]).catch(() => undefined);
    await s.client.close();
    meshLog.end();
  };
  let cleaning: Promise<void> | undefined;
  const interrupt = () => {
    out("\ninterrupted: stopping aviary and the simulated mesh (the cluster keeps running)");
    stopping.abort();
    cleaning ??= cleanup();
    void cleaning.then(() => process.exit(130));
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  try {
    await setUp(s, logger, meshLogFile);
    const outcomes: ReleaseOutcome[] = [];
    for (const release of RELEASES) outcomes.push(await ship(s, s.mesh!, release));
    if (args.judge) {
      out("");
      step("switching the Canary to the judge: request-success-rate compared with the primary (compare), stepWeight 10, maxWeight 90");
      // The CRDs again: on a cluster shared with other installs of aviary, an older schema may
      // have been applied since, and it would drop `compare`.
      await kubectl(["apply", "--server-side", "--force-conflicts", "-k", path.join(ROOT, "manifests/crds")]);
      const judged = JSON.stringify(judgedCanary(APP, args.namespace, args.interval));
      await applyJudgedCanary(() => kubectl(["apply", "-f", "-"], { input: judged }), s.signal);
      for (const release of JUDGE_RELEASES) {
        const incident = release.incidentMs > 0 ? await startIncident(incidentFile, release.incidentMs) : undefined;
        try {
          outcomes.push(await ship(s, s.mesh!, release));
        } finally {
          await incident?.stop();
        }
      }
    }

    out("");
    const ok = outcomes.every((o) => o.canary.status?.phase === o.expected);
    const look = { namespace: args.namespace, name: APP, aviaryLog: s.aviary!.logFile, meshLog: meshLogFile, prometheus: s.prometheus!, kubeconfig: process.env.KUBECONFIG ?? "" };
    for (const line of whereToLook(look)) out(line);
    out(`  the dashboard:               ${s.dashboard!.url}#/${args.namespace}/${APP}${args.stay ? "" : "   (until the demo ends; --stay keeps it, or: node src/cli/main.ts dashboard -n " + args.namespace + ")"}`);
    out("");
    out(`demo ${ok ? "finished" : "FAILED"} in ${Math.round((Date.now() - started) / 1000)}s${ok ? "" : ": a release did not end as expected (see above)"}`);
    if (args.stay && ok) {
      out("");
      out("aviary and the simulated mesh keep running (--stay); the timeline goes on. Ship your own release, e.g.");
      out(`  kubectl -n ${args.namespace} set image deployment/${APP} ${DEMO_CONTAINER}=${imageFor("4.0.0-errors")}   (or -slow, -bad, any healthy x.y.z)`);
      out("Ctrl-C stops them.");
      await followCanary({
        kube: s.client, namespace: args.namespace, name: APP, timeline: s.timeline, write: out, signal: stopping.signal,
        until: () => false, waitingFor: "your next release", timeoutMs: Number.POSITIVE_INFINITY, heartbeatMs: Number.POSITIVE_INFINITY,
      }).catch(() => undefined);
    }
    return stopping.signal.aborted ? 130 : ok ? 0 : 1;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    cleaning ??= cleanup();
    await cleaning;
  }
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
