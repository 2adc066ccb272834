/**
 * Sharded releases: three aviary processes split the Canaries of one namespace into shards
 * (`--shards`), all of them run a blue/green release, and one process is SIGKILLed mid-run.
 * What is recorded is what the tests judge: each Canary's end, the primaries' images and the
 * Canaries' (phase, weight) over time (test/chaos/observer.ts), the shard Leases' holders
 * before and after the kill, and how long the dead process's shards took to move.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createKubeClient } from "../../src/kube/client.ts";
import { loadKubeConfig } from "../../src/kube/config.ts";
import type { LeaseObject } from "../../src/kube/lease.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { shardLeaseName } from "../../src/ground/shard.ts";
import { startObserver, type Observations } from "../chaos/observer.ts";
import { startAviary, type AviaryProcess } from "./aviary.ts";
import { deployment, type CanaryObject } from "./canary-fixtures.ts";
import { kubectlJson, kubectlOk, requireKubeconfig, tempNamespace } from "./kubectl.ts";
import { sleep, waitFor } from "./peers.ts";

export interface ShardedReleaseOptions {
  canaries: number;
  shards: number;
  /** --lease-duration of the processes, seconds. */
  leaseSeconds: number;
  progressDeadlineSeconds: number;
  /** analysis.interval of the Canaries (three iterations each). */
  interval: string;
  /** --workers of each process. */
  workers: number;
  /** How long to wait for every Canary to be Initialized, and then to end its run. */
  timeoutMs: number;
}

export interface ShardedReleases {
  namespace: string;
  /** The processes' logs, one file per identity. */
  logDir: string;
  apps: string[];
  observed: Observations;
  /** Each process's identity. */
  identities: string[];
  killed: string;
  /** The shards the killed process held when it died. */
  killedShards: number[];
  /** Shard → holder just before the kill, and once the killed process's shards had moved. */
  holdersBefore: Map<number, string>;
  holdersAfter: Map<number, string>;
  /** From the SIGKILL until another process held every one of its shards. */
  takeoverMs: number;
  /** When the new image went in, and when the last Canary ended its run. */
  releasedAt: number;
  endedAt: number;
  /** The Canaries as they ended. */
  ends: Map<string, CanaryObject>;
  /** The events of the namespace, by Canary and reason. */
  eventCounts: Map<string, number>;
  stop(): Promise<void>;
}

const LEASE_NAME = "aviary-leader";
const imageOf = (version: string) => `registry.local/shards/app:${version}`;

type Lease = LeaseObject & KubeObject;

/** Runs `fn` over `items`, 20 at a time. */
async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += 20) await Promise.all(items.slice(i, i + 20).map(fn));
}

