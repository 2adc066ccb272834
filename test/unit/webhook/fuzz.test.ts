/**
 * Throws at least 10,000 malformed or random bodies at the real server and handlers over
 * TLS: random bytes, truncated JSON, fields of the wrong type, huge fields, deep nesting,
 * wrong content types. Each must get a 4xx or a well-formed AdmissionReview for the uid
 * sent, and the server must still answer /healthz at the end. Deterministic per seed
 * (AVIARY_FUZZ_SEED); a failure message names the seed and the case.
 */
import assert from "node:assert/strict";
import { Agent } from "node:https";
import type { KubeObject } from "../../../src/kube/types.ts";
import { generateCertBundle } from "../../../src/webhook/certs.ts";
import type { CertBundle } from "../../../src/webhook/certs.ts";
import { WebhookServer } from "../../../src/webhook/server.ts";
import { createDeploymentMutator } from "../../../src/webhook/mutate/deployment.ts";
import { createAlertProviderValidator, createCanaryValidator, createMetricTemplateValidator } from "../../../src/webhook/validate/canary.ts";
import { createGeneratedObjectGuard } from "../../../src/webhook/validate/generated.ts";
import { admissionRequest, deployment, DEPLOYMENT_GVK, quietLogger, review, send } from "./helpers.ts";
import { seededRandom } from "../../../src/ground/random.ts";

const CASES = 10_000;
const CONCURRENCY = 16;
const MAX_BODY = 128 * 1024;
const SEED = Number(process.env.AVIARY_FUZZ_SEED ?? 20261122);

interface FuzzCase {
  kind: string;
  route: string;
  body: string | Buffer;
  contentType?: string;
}

const ROUTES = ["/mutate/deployments", "/validate/canaries", "/validate/metrictemplates", "/validate/alertproviders", "/validate/generated"];
const target = (replicas: number, image: string) =>
  deployment("podinfo", { replicas, image, labels: { app: "podinfo", "aviary.dev/canary": "podinfo" } });
const canary = (): KubeObject => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "default" },
  spec: { provider: "istio", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 }, analysis: { interval: "1m", stepWeight: 10, maxWeight: 50 } },
});

