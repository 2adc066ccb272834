/**
 * One measurement: one controller, N Canaries, in a namespace of its own that is deleted
 * afterwards. The phases, in order: the control-plane floor (N target Deployments created
 * and Ready), when asked the floor of initialization's own work (N copies created and Ready
 * while the N targets scale to zero, then undone), initialization of N Canaries, an idle
 * window, then concurrent releases with detection probes among them.
 */
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { Logger } from "../../../src/observability/logger.ts";
import { canaryManifest } from "./controllers.ts";
import type { ControllerKind, ReleaseShape } from "./controllers.ts";
import { watchProcess } from "./proc.ts";
import { assertPodCapacity, createNamespace, createNoise, deleteNamespace, deploymentManifest, inParallel, names, setImage, watchCollection } from "./workload.ts";

export interface RunOptions {
  n: number;
  runId: string;
  kubeconfig: string;
  idleSeconds: number;
  releases: number;
  probes: number;
  shape: ReleaseShape;
  noise: { deployments: number; secrets: number; secretKiB: number } | undefined;
  /** Measure the initialization floor too (it is the control plane's, the same for every controller). */
  initFloor: boolean;
}

export interface RunResult {
  controller: string;
  n: number;
  floorSeconds: number;
  /**
   * The control plane's time for the work initializing N Canaries makes it do, without any
   * controller: N copies of the targets created and Ready while the N targets scale to zero.
   * Null when not measured in this run.
   */
  initFloorSeconds: number | null;
  initSeconds: number;
  /** Where initialization went: all N primaries created (the controller's part), then all Ready (the control plane's). */
  primariesCreatedSeconds: number;
  primariesReadySeconds: number;
  initCpuSeconds: number;
  peakRssMiB: number;
  idleRssMiB: number;
  idleCpuPerMinute: number;
  idleRequestsPerMinute: number | null;
  idleReconcilesPerMinute: number | null;
  /** Requests that waited over 1 s for the client-side rate limit over the whole run, and the seconds all waited. */
  rateLimitStalls: number | null;
  rateLimitWaitSeconds: number | null;
  releases: number;
  /** Releases (and probes) that reached Succeeded within the bench's limit; the run length needs all of them. */
  releasesSucceeded: number;
  releaseRunSeconds: number;
  probes: number;
  /** Probes whose change the controller picked up within the limit; the percentiles are over these. */
  probesDetected: number;
  detectP50Ms: number;
  detectP99Ms: number;
}

