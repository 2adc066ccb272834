import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { errorsOf, validateCanary, warningsOf } from "../../../src/api/validate.ts";
import { DEFAULT_LIMITS, scheduleWithin } from "../../../src/loadtester/bounds.ts";
import { taskFromMetadata } from "../../../src/loadtester/command.ts";

const file = new URL("../../../examples/loadtester/first-deploy.yaml", import.meta.url);

describe("the first-deploy example (examples/loadtester/first-deploy.yaml)", () => {
  const canary = parseAllDocuments(readFileSync(file, "utf8"))[0]!.toJS() as {
    spec: { analysis: { firstDeploy?: boolean; webhooks: Array<{ name: string; metadata: Record<string, string> }> } };
  };

  it("is a valid Canary asking for a first-deploy analysis, with no warning", () => {
    assert.equal(canary.spec.analysis.firstDeploy, true);
    assert.deepEqual(errorsOf(validateCanary(canary)), []);
    assert.deepEqual(warningsOf(validateCanary(canary)), []);
  });

  it("asks the load tester only for commands it accepts", () => {
    for (const hook of canary.spec.analysis.webhooks) scheduleWithin(taskFromMetadata(hook.metadata).plan, DEFAULT_LIMITS);
  });
});
