/**
 * The controllers under test, each run as its own process against the same cluster: aviary
 * (src/main.ts, controller only) and, for the side-by-side figures, Flagger built from its
 * Go module by hack/build-flagger.sh. Each knows its Canary manifest and how to read its
 * own request counter, when it has one.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { imageRuntime } from "../../../hack/image-runtime.ts";

/** The built entry point, as the image runs it (scale.bench.ts builds it first). */
export const MAIN = fileURLToPath(new URL("../../../dist/main.js", import.meta.url));

export interface ReleaseShape {
  interval: string;
  iterations: number;
}

export interface RunningController {
  pid: number;
  /** Requests to the API server so far, when the controller counts them. */
  requests(): Promise<number | undefined>;
  /** Reconciles so far, when the controller counts them. */
  reconciles(): Promise<number | undefined>;
  /** Requests so far that waited over 1 s for the client-side rate limit, and the seconds all waited; when it reports them. */
  rateLimitWaits(): Promise<{ stalls: number; seconds: number } | undefined>;
  /** The last lines it logged (for failures). */
  tail(): string;
  stop(): Promise<void>;
}

export interface ControllerKind {
  name: "aviary" | "flagger";
  /** `<plural>.<group>` of its Canary kind. */
  canaryResource: string;
  apiVersion: string;
  /** Starts it watching only `namespace`, so it never touches other users' objects on a shared cluster. */
  start(kubeconfig: string, namespace: string): Promise<RunningController>;
}

/** The Canary both controllers are given: blue/green on plain Services, no metrics. */
export function canaryManifest(kind: ControllerKind, name: string, shape: ReleaseShape): Record<string, unknown> {
  return {
    apiVersion: kind.apiVersion,
    kind: "Canary",
    metadata: { name },
    spec: {
      provider: "kubernetes",
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      progressDeadlineSeconds: 120,
      service: { port: 9898, targetPort: 9898 },
      analysis: { interval: shape.interval, threshold: 2, iterations: shape.iterations },
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Keeps the last lines of a child's output and resolves `ready` on the first matching line. */
function follow(child: ChildProcess, readyPattern: RegExp, timeoutMs: number) {
  const lines: string[] = [];
  let resolveReady!: (line: string) => void;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    const timer = setTimeout(() => reject(new Error(`no ${readyPattern} within ${timeoutMs} ms:\n${lines.join("\n")}`)), timeoutMs);
    timer.unref();
    child.once("exit", (code) => reject(new Error(`exited with ${code} before ${readyPattern}:\n${lines.join("\n")}`)));
  });
  ready.catch(() => {});
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      if (readyPattern.test(line)) resolveReady(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    ready,
    tail: () => lines.join("\n"),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Sums the samples of one metric family in a Prometheus text exposition. */
export function sumMetric(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

export const aviary: ControllerKind = {
  name: "aviary",
  canaryResource: "canaries.aviary.dev",
  apiVersion: "aviary.dev/v1beta1",
  async start(kubeconfig, namespace) {
    // AVIARY_BENCH_NODE_ARGS: e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof --heapsnapshot-signal=SIGUSR2" to see where time and memory go.
    const extra = (process.env.AVIARY_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
    // The image's node flags and environment (hack/image-runtime.ts), so aviary runs as it does in a cluster.
    const image = imageRuntime();
    const child = spawn(process.execPath, [...image.nodeFlags, ...extra, MAIN, "--no-webhook", "--namespace", namespace, "--metrics-address", "127.0.0.1:0", "--log-level", "info"], {
      env: { ...process.env, ...image.env, KUBECONFIG: kubeconfig },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const f = follow(child, /serving \/metrics/, 60_000);
    const line = await f.ready;
    const address = (JSON.parse(line) as { address: string }).address;
    const metrics = `http://${address}/metrics`;
    // Ready once every informer has synced: measurements start from a controller that can act.
    for (let i = 0; i < 600; i++) {
      const ok = await fetch(`http://${address}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      pid: child.pid!,
      requests: async () => sumMetric(await scrape(metrics), "aviary_kube_requests_total"),
      reconciles: async () => sumMetric(await scrape(metrics), "aviary_reconcile_duration_seconds_count"),
      rateLimitWaits: async () => {
        const text = await scrape(metrics);
        const count = sumMetric(text, "aviary_kube_rate_limit_wait_seconds_count");
        const withinOne = sumMetric(text, 'aviary_kube_rate_limit_wait_seconds_bucket{le="1"}');
        const seconds = sumMetric(text, "aviary_kube_rate_limit_wait_seconds_sum");
        return count === undefined || withinOne === undefined || seconds === undefined ? undefined : { stalls: count - withinOne, seconds };
      },
      tail: f.tail,
      stop: f.stop,
    };
  },
};

/** Flagger as its own deployment would run it for plain Services: no mesh, no metrics server needed. */
export function flagger(binary: string): ControllerKind {
  return {
    name: "flagger",
    canaryResource: "canaries.flagger.app",
    apiVersion: "flagger.app/v1beta1",
    async start(kubeconfig, namespace) {
      const port = await freePort();
      const args = [
        `-kubeconfig=${kubeconfig}`, `-namespace=${namespace}`, "-mesh-provider=kubernetes", "-metrics-server=http://127.0.0.1:9",
        `-port=${port}`, "-log-level=info", "-enable-leader-election=false", "-slack-url=",
      ];
      const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
      const f = follow(child, /Starting workers|Started workers|Waiting for canary informer cache to sync/, 60_000);
      await f.ready;
      return { pid: child.pid!, requests: async () => undefined, reconciles: async () => undefined, rateLimitWaits: async () => undefined, tail: f.tail, stop: f.stop };
    },
  };
}
