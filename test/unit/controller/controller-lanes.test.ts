/**
 * Which changes the controller sends to the work queue's urgent lane: a new pod template on a
 * Canary's target, a spec edit or request on the Canary, the webhook's wake-up. Readiness and
 * scaling of the target, the primary's own changes and new Canaries stay routine, so a new
 * revision never waits behind the re-checks of running releases.
 */
import assert from "node:assert/strict";
import { createCanaryController } from "../../../src/controller/controller.ts";
import type { CanaryController } from "../../../src/controller/controller.ts";
import { createWorkQueue } from "../../../src/controller/workqueue.ts";
import type { WorkQueue } from "../../../src/controller/workqueue.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { quietCluster } from "../../support/quiet-cluster.ts";

const CANARY: KubeObject = {
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "shop", resourceVersion: "1", generation: 1 },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" } },
} as KubeObject;

const deployment = (name: string, image: string, readyReplicas: number, rv: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "shop", resourceVersion: rv },
  spec: { replicas: 1, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image }] } } },
  status: { readyReplicas },
} as KubeObject);

/** Takes every key that is ready right now, marking each done. */
async function drain(q: WorkQueue): Promise<void> {
  while (q.depth() > 0) q.done((await q.get())!);
}

describe("controller: urgent and routine wake-ups", () => {
  let queue: WorkQueue;
  let controller: CanaryController;

  beforeEach(async () => {
    queue = createWorkQueue();
    controller = createCanaryController({ client: quietCluster([CANARY]), logger: createLogger({ level: "error", write: () => {} }), queue, reconcile: async () => ({}) });
    controller.start();
    await controller.waitForSync(AbortSignal.timeout(5_000));
    assert.equal(queue.depth(), 1, "the listed Canary is queued");
    assert.equal(queue.urgentDepth(), 0, "a Canary listed at start is routine");
    await drain(queue);
  });
  afterEach(() => controller.stop());

  const update = (old: KubeObject, object: KubeObject) => controller.notify({ type: "updated", key: `shop/${object.metadata.name}`, old, object });

  it("queues a new pod template on the target as urgent", () => {
    update(deployment("podinfo", "podinfo:1", 1, "2"), deployment("podinfo", "podinfo:2", 1, "3"));
    assert.equal(queue.urgentDepth(), 1);
  });

  it("queues the target's readiness and scaling, and the primary's template, as routine", async () => {
    update(deployment("podinfo", "podinfo:1", 0, "2"), deployment("podinfo", "podinfo:1", 1, "3"));
    assert.deepEqual([queue.depth(), queue.urgentDepth()], [1, 0]);
    await drain(queue);
    update(deployment("podinfo-primary", "podinfo:1", 1, "2"), deployment("podinfo-primary", "podinfo:2", 1, "3"));
    assert.deepEqual([queue.depth(), queue.urgentDepth()], [1, 0]);
  });

  it("queues a Canary spec edit as urgent and a status-only update not at all", async () => {
    const edited = { ...CANARY, metadata: { ...CANARY.metadata, generation: 2, resourceVersion: "5" } };
    const statusOnly = { ...CANARY, metadata: { ...CANARY.metadata, resourceVersion: "4" }, status: { phase: "Progressing" } } as KubeObject;
    update(CANARY, statusOnly);
    assert.equal(queue.depth(), 0);
    update(CANARY, edited);
    assert.equal(queue.urgentDepth(), 1);
  });

  it("queues the webhook's wake-up as urgent, moving a routine entry of the same Canary ahead", () => {
    queue.add("shop/other");
    update(deployment("podinfo", "podinfo:1", 0, "2"), deployment("podinfo", "podinfo:1", 1, "3"));
    controller.wake("shop", "podinfo");
    assert.deepEqual([queue.depth(), queue.urgentDepth()], [2, 1]);
  });

  it("queues the Canary of a generated Service its read cache saw deleted or edited, not one it saw created", async () => {
    const service = (rv: string): KubeObject => ({
      apiVersion: "v1", kind: "Service",
      metadata: { name: "podinfo-canary", namespace: "shop", resourceVersion: rv, labels: { "aviary.dev/canary": "podinfo", "app.kubernetes.io/managed-by": "aviary" } },
    });
    controller.notify({ type: "added", key: "shop/podinfo-canary", object: service("2") });
    assert.equal(queue.depth(), 0);
    controller.notify({ type: "deleted", key: "shop/podinfo-canary", object: service("2") });
    assert.deepEqual([queue.depth(), queue.urgentDepth()], [1, 0]);
    await drain(queue);
    update(service("3"), service("4"));
    assert.equal(queue.depth(), 1);
    assert.equal(await queue.get(), "shop/podinfo");
  });
});
