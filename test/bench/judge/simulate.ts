/**
 * One simulated canary run under one decider: weights 10, 20, 30, 40, 50 (one step per
 * passing check), promotion after the check at 50% passes. Every decider gets at most
 * MAX_CHECKS checks of its own interval; a run still going then ends "held" (neither
 * promoted nor rolled back). Fixed-threshold deciders always finish before that (5 passes
 * plus at most threshold − 1 failures); only the judge holds, and only on insufficient data.
 */
import type { DeciderKind } from "./deciders.ts";
import { seededRandom } from "./random.ts";
import type { Scenario } from "./traffic.ts";
import { SLICE_SECONDS, driftFactor, emptyArmWindow, sampleSlice } from "./traffic.ts";

export const WEIGHTS = [10, 20, 30, 40, 50] as const;
export const MAX_CHECKS = 10;

export interface RunResult {
  result: "promoted" | "rolledBack" | "held";
  /** Checks made until the decision (MAX_CHECKS when held). */
  checks: number;
}

export function simulateRun(scenario: Scenario, decider: DeciderKind, seed: number): RunResult {
  const rand = seededRandom(seed);
  const phase = rand() * 2 * Math.PI;
  const run = decider.start();
  let step = 0;
  let slice = 0;
  for (let checks = 1; checks <= MAX_CHECKS; checks++) {
    const weight = WEIGHTS[step]! / 100;
    const canary = emptyArmWindow();
    const primary = emptyArmWindow();
    for (let i = 0; i < decider.intervalSlices; i++, slice++) {
      const expected = scenario.requestsPerSecond * driftFactor(phase, slice) * SLICE_SECONDS;
      sampleSlice(rand, canary, expected * weight, scenario.arm("canary", slice));
      sampleSlice(rand, primary, expected * (1 - weight), scenario.arm("primary", slice));
    }
    const outcome = run.check(canary, primary);
    if (outcome === "rollback") return { result: "rolledBack", checks };
    if (outcome === "advance") {
      step++;
      if (step === WEIGHTS.length) return { result: "promoted", checks };
    }
  }
  return { result: "held", checks: MAX_CHECKS };
}
