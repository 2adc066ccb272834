/**
 * The level of the controller's "reconcile failed" line, through the controller itself (its
 * informers fed by a scripted client, its queue, its error callback): an expected failure of a
 * level-triggered controller is a warning, a failure that needs a person an error.
 */
import assert from "node:assert/strict";
import { createCanaryController } from "../../../src/controller/controller.ts";
import { PERSISTENT_FAILURES } from "../../../src/controller/failure-level.ts";
import { createWorkQueue } from "../../../src/controller/workqueue.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { quietCluster } from "../../support/quiet-cluster.ts";

const CANARY: KubeObject = {
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "shop", resourceVersion: "1", generation: 1 },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" } },
} as KubeObject;

interface Line {
  level: string;
  msg: string;
  failures?: number;
}

/** Runs the controller until the reconciler has failed `errors.length` times; returns the failure lines. */
async function failureLines(errors: readonly unknown[]): Promise<Line[]> {
  const lines: Line[] = [];
  const logger = createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l) as Line) });
  let calls = 0;
  const controller = createCanaryController({
    client: quietCluster([CANARY]),
    logger,
    queue: createWorkQueue({ baseDelayMs: 1, maxDelayMs: 2 }),
    reconcile: async () => {
      const err = errors[calls++];
      if (err === undefined) return {};
      // A terminal error is not retried by the queue; the next event would bring the key back.
      if ((err as { retryable?: boolean }).retryable === false) setTimeout(() => controller.wake("shop", "podinfo"), 1);
      throw err;
    },
  });
  controller.start();
  try {
    await controller.waitForSync(AbortSignal.timeout(5_000));
    controller.startWorkers();
    const deadline = Date.now() + 5_000;
    while (calls <= errors.length) {
      if (Date.now() > deadline) throw new Error(`the reconciler ran ${calls} times, want ${errors.length + 1}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    await controller.stop();
  }
  return lines.filter((l) => l.msg.startsWith("reconcile failed"));
}

describe("controller: the level of a failed reconcile's log line", () => {
  it("logs expected failures (conflict, not found, unavailable, namespace terminating) as warnings", async () => {
    const lines = await failureLines([
      new KubeApiError("conflict", 409, "Conflict"),
      new KubeApiError("not found", 404, "NotFound"),
      new KubeApiError("unavailable", 503, "ServiceUnavailable"),
      new KubeApiError('services "podinfo-canary" is forbidden: unable to create new content in namespace shop because it is being terminated', 403, "Forbidden"),
    ]);
    assert.deepEqual(lines.map((l) => l.level), ["warn", "warn", "warn", "warn"], JSON.stringify(lines));
  });

  it("logs an error for what needs a person: a denied request, a bug, a key that keeps failing", async () => {
    const denied = await failureLines([new KubeApiError("forbidden by RBAC", 403, "Forbidden"), new TypeError("x is undefined")]);
    assert.deepEqual(denied.map((l) => l.level), ["error", "error"], JSON.stringify(denied));
    const stuck = await failureLines(Array.from({ length: PERSISTENT_FAILURES }, () => new KubeApiError("conflict", 409, "Conflict")));
    assert.deepEqual(stuck.map((l) => l.level), [...Array<string>(PERSISTENT_FAILURES - 1).fill("warn"), "error"], JSON.stringify(stuck));
  });
});
