/**
 * aviary's step schedule (`spec.analysis.steps`) and the per-metric fields that go with it
 * (failureLimit, consecutiveErrorLimit, count, initialDelay, fromStep, steps). A Canary
 * without them is a Flagger Canary and is checked by analysis.ts alone.
 */
import type { Fields } from "./problems.ts";

/** Each step's weight 0..100 and greater than the previous (so only the first can hold no traffic); pause a duration. Returns the step count. */
export function checkSteps(a: Fields): number | undefined {
  const steps = a.objects("steps");
  if (steps === undefined) return undefined;
  if (steps.length === 0) {
    a.problems.error(a.at("steps"), "must not be empty");
    return 0;
  }
  for (const other of ["stepWeight", "stepWeights", "iterations"] as const) {
    if (a.has(other)) a.problems.error(a.at("steps"), `and ${other} are mutually exclusive: steps replaces stepWeight, stepWeights and maxWeight`);
  }
  let previous: number | undefined;
  for (const step of steps) {
    const weight = step.integer("weight", { required: true, min: 0, max: 100 });
    step.duration("pause");
    if (weight !== undefined && previous !== undefined && weight <= previous) {
      step.problems.error(step.at("weight"), `must be greater than the previous step's weight (${previous})`);
    }
    if (weight !== undefined) previous = weight;
  }
  // Defaults write the last step's weight into maxWeight; any other value is ignored.
  const maxWeight = a.value.maxWeight;
  if (maxWeight !== undefined && maxWeight !== previous) {
    a.problems.warn(a.at("maxWeight"), `is ignored when steps is set; the last step's weight (${String(previous)}) is the maximum`);
  }
  return steps.length;
}

/** The scheduling fields of one metric; `stepCount` is undefined when the Canary has no steps. */
export function checkMetricSchedule(m: Fields, stepCount: number | undefined): void {
  m.integer("failureLimit", { min: 0 });
  m.integer("consecutiveErrorLimit", { min: 0 });
  m.integer("count", { min: 1 });
  m.duration("initialDelay");
  const inRange = (at: string, index: number): void => {
    if (stepCount !== undefined && index >= stepCount) {
      m.problems.error(at, `must be an index of analysis.steps (0 to ${stepCount - 1})`);
    }
  };
  const fromStep = m.integer("fromStep", { min: 0 });
  if (fromStep !== undefined) inRange(m.at("fromStep"), fromStep);
  const list = m.array("steps");
  if (list !== undefined) {
    if (list.length === 0) m.problems.error(m.at("steps"), "must not be empty");
    list.forEach((v, i) => {
      const at = `${m.at("steps")}[${i}]`;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) m.problems.error(at, "must be an integer of at least 0");
      else inRange(at, v);
    });
    if (m.has("fromStep")) m.problems.error(m.at("steps"), "and fromStep are mutually exclusive");
  }
  if (stepCount === undefined) {
    for (const field of ["fromStep", "steps"]) {
      if (m.has(field)) m.problems.error(m.at(field), "needs analysis.steps (a step index has nothing to point at)");
    }
  }
}
