import assert from "node:assert/strict";
import { errorsOf, formatProblem, validateCanary, warningsOf } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";
import { nginxCanary } from "./fixtures.ts";

const errors = (obj: unknown): string[] => errorsOf(validateCanary(obj)).map(formatProblem);
const warnings = (obj: unknown): string[] => warningsOf(validateCanary(obj)).map(formatProblem);

/** An nginx Canary on a step schedule with one limited metric. */
function scheduled(edit: (c: Canary) => void = () => {}): Canary {
  const c = nginxCanary();
  const a = c.spec.analysis!;
  delete a.stepWeight;
  delete a.stepWeights;
  delete a.maxWeight;
  a.steps = [{ weight: 20, pause: "3m" }, { weight: 40, pause: "3m" }, { weight: 60 }];
  a.metrics = [{ name: "success", templateRef: { name: "success" }, thresholdRange: { min: 100, max: 100 }, failureLimit: 1, consecutiveErrorLimit: 4, count: 3, initialDelay: "1m", fromStep: 1 }];
  edit(c);
  return c;
}

describe("validation of the step schedule", () => {
  it("accepts a schedule with limited, counted and bound metrics, and min == max", () => {
    assert.deepEqual(errors(scheduled()), []);
    assert.deepEqual(errors(scheduled((c) => (c.spec.analysis!.metrics![0] = { ...c.spec.analysis!.metrics![0]!, fromStep: undefined, steps: [0, 2] }))), []);
  });

  const cases: Array<[string, (c: Canary) => void, string]> = [
    ["a weight not above the previous", (c) => (c.spec.analysis!.steps![2]!.weight = 40), "spec.analysis.steps[2].weight: must be greater than the previous step's weight (40)"],
    ["a second step at weight 0", (c) => (c.spec.analysis!.steps![1]!.weight = 0), "spec.analysis.steps[1].weight: must be greater than the previous step's weight (20)"],
    ["a weight over 100", (c) => (c.spec.analysis!.steps![2]!.weight = 120), "spec.analysis.steps[2].weight: must be between 0 and 100"],
    ["a step without weight", (c) => delete (c.spec.analysis!.steps![0] as { weight?: number }).weight, "spec.analysis.steps[0].weight: is required"],
    ["a pause that is not a duration", (c) => (c.spec.analysis!.steps![0]!.pause = "soon"), "spec.analysis.steps[0].pause: "],
    ["steps beside stepWeight", (c) => (c.spec.analysis!.stepWeight = 10), "spec.analysis.steps: and stepWeight are mutually exclusive"],
    ["steps beside stepWeights", (c) => (c.spec.analysis!.stepWeights = [10, 20]), "spec.analysis.steps: and stepWeights are mutually exclusive"],
    ["an empty schedule", (c) => (c.spec.analysis!.steps = []), "spec.analysis.steps: must not be empty"],
    ["fromStep out of range", (c) => (c.spec.analysis!.metrics![0]!.fromStep = 3), "spec.analysis.metrics[0].fromStep: must be an index of analysis.steps (0 to 2)"],
    ["a step index out of range", (c) => (c.spec.analysis!.metrics![0] = { ...c.spec.analysis!.metrics![0]!, fromStep: undefined, steps: [1, 5] }), "spec.analysis.metrics[0].steps[1]: must be an index of analysis.steps (0 to 2)"],
    ["steps and fromStep together", (c) => (c.spec.analysis!.metrics![0]!.steps = [1]), "spec.analysis.metrics[0].steps: and fromStep are mutually exclusive"],
    ["a negative failureLimit", (c) => (c.spec.analysis!.metrics![0]!.failureLimit = -1), "spec.analysis.metrics[0].failureLimit: must be at least 0"],
    ["a fractional failureLimit", (c) => (c.spec.analysis!.metrics![0]!.failureLimit = 1.5), "spec.analysis.metrics[0].failureLimit: must be an integer"],
    ["a fractional consecutiveErrorLimit", (c) => (c.spec.analysis!.metrics![0]!.consecutiveErrorLimit = 0.5), "spec.analysis.metrics[0].consecutiveErrorLimit: must be an integer"],
    ["a count of 0", (c) => (c.spec.analysis!.metrics![0]!.count = 0), "spec.analysis.metrics[0].count: must be at least 1"],
    ["an initialDelay that is not a duration", (c) => (c.spec.analysis!.metrics![0]!.initialDelay = "later"), "spec.analysis.metrics[0].initialDelay: "],
  ];
  for (const [name, edit, expected] of cases) {
    it(`rejects ${name}, naming the field and the rule`, () => {
      const found = errors(scheduled(edit));
      assert.ok(found.some((e) => e.startsWith(expected)), `${expected}\n in ${found.join("\n")}`);
    });
  }

  it("rejects fromStep on a Canary without steps", () => {
    const c = nginxCanary();
    c.spec.analysis!.metrics = [{ name: "request-success-rate", thresholdRange: { min: 99 }, fromStep: 1 }];
    assert.deepEqual(errors(c), ["spec.analysis.metrics[0].fromStep: needs analysis.steps (a step index has nothing to point at)"]);
  });

  it("accepts failureLimit on a Flagger-style Canary, and warns that maxWeight is ignored beside steps", () => {
    const c = nginxCanary();
    c.spec.analysis!.metrics = [{ name: "request-success-rate", thresholdRange: { min: 99 }, failureLimit: 2, count: 4 }];
    assert.deepEqual(errors(c), []);
    assert.ok(warnings(scheduled((s) => (s.spec.analysis!.maxWeight = 50))).includes("spec.analysis.maxWeight: is ignored when steps is set; the last step's weight (60) is the maximum"));
    assert.deepEqual(warnings(scheduled((s) => (s.spec.analysis!.maxWeight = 60))), [], "the defaulted maxWeight is the last step's");
  });
});