export async function runShardedReleases(opts: ShardedReleaseOptions): Promise<ShardedReleases> {
  requireKubeconfig();
  await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
  const client = createKubeClient(loadKubeConfig(), { userAgent: "aviary-shards-test" });
  const undo: (() => Promise<unknown>)[] = [async () => client.close()];
  const stop = async () => {
    for (const u of undo.reverse()) await u().catch((err: unknown) => console.error(`clean-up: ${String(err)}`));
    undo.length = 0;
  };
  try {
    const ns = await tempNamespace("aviary-shards");
    undo.push(ns.remove);
    // Room for every primary and canary pod at once: the local control plane's own kwok nodes
    // hold 110 pods each.
    const node = {
      apiVersion: "v1", kind: "Node",
      metadata: { name: ns.name, annotations: { "node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake" }, labels: { type: "kwok", "kubernetes.io/hostname": ns.name, "kubernetes.io/os": "linux" } },
      status: { allocatable: { cpu: "512", memory: "4Ti", pods: String(2 * opts.canaries + 50) }, capacity: { cpu: "512", memory: "4Ti", pods: String(2 * opts.canaries + 50) } },
    };
    await client.create(node as KubeObject);
    undo.push(() => client.delete({ apiVersion: "v1", kind: "Node", name: ns.name }));
    const observed = await startObserver(ns.name);
    undo.push(() => observed.stop());

    const logDir = process.env.AVIARY_SHARDS_LOGS ?? (await mkdtemp(path.join(tmpdir(), "aviary-shards-logs-")));
    const identities = ["shard-a", "shard-b", "shard-c"];
    const processes = new Map<string, AviaryProcess>();
    for (const identity of identities) {
      const p = startAviary([
        "--no-webhook", "--namespace", ns.name, "--identity", identity, "--workers", String(opts.workers),
        "--shards", String(opts.shards), "--lease-name", LEASE_NAME, "--lease-namespace", ns.name, "--lease-duration", String(opts.leaseSeconds),
      ], { AVIARY_LOG_LEVEL: "info" });
      processes.set(identity, p);
      const file = createWriteStream(path.join(logDir, `${identity}.log`));
      p.child.stdout?.on("data", (chunk: Buffer) => file.write(chunk));
      p.child.stderr?.on("data", (chunk: Buffer) => file.write(chunk));
      // The in-memory copy only serves waitForLog; the file keeps everything.
      const trim = setInterval(() => p.logs.splice(0, Math.max(0, p.logs.length - 200)), 5000);
      p.child.once("exit", () => (clearInterval(trim), file.end()));
      undo.push(() => p.stop());
    }

    const holders = async (): Promise<Map<number, string>> => {
      const leases = await client.list<Lease>("coordination.k8s.io/v1", "Lease", ns.name);
      const byName = new Map(leases.map((l) => [l.metadata.name, l.spec?.holderIdentity ?? ""]));
      const out = new Map<number, string>();
      for (let i = 0; i < opts.shards; i++) {
        const holder = byName.get(shardLeaseName(LEASE_NAME, i, opts.shards));
        if (holder) out.set(i, holder);
      }
      return out;
    };
    const heldBy = (h: Map<number, string>, identity: string) => [...h].filter(([, who]) => who === identity).map(([s]) => s);

    // Every shard held, each process holding its share.
    const share = Math.ceil(opts.shards / identities.length);
    await waitFor("every shard held, by all three processes in fair shares", 120_000, async () => {
      const h = await holders();
      return h.size === opts.shards && identities.every((id) => heldBy(h, id).length <= share && heldBy(h, id).length > 0) ? true : undefined;
    });

    const apps = Array.from({ length: opts.canaries }, (_, i) => `app-${i}`);
    const canaryOf = (app: string) => ({
      apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name: app, namespace: ns.name },
      spec: {
        provider: "kubernetes",
        progressDeadlineSeconds: opts.progressDeadlineSeconds,
        targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: app },
        service: { port: 9898 },
        analysis: { interval: opts.interval, threshold: 2, iterations: 3 },
      },
    });
    const objects = apps.flatMap((app) => [
      { ...deployment(app, imageOf("v1"), { replicas: 1 }), metadata: { name: app, namespace: ns.name, labels: { app } } },
      canaryOf(app),
    ]);
    await inBatches(objects, (o) => client.create(o as KubeObject));

    const phases = async () => {
      const list = await kubectlJson<{ items: CanaryObject[] }>(["get", "canaries.aviary.dev", "-n", ns.name]);
      return new Map(list.items.map((c) => [c.metadata.name, c]));
    };
    const deadline = (label: string) => waitFor.bind(undefined, label, opts.timeoutMs);
    await deadline(`all ${opts.canaries} Canaries Initialized`)(async () => {
      const all = await phases();
      return apps.every((a) => all.get(a)?.status?.phase === "Initialized") ? true : undefined;
    });

    // The new image, everywhere at once.
    const releasedAt = Date.now();
    await inBatches(apps, (app) =>
      client.mergePatch({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns.name, name: app }, {
        spec: { template: { spec: { containers: [{ name: "app", image: imageOf("v2"), ports: [{ name: "http", containerPort: 9898 }] }] } } },
      }),
    );

    // Mid-run: a tenth of the Canaries progressing. Then the process with the most shards dies.
    await deadline("a tenth of the Canaries progressing")(async () => {
      const all = await phases();
      return [...all.values()].filter((c) => c.status?.phase === "Progressing").length >= opts.canaries / 10 ? true : undefined;
    });
    const holdersBefore = await holders();
    const killed = identities.reduce((a, b) => (heldBy(holdersBefore, b).length > heldBy(holdersBefore, a).length ? b : a));
    const killedShards = heldBy(holdersBefore, killed);
    const killedAt = Date.now();
    await processes.get(killed)!.kill();

    let holdersAfter = new Map<number, string>();
    for (;;) {
      holdersAfter = await holders().catch(() => new Map<number, string>());
      if (killedShards.every((s) => (holdersAfter.get(s) ?? killed) !== killed)) break;
      if (Date.now() - killedAt > 10 * opts.leaseSeconds * 1000) break;
      await sleep(100);
    }
    const takeoverMs = Date.now() - killedAt;

    let ends = new Map<string, CanaryObject>();
    await deadline(`every run ended`)(async () => {
      ends = await phases();
      return apps.every((a) => {
        const phase = ends.get(a)?.status?.phase;
        return phase === "Succeeded" || phase === "Failed";
      }) ? true : undefined;
    });
    const endedAt = Date.now();

    const events = await kubectlJson<{ items: { reason: string; count?: number; involvedObject: { kind: string; name: string } }[] }>(["get", "events", "-n", ns.name]);
    const eventCounts = new Map<string, number>();
    for (const e of events.items) {
      if (e.involvedObject.kind !== "Canary") continue;
      const key = `${e.involvedObject.name}/${e.reason}`;
      eventCounts.set(key, (eventCounts.get(key) ?? 0) + (e.count ?? 1));
    }

    return {
      namespace: ns.name, logDir, apps, observed, identities, killed, killedShards, holdersBefore, holdersAfter, takeoverMs,
      releasedAt, endedAt, ends, eventCounts, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export const newImage = imageOf("v2");
export const oldImage = imageOf("v1");

/** Everything that went wrong, one line each; empty when every run ended as it should. */
export function shardedReleaseProblems(r: ShardedReleases, opts: ShardedReleaseOptions): string[] {
  const problems: string[] = [];
  if (r.apps.length === 0) problems.push("no Canaries");
  for (const app of r.apps) {
    const end = r.ends.get(app);
    if (end?.status?.phase !== "Succeeded") {
      const why = end?.status?.conditions?.find((c) => c.type === "Promoted")?.message ?? "no reason";
      problems.push(`${app}: ended ${end?.status?.phase ?? "?"}, expected Succeeded (${why})`);
    }
    const images = (r.observed.primaryImages.get(app) ?? []).map((s) => s.value);
    if (images.join(" ") !== `${oldImage} ${newImage}`) problems.push(`${app}: the primary ran ${images.join(" → ") || "nothing"}, expected one promotion ${oldImage} → ${newImage}`);
    for (const reason of ["NewRevision", "Promoted"]) {
      const n = r.eventCounts.get(`${app}/${reason}`) ?? 0;
      if (n !== 1) problems.push(`${app}: ${n} ${reason} events, expected 1`);
    }
    // The longest time the Canary's phase stood still between the release and its end.
    const samples = (r.observed.canaries.get(app) ?? []).map((s) => s.at).filter((t) => t > r.releasedAt);
    const times = [r.releasedAt, ...samples];
    const stall = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
    if (stall >= opts.progressDeadlineSeconds * 1000) problems.push(`${app}: stood still for ${stall} ms, longer than its progress deadline`);
  }
  for (const shard of r.killedShards) {
    const holder = r.holdersAfter.get(shard);
    if (!holder || holder === r.killed) problems.push(`shard ${shard}: still held by ${holder ?? "nobody"} after the kill`);
  }
  if (r.killedShards.length === 0) problems.push(`${r.killed} held no shard when it was killed`);
  if (r.takeoverMs > 2 * opts.leaseSeconds * 1000) problems.push(`the killed process's shards moved in ${r.takeoverMs} ms, more than two lease durations`);
  return problems;
}