const IDLE = new Set(["Initialized", "Succeeded", "Failed", ""]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runOne(client: ClusterClient, log: Logger, kind: ControllerKind, opts: RunOptions): Promise<RunResult> {
  const ns = `scale-bench-${opts.runId}-${kind.name}-${opts.n}`;
  const all = names(opts.n);
  await assertPodCapacity(client, 2 * opts.n);
  await createNamespace(client, ns);
  const deployments = watchCollection(client, log, ns, "apps/v1", "Deployment");
  // Per Canary: the phases it went through, with times, so detection and run ends can be read back.
  const phases = new Map<string, { phase: string; at: number }[]>();
  const canaries = watchCollection(client, log, ns, kind.apiVersion, "Canary", (o, at) => {
    const list = phases.get(o.metadata.name) ?? [];
    if (list.at(-1)?.phase !== o.phase) list.push({ phase: o.phase, at });
    phases.set(o.metadata.name, list);
  });
  let controller: Awaited<ReturnType<ControllerKind["start"]>> | undefined;
  try {
    if (opts.noise) {
      log.info(`creating noise: ${opts.noise.deployments} Deployments, ${opts.noise.secrets} Secrets of ${opts.noise.secretKiB} KiB`);
      await createNoise(client, ns, opts.noise.deployments, opts.noise.secrets, opts.noise.secretKiB);
    }
    // The floor: what the control plane needs to create N Deployments and make them Ready.
    const t0 = Date.now();
    await inParallel(all, 16, async (name) => void (await client.create(deploymentManifest(ns, name))));
    const targetsReady = await deployments.until(`${opts.n} Deployments Ready`, (ds) => ds.filter((d) => all.includes(d.metadata.name) && d.ready >= 1).length === opts.n, 600_000);
    const floorSeconds = (targetsReady - t0) / 1000;
    log.info(`${kind.name} N=${opts.n}: floor ${floorSeconds.toFixed(1)} s`);
    const initFloorSeconds = opts.initFloor ? await measureInitFloor(client, log, ns, all, deployments) : null;

    controller = await kind.start(opts.kubeconfig, ns);
    const proc = watchProcess(controller.pid);
    await sleep(2000); // its informers list and sync
    const cpu0 = proc.now()!.cpuSeconds;
    const t1 = Date.now();
    const isPrimary = (d: { metadata: { name: string } }) => d.metadata.name.endsWith("-primary");
    const primariesCreated = deployments.until(`${opts.n} primaries created`, (ds) => ds.filter(isPrimary).length === opts.n, 900_000);
    const primariesReady = deployments.until(`${opts.n} primaries Ready`, (ds) => ds.filter((d) => isPrimary(d) && d.ready >= 1).length === opts.n, 900_000);
    primariesCreated.catch(() => {});
    primariesReady.catch(() => {});
    await inParallel(all, 16, async (name) => {
      const manifest = canaryManifest(kind, name, opts.shape) as unknown as KubeObject;
      await client.create({ ...manifest, metadata: { ...manifest.metadata, namespace: ns } });
    });
    const initialized = await canaries.until(`${opts.n} Canaries Initialized`, (cs) => cs.filter((c) => c.phase === "Initialized").length === opts.n, 900_000);
    const initSeconds = (initialized - t1) / 1000;
    const primariesCreatedSeconds = ((await primariesCreated) - t1) / 1000;
    const primariesReadySeconds = ((await primariesReady) - t1) / 1000;
    const initCpuSeconds = proc.now()!.cpuSeconds - cpu0;
    log.info(`${kind.name} N=${opts.n}: initialized in ${initSeconds.toFixed(1)} s`);

    // Idle: nothing changes; what it still costs is the price of holding N Canaries. It starts
    // once the cluster has settled: every target scaled down and its pods gone.
    await deployments.until("targets scaled to zero", (ds) => ds.filter((d) => all.includes(d.metadata.name) && d.replicas === 0).length === opts.n, 600_000);
    await sleep(5000);
    // The counters are scraped before the window opens and after it closes, so the benchmark's
    // own scrapes (each renders every Canary's series) are not counted as idle CPU.
    const mark = async (scrapeFirst: boolean) => {
      const scraped = async () => ({ req: await controller!.requests(), rec: await controller!.reconciles() });
      const counters = scrapeFirst ? await scraped() : undefined;
      const s = proc.now()!;
      const at = Date.now();
      return { s, at, ...(counters ?? (await scraped())) };
    };
    const before = await mark(true);
    await sleep(opts.idleSeconds * 1000);
    const after = await mark(false);
    // A heap snapshot of the idle controller, when it was started with --heapsnapshot-signal.
    if (process.env.AVIARY_BENCH_NODE_ARGS?.includes("--heapsnapshot-signal=SIGUSR2")) process.kill(controller.pid, "SIGUSR2");
    const minutes = (after.at - before.at) / 60_000;
    const perMinute = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : (b - a) / minutes);

    // Releases: R at once; then P probes among them, each a single `set image` timed to detection.
    const releases = all.slice(0, Math.min(opts.releases, Math.floor(opts.n / 2)));
    const probes = all.slice(releases.length, releases.length + Math.min(opts.probes, opts.n - releases.length));
    const startedAt = new Map<string, number>();
    const tRelease = Date.now();
    await inParallel(releases, 16, async (name) => {
      startedAt.set(name, Date.now());
      await setImage(client, ns, name, "6.0.1");
    });
    await sleep(2000);
    for (const name of probes) {
      startedAt.set(name, Date.now());
      await setImage(client, ns, name, "6.0.1");
      await sleep(500);
    }
    const changed = [...releases, ...probes];
    const after0 = (name: string) => (phases.get(name) ?? []).filter((p) => p.at >= startedAt.get(name)!);
    const runTimeout = 300_000 + opts.n * 200;
    const succeeded = (name: string) => after0(name).some((p) => p.phase === "Succeeded");
    // A controller that does not finish them in time still gets its other figures reported.
    await canaries.until(`${changed.length} releases to succeed`, () => changed.every(succeeded), runTimeout)
      .catch((err: unknown) => log.warn(`${kind.name} N=${opts.n}: ${(err as Error).message}; ${changed.filter(succeeded).length} of ${changed.length} succeeded`));
    const detectMs = probes.map((name) => (after0(name).find((p) => !IDLE.has(p.phase))?.at ?? NaN) - startedAt.get(name)!).filter(Number.isFinite);
    const releaseEnds = releases.filter(succeeded).map((name) => after0(name).find((p) => p.phase === "Succeeded")!.at);
    const waits = await controller.rateLimitWaits();
    const result: RunResult = {
      controller: kind.name,
      n: opts.n,
      floorSeconds,
      initFloorSeconds,
      initSeconds,
      primariesCreatedSeconds,
      primariesReadySeconds,
      initCpuSeconds,
      peakRssMiB: proc.peakMiB(),
      idleRssMiB: after.s.rssMiB,
      idleCpuPerMinute: (after.s.cpuSeconds - before.s.cpuSeconds) / minutes,
      idleRequestsPerMinute: perMinute(before.req, after.req),
      idleReconcilesPerMinute: perMinute(before.rec, after.rec),
      rateLimitStalls: waits?.stalls ?? null,
      rateLimitWaitSeconds: waits?.seconds ?? null,
      releases: releases.length,
      releasesSucceeded: changed.filter(succeeded).length,
      releaseRunSeconds: releases.length > 0 && releaseEnds.length === releases.length ? (Math.max(...releaseEnds) - tRelease) / 1000 : NaN,
      probes: probes.length,
      probesDetected: detectMs.length,
      detectP50Ms: percentile(detectMs, 50),
      detectP99Ms: percentile(detectMs, 99),
    };
    proc.stop();
    // Each controller's figures as soon as they are known: a long run cut short keeps them.
    log.info(`${kind.name} N=${opts.n}: done`, { result });
    return result;
  } catch (err) {
    if (controller) log.error(`${kind.name} N=${opts.n} failed; its last lines:\n${controller.tail()}`);
    throw err;
  } finally {
    await controller?.stop();
    await Promise.all([deployments.stop(), canaries.stop()]);
    await deleteNamespace(client, ns);
  }
}