function generator(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

  const randomValue = (depth: number): unknown => {
    switch (int(depth > 3 ? 6 : 9)) {
      case 0: return null;
      case 1: return rand() < 0.5;
      case 2: return rand() * 1e6 - 5e5;
      case 3: return pick([0, -1, 1.5, Number.MAX_SAFE_INTEGER, 1e308]);
      case 4: return bytes(int(24)).toString("latin1");
      case 5: return pick(["", "UPDATE", "Deployment", "aviary.dev", "admission.k8s.io/v1", "🦜", "\u0000"]);
      case 6: return Array.from({ length: int(5) }, () => randomValue(depth + 1));
      default: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(["uid", "kind", "metadata", "spec", "labels", "x", "request"]), randomValue(depth + 1)]));
    }
  };

  /** Deep nesting as JSON text: JSON.stringify itself overflows the stack on it. */
  const DEEP = "__deep__";
  const deepJson = (levels: number): string => {
    let open = "";
    let close = "";
    for (let i = 0; i < levels; i++) {
      const array = rand() < 0.5;
      open += array ? "[" : '{"a":';
      close = (array ? "]" : "}") + close;
    }
    return open + '"bottom"' + close;
  };
  const withDeep = (body: unknown, levels: number): string => JSON.stringify(body).replace(`"${DEEP}"`, () => deepJson(levels));

  const validReview = (): { body: Record<string, unknown>; route: string } => {
    const route = pick(ROUTES);
    const user = { username: pick(["jane", "system:serviceaccount:aviary-system:aviary", "helm"]), groups: ["system:authenticated"] };
    const labelsGenerated = { app: "podinfo-primary", "aviary.dev/canary": "podinfo", "app.kubernetes.io/managed-by": "aviary" };
    const req =
      route === "/validate/canaries"
        ? admissionRequest(pick(["CREATE", "UPDATE"] as const), { group: "aviary.dev", version: "v1beta1", kind: "Canary" }, canary(), canary())
        : route === "/validate/generated"
          ? admissionRequest(pick(["UPDATE", "DELETE"] as const), DEPLOYMENT_GVK, deployment("podinfo-primary", { labels: labelsGenerated, replicas: int(5) }), deployment("podinfo-primary", { labels: labelsGenerated }))
          : admissionRequest("UPDATE", DEPLOYMENT_GVK, target(int(5), `podinfo:${int(3)}`), target(int(5), "podinfo:0"));
    req.userInfo = user;
    // A deep copy: corrupt() edits in place and must not reach shared fixtures.
    return { body: structuredClone(review(req)), route };
  };

  /** Replaces one random node of the tree (the tree is mutated in place). */
  const corrupt = (root: Record<string, unknown>, replacement: unknown): void => {
    let node: Record<string | number, unknown> = root;
    for (let depth = 0; ; depth++) {
      const keys: Array<string | number> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
      if (keys.length === 0) {
        node[Array.isArray(node) ? 0 : "x"] = replacement;
        return;
      }
      const key = pick(keys);
      const child = node[key];
      if (child !== null && typeof child === "object" && depth < 8 && rand() < 0.7) {
        node = child as Record<string | number, unknown>;
        continue;
      }
      node[key] = replacement;
      return;
    }
  };

  return (): FuzzCase => {
    const roll = int(12);
    const { body, route } = validReview();
    switch (roll) {
      case 0:
        return { kind: "random bytes", route, body: bytes(int(2048)) };
      case 1: {
        const text = JSON.stringify(body);
        return { kind: "truncated JSON", route, body: text.slice(0, int(text.length)) };
      }
      case 2:
      case 3:
        corrupt(body, randomValue(0));
        return { kind: "wrong types", route, body: JSON.stringify(body) };
      case 4:
        return { kind: "random JSON", route, body: JSON.stringify(randomValue(0)) };
      case 5: {
        const big = rand() < 0.5;
        corrupt(body, "x".repeat(big ? MAX_BODY + int(4096) : int(16 * 1024)));
        return { kind: big ? "huge field over the cap" : "large field", route, body: JSON.stringify(body) };
      }
      case 6: {
        corrupt(body, DEEP);
        return { kind: "deep nesting", route, body: withDeep(body, 500 + int(15_000)) };
      }
      case 7: {
        const request = body.request as Record<string, unknown>;
        const object = request.object as Record<string, unknown> | null;
        if (object) object.spec = DEEP;
        return { kind: "deep nesting in spec", route, body: withDeep(body, 2000 + int(10_000)) };
      }
      case 8:
        return { kind: "wrong content type", route, body: JSON.stringify(body), contentType: pick(["text/plain", "application/yaml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) };
      case 9:
        return { kind: "empty body", route, body: "" };
      default:
        return { kind: "valid review", route, body: JSON.stringify(body) };
    }
  };
}

/** Null when the answer is acceptable, else why not. */
function judge(c: FuzzCase, status: number, text: string): string | null {
  if (status >= 400 && status < 500) return null;
  if (status !== 200) return `status ${status}: ${text.slice(0, 200)}`;
  let answer: { apiVersion?: unknown; kind?: unknown; response?: { uid?: unknown; allowed?: unknown; patch?: unknown; patchType?: unknown } };
  try {
    answer = JSON.parse(text);
  } catch {
    return "200 with a body that is not JSON";
  }
  if (answer.apiVersion !== "admission.k8s.io/v1" || answer.kind !== "AdmissionReview") return "200 without AdmissionReview v1";
  if (typeof answer.response?.allowed !== "boolean") return "response.allowed is not a boolean";
  // The uid in what was sent (corruption may have replaced it with any string).
  let sent: unknown;
  try {
    sent = (JSON.parse(c.body.toString()) as { request?: { uid?: unknown } }).request?.uid;
  } catch {
    return "200 for a body that is not JSON";
  }
  if (typeof sent !== "string") return "200 for a review without a string uid";
  if (answer.response.uid !== sent) return `uid ${JSON.stringify(answer.response.uid)} != sent ${JSON.stringify(sent)}`;
  if (answer.response.patch !== undefined) {
    if (answer.response.patchType !== "JSONPatch") return "patch without patchType JSONPatch";
    const ops = JSON.parse(Buffer.from(String(answer.response.patch), "base64").toString());
    if (!Array.isArray(ops)) return "patch is not a JSON Patch array";
  }
  return null;
}

describe("webhook server under fuzzing", function () {
  this.timeout(240_000); // thousands of TLS requests; slow on a busy machine, which is not a failure
  let bundle: CertBundle;
  let server: WebhookServer;
  let port: number;

  before(async () => {
    bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const aviaryUsers = ["system:serviceaccount:aviary-system:aviary"];
    const lookups = {
      findCanaryForTarget: async () => null,
      metricTemplateExists: async () => true,
      alertProviderExists: async () => false,
    };
    server = new WebhookServer({
      handlers: [
        createDeploymentMutator({ aviaryUsers, onRevision: () => {} }),
        createCanaryValidator({ lookups }),
        createMetricTemplateValidator(),
        createAlertProviderValidator(),
        createGeneratedObjectGuard({ aviaryUsers }),
      ],
      tls: bundle,
      log: quietLogger(),
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: MAX_BODY,
    });
    port = (await server.listen()).port;
  });
  after(async () => server.close());

  it(`answers ${CASES} malformed and random bodies with a 4xx or a valid AdmissionReview, and stays up`, async () => {
    const next = generator(seededRandom(SEED));
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const failures: string[] = [];
    const seen = new Map<string, Set<number>>();
    let index = 0;
    const worker = async () => {
      while (index < CASES) {
        const i = index++;
        const c = next();
        try {
          const res = await send(port, c.body, {
            ca: bundle.caCert,
            agent,
            path: c.route,
            headers: c.contentType ? { "content-type": c.contentType } : {},
          });
          const verdict = judge(c, res.status, res.body);
          if (verdict) failures.push(`#${i} ${c.kind} on ${c.route}: ${verdict}`);
          if (!seen.has(c.kind)) seen.set(c.kind, new Set());
          seen.get(c.kind)!.add(res.status);
        } catch (err) {
          failures.push(`#${i} ${c.kind} on ${c.route}: request failed: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();

    assert.deepEqual(failures.slice(0, 10), [], `seed ${SEED}: ${failures.length} bad answers`);
    // The run exercised what it claims to.
    const statuses = JSON.stringify(Object.fromEntries([...seen].map(([k, v]) => [k, [...v].sort()])));
    assert.deepEqual([...(seen.get("huge field over the cap") ?? [])], [413], statuses);
    assert.deepEqual([...(seen.get("wrong content type") ?? [])], [415], statuses);
    assert.ok(seen.get("random bytes")?.has(400));
    assert.ok(seen.get("valid review")?.has(200) && seen.get("valid review")?.size === 1);
    assert.ok(seen.get("wrong types")?.has(200) && seen.get("wrong types")?.has(400), statuses);
    assert.ok(seen.get("deep nesting in spec")?.has(200), statuses);

    const health = await send(port, undefined, { ca: bundle.caCert, method: "GET", path: "/healthz" });
    assert.equal(health.status, 200);
  });
});
