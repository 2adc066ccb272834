/**
 * Admission latency over TLS on loopback at a steady rate, as the API server would call:
 * a few keep-alive connections, one AdmissionReview every 1/rate seconds (open loop, so a
 * slow answer does not slow the schedule). The webhook runs in a child process, like the
 * real one, so the client's work does not sit on the server's event loop.
 *
 *   node test/bench/admission.bench.ts        (AVIARY_BENCH_RATE=200, AVIARY_BENCH_SECONDS=10)
 *
 * Prints p50/p90/p99/max and the error count; the target is p99 < 5 ms with 0 errors.
 * It measures and does not assert.
 */
import { fork } from "node:child_process";
import { Agent, request } from "node:https";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createLogger } from "../../src/observability/logger.ts";
import { generateCertBundle } from "../../src/webhook/certs.ts";
import type { CertBundle } from "../../src/webhook/certs.ts";
import { WebhookServer } from "../../src/webhook/server.ts";
import { createDeploymentMutator } from "../../src/webhook/mutate/deployment.ts";
import { createAlertProviderValidator, createCanaryValidator, createMetricTemplateValidator } from "../../src/webhook/validate/canary.ts";
import { createGeneratedObjectGuard } from "../../src/webhook/validate/generated.ts";

const RATE = Number(process.env.AVIARY_BENCH_RATE ?? 200);
const SECONDS = Number(process.env.AVIARY_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 1;
const CONNECTIONS = 4;
const AVIARY_SA = "system:serviceaccount:aviary-system:aviary";

/** Server-side handling time (first middleware to response written), per request. */
const serverMs: number[] = [];

async function serve(bundle: CertBundle): Promise<number> {
  const lookups = {
    findCanaryForTarget: async () => null,
    metricTemplateExists: async () => true,
    alertProviderExists: async () => true,
  };
  const server = new WebhookServer({
    handlers: [
      createDeploymentMutator({ aviaryUsers: [AVIARY_SA], onRevision: () => {} }),
      createCanaryValidator({ lookups }),
      createMetricTemplateValidator(),
      createAlertProviderValidator(),
      createGeneratedObjectGuard({ aviaryUsers: [AVIARY_SA] }),
    ],
    tls: bundle,
    log: createLogger({ level: "error" }),
    metrics: { observe: (sample) => serverMs.push(sample.seconds * 1000) },
    host: "127.0.0.1",
    port: 0,
  });
  return (await server.listen()).port;
}

// ---------------------------------------------------------------------------------------
// The reviews sent: a realistic mix of what aviary's webhooks see.
// ---------------------------------------------------------------------------------------

function deployment(name: string, image: string, replicas: number, labels: Record<string, string>) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default", resourceVersion: "4711", generation: 7, labels, annotations: { "meta.helm.sh/release-name": "podinfo" } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { "prometheus.io/scrape": "true" } },
        spec: {
          containers: [
            {
              name: "podinfo",
              image,
              ports: [{ name: "http", containerPort: 9898, protocol: "TCP" }],
              env: Array.from({ length: 8 }, (_, i) => ({ name: `ENV_${i}`, value: `value-${i}` })),
              resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
              readinessProbe: { httpGet: { path: "/readyz", port: 9898 }, periodSeconds: 5 },
            },
          ],
        },
      },
    },
    status: { replicas, readyReplicas: replicas },
  };
}

function reviewBody(i: number): { path: string; body: string } {
  const uid = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  const targetLabels = { app: "podinfo", "aviary.dev/canary": "podinfo" };
  const base = { uid, userInfo: { username: "helm", groups: ["system:authenticated"] }, namespace: "default", dryRun: false };
  const kind = i % 10;
  if (kind < 6) {
    const request = {
      ...base,
      kind: { group: "apps", version: "v1", kind: "Deployment" },
      resource: { group: "apps", version: "v1", resource: "deployments" },
      name: "podinfo",
      operation: "UPDATE",
      object: deployment("podinfo", `ghcr.io/stefanprodan/podinfo:6.${i % 50}.0`, 3, targetLabels),
      oldObject: deployment("podinfo", "ghcr.io/stefanprodan/podinfo:6.0.0", 0, targetLabels),
    };
    return { path: "/mutate/deployments", body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request }) };
  }
  if (kind < 9) {
    const canary = {
      apiVersion: "aviary.dev/v1beta1",
      kind: "Canary",
      metadata: { name: "podinfo", namespace: "default" },
      spec: {
        provider: "istio",
        targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
        service: { port: 9898 },
        analysis: {
          interval: "1m",
          threshold: 5,
          maxWeight: 50,
          stepWeight: 10,
          metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 }, interval: "1m" }, { name: "errors", templateRef: { name: "errors" }, thresholdRange: { max: 1 } }],
          webhooks: [{ name: "load-test", url: "http://loadtester.test/", timeout: "5s", metadata: { cmd: "hey -z 1m http://podinfo-canary/" } }],
        },
      },
    };
    const request = {
      ...base,
      kind: { group: "aviary.dev", version: "v1beta1", kind: "Canary" },
      resource: { group: "aviary.dev", version: "v1beta1", resource: "canaries" },
      name: "podinfo",
      operation: "CREATE",
      object: canary,
      oldObject: null,
    };
    return { path: "/validate/canaries", body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request }) };
  }
  const generated = { app: "podinfo-primary", "aviary.dev/canary": "podinfo", "app.kubernetes.io/managed-by": "aviary" };
  const request = {
    ...base,
    userInfo: { username: "jane", groups: ["system:authenticated"] },
    kind: { group: "apps", version: "v1", kind: "Deployment" },
    resource: { group: "apps", version: "v1", resource: "deployments" },
    name: "podinfo-primary",
    operation: "UPDATE",
    object: deployment("podinfo-primary", "ghcr.io/stefanprodan/podinfo:hotfix", 3, generated),
    oldObject: deployment("podinfo-primary", "ghcr.io/stefanprodan/podinfo:6.0.0", 3, generated),
  };
  return { path: "/validate/generated", body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request }) };
}