const FLOOR_COPY = "aviary.dev/bench-floor-copy";

/**
 * The initialization floor: what the control plane needs for the work initializing makes it
 * do — N copies of the targets (as the primaries will be) created and Ready while the N
 * targets scale to zero — with no controller running. Afterwards the copies are deleted, the
 * targets scaled back up, and the cluster is where the floor left it before returning.
 */
async function measureInitFloor(client: ClusterClient, log: Logger, ns: string, all: string[], deployments: ReturnType<typeof watchCollection>): Promise<number> {
  const copy = (name: string) => `${name}-floor`;
  const scale = (name: string, replicas: number) => client.mergePatch({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name }, { spec: { replicas } });
  const isCopy = (d: { metadata: { name: string } }) => d.metadata.name.endsWith("-floor");
  const t0 = Date.now();
  await inParallel(all, 16, async (name) => {
    const manifest = deploymentManifest(ns, copy(name)) as KubeObject & { spec: { template: { metadata: { labels: Record<string, string> } } } };
    manifest.spec.template.metadata.labels[FLOOR_COPY] = "true";
    await Promise.all([client.create(manifest), scale(name, 0)]);
  });
  const ready = await deployments.until(`${all.length} copies Ready`, (ds) => ds.filter((d) => isCopy(d) && d.ready >= 1).length === all.length, 900_000);
  const seconds = (ready - t0) / 1000;
  log.info(`initialization floor (N=${all.length}): ${seconds.toFixed(1)} s; undoing it`);
  await inParallel(all, 16, async (name) => {
    await Promise.all([client.delete({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: copy(name) }), scale(name, 1)]);
  });
  const targets = new Set(all);
  await deployments.until("the targets Ready again and the copies gone", (ds) => !ds.some(isCopy) && ds.filter((d) => targets.has(d.metadata.name) && d.ready >= 1).length === all.length, 900_000);
  // The copies' pods go after their Deployments (garbage collection): wait for the last.
  const deadline = Date.now() + 900_000;
  while ((await client.list("v1", "Pod", ns, { labelSelector: FLOOR_COPY })).length > 0) {
    if (Date.now() > deadline) throw new Error("the initialization floor's pods were not gone within 900 s");
    await sleep(2000);
  }
  return seconds;
}
