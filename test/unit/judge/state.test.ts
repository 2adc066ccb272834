import assert from "node:assert/strict";
import {
  DEFAULT_COMPARE,
  MAX_BOUNDARIES,
  judge,
  observeErrors,
  observeLatency,
  parseJudgeState,
  resumable,
  startErrorsTest,
  startLatencyTest,
} from "../../../src/judge/index.ts";
import type { JudgeState, LatencyWindowCounts } from "../../../src/judge/index.ts";
import { mixSeed, seededRandom } from "../../bench/judge/random.ts";
import { sampleWindow } from "./simulate.ts";

const BOUNDARIES = [25, 50, 100, 250, 500, 1000, 2500];

function latencyWindow(rand: () => number): LatencyWindowCounts {
  const arm = (requests: number) => {
    let above = requests;
    return { requests, slowerThan: BOUNDARIES.map(() => (above = Math.floor(above * (0.2 + 0.75 * rand())))) };
  };
  return { canary: arm(100 + Math.floor(rand() * 400)), primary: arm(1000 + Math.floor(rand() * 2000)) };
}

/** Observes window `i` of a seeded sequence into `state`. */
function step(state: JudgeState, seed: number, i: number): JudgeState {
  const rand = seededRandom(mixSeed(seed, i));
  if (state.kind === "errors") {
    const r = observeErrors(state, sampleWindow(rand, { requests: 2000, baseRate: 0.01, ratio: 1.4 }));
    assert.ok(r.ok);
    return r.state;
  }
  const r = observeLatency(state, latencyWindow(rand));
  assert.ok(r.ok, r.ok ? "" : r.problem);
  return r.state;
}

function throughJson(state: JudgeState): JudgeState {
  const parsed = parseJudgeState(JSON.parse(JSON.stringify(state)));
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.problem);
  return parsed.state;
}

