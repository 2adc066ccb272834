/**
 * Decision quality of the judge against Flagger-style fixed thresholds, by seeded
 * simulation (no cluster, no I/O): for each scenario and decider, the share of runs rolled
 * back, how fast, and the share promoted or held.
 *
 *   npm run bench -- judge                (AVIARY_BENCH_RUNS=500 per scenario and decider)
 *
 * Prints a table, then the same figures as JSON. Targets for the judge: false rollbacks
 * ≤ 1% in a, b and e; ≥ 95% rolled back within 3 checks in c and d. It measures and does
 * not assert. The seed is fixed so that a run reproduces; it is never chosen by result.
 */
import { availableParallelism, loadavg } from "node:os";
import { DEFAULT_COMPARE } from "../../src/judge/index.ts";
import type { DeciderKind } from "./judge/deciders.ts";
import { fixedThresholds, judgeDecider } from "./judge/deciders.ts";
import { ceilings } from "./judge/ceiling.ts";
import { mixSeed } from "./judge/random.ts";
import type { RunResult } from "./judge/simulate.ts";
import { MAX_CHECKS, simulateRun } from "./judge/simulate.ts";
import { SCENARIOS, SLICE_SECONDS } from "./judge/traffic.ts";

const RUNS = Number(process.env.AVIARY_BENCH_RUNS ?? 500);
const SEED = 20221;

const DECIDERS: DeciderKind[] = [
  fixedThresholds(1, 2),
  fixedThresholds(2, 5),
  judgeDecider(DEFAULT_COMPARE),
  judgeDecider({ ...DEFAULT_COMPARE, tolerance: 1.1 }),
  judgeDecider({ ...DEFAULT_COMPARE, tolerance: 1 }),
];

interface Row {
  scenario: string;
  decider: string;
  runs: number;
  rolledBack: number;
  rolledBackWithin3: number;
  rolledBackWithin5: number;
  medianChecksToRollback: number | null;
  medianSecondsToRollback: number | null;
  promoted: number;
  held: number;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const started = performance.now();
const rows: Row[] = [];
SCENARIOS.forEach((scenario, si) => {
  DECIDERS.forEach((decider, di) => {
    const results: RunResult[] = [];
    for (let run = 0; run < RUNS; run++) results.push(simulateRun(scenario, decider, mixSeed(SEED, si, di, run)));
    const rollbacks = results.filter((r) => r.result === "rolledBack").map((r) => r.checks);
    const med = median(rollbacks);
    rows.push({
      scenario: `${scenario.key}) ${scenario.title}`,
      decider: decider.name,
      runs: RUNS,
      rolledBack: rollbacks.length / RUNS,
      rolledBackWithin3: rollbacks.filter((c) => c <= 3).length / RUNS,
      rolledBackWithin5: rollbacks.filter((c) => c <= 5).length / RUNS,
      medianChecksToRollback: med,
      medianSecondsToRollback: med === null ? null : med * decider.intervalSlices * SLICE_SECONDS,
      promoted: results.filter((r) => r.result === "promoted").length / RUNS,
      held: results.filter((r) => r.result === "held").length / RUNS,
    });
  });
});
// The bar for scenario (c): what a test told the true ratio (5, i.e. 2.5% against 0.5%) could do.
const regression = SCENARIOS.find((s) => s.key === "c")!;
const ceilingRows = ceilings(
  regression,
  5,
  [DEFAULT_COMPARE.tolerance, 1.1, 1],
  1 - DEFAULT_COMPARE.confidence,
  Array.from({ length: RUNS }, (_, run) => mixSeed(SEED, 99, run)),
);
const seconds = (performance.now() - started) / 1000;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const header = ["scenario", "decider", "rolled back", "within 3 checks", "within 5 checks", "median checks to rollback (s)", "promoted", `held ${MAX_CHECKS} checks`];
const table = rows.map((r) => [
  r.scenario,
  r.decider,
  pct(r.rolledBack),
  pct(r.rolledBackWithin3),
  pct(r.rolledBackWithin5),
  r.medianChecksToRollback === null ? "–" : `${r.medianChecksToRollback} (${r.medianSecondsToRollback}s)`,
  pct(r.promoted),
  pct(r.held),
]);
console.log(`| ${header.join(" | ")} |`);
console.log(`| ${header.map(() => "---").join(" | ")} |`);
for (const line of table) console.log(`| ${line.join(" | ")} |`);
console.log(`\nThe bar in ${regression.key}) ${regression.title}: rolled back within 3 checks by a test told the true ratio (5), at 99%`);
console.log("| tolerance | judge | sequential, looked at every check | one look at the third check (not anytime-valid) |");
console.log("| --- | --- | --- | --- |");
for (const c of ceilingRows) {
  const judged = rows.find((r) => r.scenario.startsWith(`${regression.key})`) && r.decider === judgeDecider({ ...DEFAULT_COMPARE, tolerance: c.tolerance }).name);
  console.log(`| ${c.tolerance} | ${judged ? pct(judged.rolledBackWithin3) : "–"} | ${pct(c.sequentialWithin3)} | ${pct(c.oneLookAt3)} |`);
}
console.log(
  `\n${RUNS} runs per scenario and decider in ${seconds.toFixed(1)} s (${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)})`,
);
console.log(JSON.stringify({ runs: RUNS, seed: SEED, seconds: Number(seconds.toFixed(1)), rows, ceilings: { scenario: regression.key, trueRatio: 5, rows: ceilingRows } }, null, 2));
