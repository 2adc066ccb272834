import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { errorsOf, validateCanary } from "../../../src/api/validate.ts";
import { DEFAULT_LIMITS, scheduleWithin } from "../../../src/loadtester/bounds.ts";
import { taskFromMetadata } from "../../../src/loadtester/command.ts";
import { hostRefusal } from "../../../src/loadtester/targets.ts";

const file = new URL("../../../examples/loadtester/canary.yaml", import.meta.url);

describe("the load tester example (examples/loadtester)", () => {
  const canary = parseAllDocuments(readFileSync(file, "utf8"))[0]!.toJS() as {
    spec: { analysis: { webhooks: Array<{ name: string; type?: string; url: string; metadata: Record<string, string> }> } };
  };
  const hooks = canary.spec.analysis.webhooks;

  it("is a valid Canary", () => {
    assert.deepEqual(errorsOf(validateCanary(canary)), []);
  });

  it("asks the load tester only for commands it accepts, within the default bounds and targets", () => {
    assert.ok(hooks.length >= 4);
    for (const hook of hooks) {
      assert.equal(hook.url, "http://flagger-loadtester.test/", hook.name);
      const task = taskFromMetadata(hook.metadata);
      scheduleWithin(task.plan, DEFAULT_LIMITS);
      assert.equal(hostRefusal(task.plan.host, { clusterDomain: "cluster.local", allowHosts: [] }), undefined, hook.name);
      assert.equal(task.blocking, hook.type === "pre-rollout", `${hook.name}: smoke checks wait, load runs in the background`);
    }
  });
});