describe("judge: state in the Canary's status", () => {
  const started = startLatencyTest(1.2, BOUNDARIES);
  assert.ok(started.ok);
  for (const [kind, fresh] of [
    ["5xx", startErrorsTest(1.2)],
    ["latency", started.state],
  ] as const) {
    it(`resumes a ${kind} test from its JSON exactly where an uninterrupted one is, window after window`, () => {
      let straight: JudgeState = fresh;
      let restarted: JudgeState = fresh;
      for (let i = 0; i < 12; i++) {
        straight = step(straight, 7, i);
        restarted = throughJson(step(restarted, 7, i)); // a restart after every check
        assert.deepEqual(restarted, straight);
        assert.deepEqual(judge(restarted, DEFAULT_COMPARE), judge(straight, DEFAULT_COMPARE));
      }
    });
  }

  it("stays small: a latency test over 16 boundaries is under 10 kB of JSON after a long run", () => {
    const boundaries = Array.from({ length: MAX_BOUNDARIES }, (_, i) => 5 * 2 ** i);
    const s = startLatencyTest(1.2, boundaries);
    assert.ok(s.ok);
    let state = s.state;
    for (let i = 0; i < 200; i++) {
      const rand = seededRandom(mixSeed(9, i));
      const arm = (requests: number) => ({ requests, slowerThan: boundaries.map((_, j) => Math.floor(requests * 0.9 ** (j + rand()))) });
      const r = observeLatency(state, { canary: arm(1234567), primary: arm(9876543) });
      assert.ok(r.ok);
      state = r.state;
    }
    assert.ok(JSON.stringify(state).length < 10_000, `${JSON.stringify(state).length} bytes`);
  });

  it("reads a state written before latency weights: 5xx as it was, latency with every boundary weighed evenly", () => {
    let errors: JudgeState = startErrorsTest(1.2);
    let latency: JudgeState = started.state;
    for (let i = 0; i < 3; i++) {
      errors = step(errors, 9, i);
      latency = step(latency, 9, i);
    }
    const old = (state: JudgeState) => {
      const json = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
      delete json.weights;
      return { ...json, version: 1 };
    };
    const readErrors = parseJudgeState(old(errors));
    assert.ok(readErrors.ok);
    assert.deepEqual(readErrors.state, errors);
    const readLatency = parseJudgeState(old(latency));
    assert.ok(readLatency.ok && readLatency.state.kind === "latency");
    assert.deepEqual(readLatency.state.weights, BOUNDARIES.map(() => 1 / BOUNDARIES.length));
    assert.equal(resumable(readLatency.state, 1.2, BOUNDARIES), true);
  });

  it("is resumed only with the same tolerance and boundaries", () => {
    const errors = startErrorsTest(1.2);
    assert.equal(resumable(errors, 1.2), true);
    assert.equal(resumable(errors, 1.5), false);
    assert.equal(resumable(errors, 1.2, BOUNDARIES), false);
    assert.equal(resumable(started.state, 1.2, BOUNDARIES), true);
    assert.equal(resumable(started.state, 1.2, [25, 50, 100]), false);
    assert.equal(resumable(started.state, 1.2), false);
  });

  it("reads back anything else as a problem naming the field, never an exception", () => {
    const good = JSON.parse(JSON.stringify(started.state)) as Record<string, unknown>;
    const cases: [unknown, string][] = [
      [null, "must be an object"],
      [[], "must be an object"],
      [{ ...good, version: 3 }, "version: must be 1 or 2"],
      [{ ...good, weights: [1] }, "weights: must be one number between 0 and 1 per boundary, summing to 1"],
      [{ ...good, weights: [0.5, 0.5, 0.5, 0, 0, 0, 0] }, "weights: must be one number between 0 and 1 per boundary, summing to 1"],
      [{ ...good, tolerance: 0.5 }, "tolerance: must be a number ≥ 1"],
      [{ ...good, kind: "p99" }, "kind: must be one of: errors, latency"],
      [{ ...good, boundariesMs: [50, 25] }, "boundariesMs: must be increasing positive numbers"],
      [{ ...good, boundariesMs: [] }, `boundariesMs: must be a list of 1 to ${MAX_BOUNDARIES} numbers`],
      [{ ...good, tests: [] }, "tests: must have one entry per boundary"],
      [{ ...good, tests: [...(good.tests as unknown[]).slice(1), { canary: { requests: 1, bad: 2 } }] }, "tests[6].canary.bad: must be an integer between 0 and requests"],
      [{ ...good, tests: [...(good.tests as unknown[]).slice(1), { canary: { requests: 1, bad: 0 }, primary: { requests: 1, bad: 0 }, logLikelihood: [1] }] }, "tests[6].logLikelihood: must be a list of 41 numbers"],
      [{ version: 2, kind: "errors", tolerance: 1.2, test: "x" }, "test: must be an object"],
    ];
    for (const [value, problem] of cases) assert.deepEqual(parseJudgeState(value), { ok: false, problem });
    const junk = [undefined, 0, "", "state", true, {}, { version: 2 }, { version: 2, tolerance: 2 }, { version: 2, tolerance: 2, kind: "errors" }];
    for (const value of junk) assert.equal(parseJudgeState(value).ok, false);
  });

  it("rejects impossible window counts and keeps the state it had", () => {
    const state = startErrorsTest(1.2);
    const bad = [
      [{ canary: { requests: -1, bad: 0 }, primary: { requests: 10, bad: 0 } }, "canary.requests: must be a finite number ≥ 0"],
      [{ canary: { requests: 10, bad: 11 }, primary: { requests: 10, bad: 0 } }, "canary.bad: must not exceed canary.requests"],
      [{ canary: { requests: 10, bad: 1 }, primary: { requests: NaN, bad: 0 } }, "primary.requests: must be a finite number ≥ 0"],
      [{ canary: { requests: 10, bad: 1 } }, "primary.requests: must be a finite number ≥ 0"],
    ] as const;
    for (const [window, problem] of bad) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      assert.deepEqual(observeErrors(state, window as any), { ok: false, problem });
    }
    assert.deepEqual(observeLatency(started.state, { canary: { requests: 10, slowerThan: [1] }, primary: { requests: 10, slowerThan: [1] } }), {
      ok: false,
      problem: "canary.slowerThan: must have one count per boundary (7)",
    });
    assert.deepEqual(startLatencyTest(1.2, [100, 100]), { ok: false, problem: "boundariesMs: must be increasing positive numbers" });
  });
});
