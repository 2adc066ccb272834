/**
 * How aviary holds many Canaries: for each N, the time to initialize all of them against
 * the control plane's own floor, memory (peak and after an idle window), CPU to initialize
 * and per idle minute, the API requests it makes while idle, and how fast it sees a new
 * revision while 50 releases run. With --flagger, Flagger (built from its Go module by
 * hack/build-flagger.sh) runs the same workload on the same cluster, one controller at a
 * time, and the ratios are printed. Measures; does not assert.
 *
 *   npm run bench -- scale [--n 10,100,1000] [--flagger] [--noise] [--init-floor] [--idle 300]
 *                          [--releases 50] [--probes 20] [--interval 15s] [--iterations 3]
 *
 * The idle window defaults to 300 s, aviary's resync period: every window holds exactly one
 * resync, so idle CPU is the average cost of holding N Canaries, not the luck of whether a
 * resync fell inside. --init-floor also measures, once per N, what the control plane needs
 * for the work initialization makes it do (N copies Ready while N targets scale to zero).
 *
 * aviary runs from dist/ (built first), as its image does. Needs the local control plane
 * (`bash hack/cluster up`; for N = 1000, `AVIARY_KWOK_NODES=22`: its fake nodes hold 110 pods
 * each and every target and primary runs one) or KUBECONFIG. Every run uses a
 * namespace `scale-bench-<run>-<controller>-<N>` and deletes it afterwards.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseAllDocuments } from "yaml";
import { createKubeClient } from "../../src/kube/client.ts";
import { loadKubeConfig } from "../../src/kube/config.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { aviary, flagger } from "./scale/controllers.ts";
import type { ControllerKind } from "./scale/controllers.ts";
import { runOne } from "./scale/run.ts";
import type { RunResult } from "./scale/run.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    n: { type: "string", default: "10,100,1000" },
    flagger: { type: "boolean", default: false },
    noise: { type: "boolean", default: false },
    "init-floor": { type: "boolean", default: false },
    idle: { type: "string", default: "300" },
    releases: { type: "string", default: "50" },
    probes: { type: "string", default: "20" },
    interval: { type: "string", default: "15s" },
    iterations: { type: "string", default: "3" },
  },
});

const log = createLogger({ level: "info" });
const kubeconfig = process.env.KUBECONFIG ?? execFileSync("bash", [`${ROOT}/hack/cluster`, "env"], { encoding: "utf8" }).match(/KUBECONFIG="?([^"\n]+)"?/)?.[1];
if (!kubeconfig) throw new Error("no cluster: run `bash hack/cluster up` or set KUBECONFIG");
const client = createKubeClient(loadKubeConfig(kubeconfig), { userAgent: "aviary-bench" });

async function applyCrds(files: string[]): Promise<void> {
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const obj = doc.toJSON() as KubeObject | null;
      if (obj?.kind === "CustomResourceDefinition") await client.apply(obj, { force: true });
    }
  }
}

// aviary runs as its image does, from the compiled JavaScript (no type stripping at start-up).
execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
const controllers: ControllerKind[] = [aviary];
await applyCrds(["canaries.yaml", "metrictemplates.yaml", "alertproviders.yaml"].map((f) => `${ROOT}/manifests/crds/${f}`));
if (values.flagger) {
  const dir = execFileSync("bash", [`${ROOT}/hack/build-flagger.sh`], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
  // kubectl reads Flagger's manifest exactly as its docs apply it (folded descriptions and all).
  execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", `${dir}/crd.yaml`], { stdio: ["ignore", "ignore", "inherit"] });
  controllers.push(flagger(`${dir}/flagger`));
}
await new Promise((r) => setTimeout(r, 2000)); // new CRDs become served

// While initializing, every target and its primary run a pod; the releases add a canary each.
// The local control plane's fake nodes hold 110 pods each: check before waiting on pods that
// could never be scheduled.
interface NodeCapacity extends KubeObject {
  spec?: { unschedulable?: boolean };
  status?: { allocatable?: { pods?: string } };
}
const podCapacity = (await client.list<NodeCapacity>("v1", "Node", undefined))
  .filter((node) => node.spec?.unschedulable !== true)
  .reduce((sum, node) => sum + Number(node.status?.allocatable?.pods ?? 0), 0);
for (const n of values.n.split(",").map(Number)) {
  const needed = 2 * n + Math.min(Number(values.releases), Math.floor(n / 2));
  if (needed > podCapacity) {
    throw new Error(`N=${n} needs room for ${needed} pods; the cluster's nodes hold ${podCapacity}. Start the local control plane with more fake nodes: AVIARY_KWOK_NODES=${Math.ceil(needed / 110) + 1} bash hack/cluster up`);
  }
}

const runId = Date.now().toString(36).slice(-5);
const results: RunResult[] = [];
for (const n of values.n.split(",").map(Number)) {
  for (const kind of controllers) {
    log.info(`== ${kind.name} N=${n} (load ${loadavg()[0]!.toFixed(2)})`);
    results.push(await runOne(client, log, kind, {
      n, runId, kubeconfig,
      idleSeconds: Number(values.idle),
      releases: Number(values.releases),
      probes: Number(values.probes),
      shape: { interval: values.interval, iterations: Number(values.iterations) },
      noise: values.noise ? { deployments: 2000, secrets: 5000, secretKiB: 100 } : undefined,
      // The control plane's, not the controller's: once per N.
      initFloor: values["init-floor"] && kind === controllers[0],
    }));
  }
}
await client.close();

const fmt = (v: number | null, digits = 1) => (v === null || Number.isNaN(v) ? "n/a" : v.toFixed(digits));
const initFloor = (n: number) => results.find((r) => r.n === n && r.initFloorSeconds !== null)?.initFloorSeconds ?? null;
const rows: [string, (r: RunResult) => string][] = [
  ["floor: N Deployments Ready (s)", (r) => fmt(r.floorSeconds)],
  ["initialization floor (s)", (r) => fmt(initFloor(r.n))],
  ["all Initialized (s)", (r) => fmt(r.initSeconds)],
  ["  ÷ floor", (r) => fmt(r.initSeconds / r.floorSeconds, 2)],
  ["  ÷ initialization floor", (r) => { const f = initFloor(r.n); return f === null ? "n/a" : fmt(r.initSeconds / f, 2); }],
  ["  all primaries created (s)", (r) => fmt(r.primariesCreatedSeconds)],
  ["  all primaries Ready (s)", (r) => fmt(r.primariesReadySeconds)],
  ["CPU to initialize (s)", (r) => fmt(r.initCpuSeconds)],
  ["RSS peak (MiB)", (r) => fmt(r.peakRssMiB, 0)],
  ["RSS after idle (MiB)", (r) => fmt(r.idleRssMiB, 0)],
  ["idle CPU (s per min)", (r) => fmt(r.idleCpuPerMinute, 2)],
  ["idle API requests per min", (r) => fmt(r.idleRequestsPerMinute, 0)],
  ["idle reconciles per min", (r) => fmt(r.idleReconcilesPerMinute, 0)],
  ["releases: succeeded / started", (r) => `${r.releasesSucceeded} / ${r.releases + r.probes}`],
  ["concurrent releases: run length (s)", (r) => `${fmt(r.releaseRunSeconds)} (${r.releases})`],
  ["detection p50 (ms)", (r) => `${fmt(r.detectP50Ms, 0)} (${r.probesDetected}/${r.probes})`],
  ["detection p99 (ms)", (r) => fmt(r.detectP99Ms, 0)],
  ["rate-limit waits over 1 s / total (s)", (r) => `${fmt(r.rateLimitStalls, 0)} / ${fmt(r.rateLimitWaitSeconds)}`],
];
const numeric: (keyof RunResult)[] = ["initSeconds", "initCpuSeconds", "peakRssMiB", "idleRssMiB", "idleCpuPerMinute", "detectP99Ms"];
const out: string[] = [];
out.push(`machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; interval ${values.interval}, ${values.iterations} iterations${values.noise ? "; with noise (2000 Deployments, 5000 Secrets of 100 KiB)" : ""}`);
for (const n of [...new Set(results.map((r) => r.n))]) {
  const cols = results.filter((r) => r.n === n);
  out.push("", `N = ${n}`.padEnd(38) + cols.map((c) => c.controller.padStart(16)).join(""));
  for (const [label, cell] of rows) out.push(label.padEnd(38) + cols.map((c) => cell(c).padStart(16)).join(""));
  const a = cols.find((c) => c.controller === "aviary");
  const f = cols.find((c) => c.controller === "flagger");
  if (a && f) out.push("aviary ÷ flagger: " + numeric.map((k) => `${k} ${fmt((a[k] as number) / (f[k] as number), 2)}`).join(", "));
}
process.stdout.write(out.join("\n") + "\n\n" + JSON.stringify({ scale: results }, null, 2) + "\n");