// ---------------------------------------------------------------------------------------
// The load generator
// ---------------------------------------------------------------------------------------

function post(agent: Agent, port: number, ca: string, path: string, body: string, uid: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "POST", agent, ca, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 5_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const elapsed = performance.now() - started;
          try {
            const answer = JSON.parse(Buffer.concat(chunks).toString()) as { response?: { uid?: string } };
            if (res.statusCode !== 200 || answer.response?.uid !== uid) reject(new Error(`status ${res.statusCode}, uid ${answer.response?.uid}`));
            else resolve(elapsed);
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

interface ServerReport {
  serverMs: number[];
  cpuMs: number;
}

async function load(port: number, ca: string, serverSide: () => Promise<ServerReport>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const intervalMs = 1000 / RATE;
  const total = Math.round((WARMUP_SECONDS + SECONDS) * RATE);
  const warmup = Math.round(WARMUP_SECONDS * RATE);
  const latencies: number[] = [];
  const errors: string[] = [];
  const inflight: Array<Promise<void>> = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const { path, body } = reviewBody(i);
    const uid = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    inflight.push(
      post(agent, port, ca, path, body, uid).then(
        (ms) => {
          if (i >= warmup) latencies.push(ms);
        },
        (err: unknown) => {
          if (i >= warmup) errors.push((err as Error).message);
        },
      ),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000 - WARMUP_SECONDS;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(`admission webhook over TLS on loopback: ${RATE} reviews/s for ${SECONDS} s, ${CONNECTIONS} keep-alive connections`);
  console.log(`  mix: 60% /mutate/deployments (new revision + replica guard), 30% /validate/canaries, 10% /validate/generated (denied)`);
  console.log(`  requests ${latencies.length + errors.length} (achieved ${((latencies.length + errors.length) / elapsed).toFixed(0)}/s), errors ${errors.length}`);
  console.log(`  latency p50 ${fmt(percentile(latencies, 50))}  p90 ${fmt(percentile(latencies, 90))}  p99 ${fmt(percentile(latencies, 99))}  max ${fmt(latencies.at(-1) ?? NaN)}`);
  console.log(`  target p99 < 5 ms with 0 errors: ${percentile(latencies, 99) < 5 && errors.length === 0 ? "met" : "NOT met"}`);
  const report = await serverSide();
  const server = report.serverMs.slice(warmup).sort((a, b) => a - b);
  console.log(`  server-side handling p50 ${fmt(percentile(server, 50))}  p99 ${fmt(percentile(server, 99))}  max ${fmt(server.at(-1) ?? NaN)}`);
  // Independent of how busy the machine is: what one review costs the webhook process.
  console.log(`  webhook CPU ${fmt(report.cpuMs / total)} per review (TLS handshakes and warm-up included), ${((report.cpuMs / 1000 / (elapsed + WARMUP_SECONDS)) * 100).toFixed(1)}% of one core at this rate`);
  console.log(`  load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${availableParallelism()} CPUs (a busy machine inflates the tail)`);
  if (errors.length > 0) console.log(`  first errors: ${[...new Set(errors)].slice(0, 3).join("; ")}`);
}

if (process.env.AVIARY_BENCH_ROLE === "server") {
  process.once("message", (bundle: CertBundle) => {
    let listening: NodeJS.CpuUsage;
    serve(bundle).then((port) => {
      listening = process.cpuUsage();
      process.send?.({ port });
    });
    // The next message asks for the server-side samples and the CPU the process spent.
    process.once("message", () => {
      const spent = process.cpuUsage(listening);
      process.send?.({ serverMs, cpuMs: (spent.user + spent.system) / 1000 });
    });
  });
} else {
  const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, AVIARY_BENCH_ROLE: "server" }, stdio: "inherit" });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m: { port: number }) => resolve(m.port));
      child.once("exit", (code) => reject(new Error(`webhook process exited with ${String(code)}`)));
      child.send(bundle);
    });
    const serverSide = () =>
      new Promise<ServerReport>((resolve) => {
        child.once("message", (m: ServerReport) => resolve(m));
        child.send("report");
      });
    await load(port, bundle.caCert, serverSide);
  } finally {
    child.kill();
  }
}
