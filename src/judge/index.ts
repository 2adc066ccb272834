/**
 * The judge: canary-versus-primary verdicts with anytime-valid statistics. Pure functions
 * on plain JSON; no I/O. Per check, per metric:
 *
 *   state = saved && resumable(saved, tol) ? saved : startErrorsTest(tol)   (or startLatencyTest)
 *   state = observeErrors(state, {canary: {requests, bad}, primary: {...}})   (ok, or a problem)
 *   verdict = judge(state, spec)   → regression | no-regression-yet | insufficient-data
 *   status ← state (plain JSON); after a restart parseJudgeState(status) resumes it
 *
 * Method: Lindon, Sanden, Shirikian, "Rapid Regression Detection in Software Deployments
 * through Sequential Testing" (KDD 2022); Lindon & Malek, "Anytime-Valid Inference for
 * Multinomial Count Data" (NeurIPS 2022).
 */
export type { ArmCounts, CompareSpec, LatencyWindowCounts, RatioEvidence, RatioInterval, Verdict, VerdictOutcome, WindowCounts } from "./types.ts";
export { DEFAULT_COMPARE } from "./types.ts";
export type { ErrorsJudgeState, JudgeState, LatencyJudgeState, Observed } from "./state.ts";
export { JUDGE_STATE_VERSION, MAX_BOUNDARIES, boundariesProblem, observeErrors, observeLatency, parseJudgeState, resumable, startErrorsTest, startLatencyTest } from "./state.ts";
export { judge, rateRatio } from "./verdict.ts";
export type { CompareProblem } from "./validate.ts";
export { parseCompareSpec, validateCompareSpec } from "./validate.ts";
