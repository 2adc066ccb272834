/**
 * The history of one Canary's runs, built from what the dashboard sees: every version of the
 * Canary from the watch (weights and status.lastAnalysis, accumulated since the server
 * started: each check's value, and for a metric with `compare` the judge's evidence), seeded from the Canary's Events for what happened before (NewRevision,
 * WeightAdvanced, Promoted, RolledBack). Pure: versions and events come in with their times.
 *
 * Live versions are precise (observed as they happen); events carry second-precision
 * times, so they only fill in the time before the server started, and after that lend the
 * run its verdict sentence.
 */
import type { AnalysisResult, Canary, CanaryPhase } from "../api/types.ts";
import type { CheckSeries, ComparisonSeries, RunHistory, RunOutcome, TimelineEvent, WeightPoint } from "./model.ts";

const RUN_PHASES: ReadonlySet<CanaryPhase> = new Set(["Waiting", "Progressing", "WaitingPromotion", "Promoting", "Finalising"]);
const OUTCOMES: ReadonlySet<string> = new Set(["Succeeded", "Failed"]);

export interface HistoryOptions {
  /** When the server started watching (ms): events before it seed, versions after it are live. */
  since: number;
  /** Runs kept (default 2: the current run and the one before). */
  maxRuns?: number;
  /** Points kept per series (default 2000); the oldest go first. */
  maxPoints?: number;
}

export interface CanaryHistory {
  /** Takes one version of the Canary seen at `at` (ms); true when the history changed. */
  observe(canary: Canary, at: number): boolean;
  /** Takes one of the Canary's Events; true when the history changed. */
  applyEvent(event: TimelineEvent): boolean;
  runs(): RunHistory[];
}

interface LiveRun extends RunHistory {
  /** Opened by the first version seen, in the middle of (or after) a run that began before. */
  firstLook: boolean;
}

const NEW_REVISION = /new revision (\S+)/;
const CANARY_STEP = /canary weight (\d+)% -> (\d+)%/;
const PRIMARY_STEP = /primary weight (\d+)% -> (\d+)%/;
const REVISION_IN = /revision (\S+?)[:\s]/;

/** The metrics the judge compares with the primary (`compare` set). */
function comparedMetricNames(canary: Canary): Set<string> {
  return new Set((canary.spec?.analysis?.metrics ?? []).filter((m) => m.compare != null).map((m) => m.name));
}

export function createCanaryHistory(opts: HistoryOptions): CanaryHistory {
  const maxRuns = opts.maxRuns ?? 2;
  const maxPoints = opts.maxPoints ?? 2000;
  const seeded: RunHistory[] = [];
  const live: LiveRun[] = [];
  let looked = false;
  /** Event names already applied (an Event is updated in place when it repeats). */
  const applied = new Set<string>();

  const trim = <T>(list: T[], max: number) => {
    if (list.length > max) list.splice(0, list.length - max);
  };

  const addWeight = (run: RunHistory, point: WeightPoint): boolean => {
    const last = run.weights.at(-1);
    if (last && last.canary === point.canary) return false;
    run.weights.push(point);
    trim(run.weights, maxPoints);
    return true;
  };

  const addChecks = (run: RunHistory, canary: Canary): boolean => {
    let changed = false;
    const compared = comparedMetricNames(canary);
    const judge = canary.status?.judge;
    const windows = judge !== undefined && judge.revision === canary.status?.canaryRevision ? judge.metrics : {};
    for (const result of canary.status?.lastAnalysis ?? []) {
      const t = Date.parse(result.time);
      // Results from before this run began belong to the run before.
      if (!Number.isFinite(t) || t < run.startedAt - 1000) continue;
      const judged = result.kind === "metric" && (result.judge !== undefined || compared.has(result.name));
      if (judged) changed = addComparison(run, result, t, windows[result.name]?.windows) || changed;
      // A metric with only `compare` has no value and no range: the comparison is all there is.
      if (judged && result.value === undefined && result.min === undefined && result.max === undefined) continue;
      let series = run.checks.find((c) => c.name === result.name && c.kind === result.kind);
      if (!series) {
        series = { name: result.name, kind: result.kind, points: [] } satisfies CheckSeries;
        run.checks.push(series);
      }
      if (series.points.some((p) => p.t === t)) continue;
      series.points.push({
        t,
        ...(result.value !== undefined ? { value: result.value } : {}),
        ...(result.min !== undefined ? { min: result.min } : {}),
        ...(result.max !== undefined ? { max: result.max } : {}),
        verdict: result.verdict,
        message: result.message,
      });
      series.points.sort((a, b) => a.t - b.t);
      trim(series.points, maxPoints);
      changed = true;
    }
    return changed;
  };

  const addComparison = (run: RunHistory, result: AnalysisResult, t: number, windows: number | undefined): boolean => {
    let series = run.comparisons.find((c) => c.name === result.name);
    if (!series) {
      series = { name: result.name, points: [] } satisfies ComparisonSeries;
      run.comparisons.push(series);
    }
    if (series.points.some((p) => p.t === t)) return false;
    series.points.push({
      t,
      verdict: result.verdict,
      message: result.judge?.sentence ?? result.message,
      ...(result.judge !== undefined ? { evidence: { ...result.judge } } : {}),
      ...(windows !== undefined ? { windows } : {}),
    });
    series.points.sort((a, b) => a.t - b.t);
    trim(series.points, maxPoints);
    return true;
  };

  const endRun = (run: RunHistory, at: number, outcome: RunOutcome | undefined, verdict: string | undefined) => {
    run.endedAt = at;
    if (outcome) run.outcome = outcome;
    if (verdict && !run.verdict) run.verdict = verdict;
  };

  const observe = (canary: Canary, at: number): boolean => {
    const status = canary.status ?? {};
    const phase = status.phase;
    const revision = status.canaryRevision ?? status.lastAppliedSpec;
    const message = status.conditions?.find((c) => c.type === "Promoted")?.message;
    const first = !looked;
    looked = true;
    let current = live.at(-1);
    if (current?.endedAt !== undefined) current = undefined;
    let changed = false;

    if (phase !== undefined && RUN_PHASES.has(phase)) {
      if (current && current.revision !== undefined && revision !== undefined && current.revision !== revision) {
        endRun(current, at, undefined, `superseded by revision ${revision}`);
        current = undefined;
      }
      if (!current) {
        const began = first && status.analysisStartedAt ? Date.parse(status.analysisStartedAt) : NaN;
        current = { revision, startedAt: Number.isFinite(began) ? began : at, weights: [], checks: [], comparisons: [], firstLook: first };
        live.push(current);
        trim(live, maxRuns + 1);
        if (!first) addWeight(current, { t: at, canary: 0, primary: 100 });
        changed = true;
      }
      const weight = status.canaryWeight ?? 0;
      changed = addWeight(current, { t: at, canary: weight, primary: 100 - weight }) || changed;
      changed = addChecks(current, canary) || changed;
      return changed;
    }

    if (phase !== undefined && OUTCOMES.has(phase)) {
      if (current) {
        addChecks(current, canary);
        addWeight(current, { t: at, canary: 0, primary: 100 });
        endRun(current, at, phase as RunOutcome, message);
        return true;
      }
      if (first && (status.lastAnalysis?.length ?? 0) > 0) {
        // Settled before the server started: keep the last analysis as that run's checks.
        const times = (status.lastAnalysis ?? []).map((r) => Date.parse(r.time)).filter(Number.isFinite);
        const began = status.analysisStartedAt ? Date.parse(status.analysisStartedAt) : Math.min(...times);
        const ended = status.lastTransitionTime ? Date.parse(status.lastTransitionTime) : Math.max(...times);
        const run: LiveRun = { revision, startedAt: Number.isFinite(began) ? began : at, weights: [], checks: [], comparisons: [], firstLook: true };
        addChecks(run, canary);
        endRun(run, Number.isFinite(ended) ? ended : at, phase as RunOutcome, message);
        live.push(run);
        return true;
      }
    }
    return changed;
  };

  const applyEvent = (event: TimelineEvent): boolean => {
    const t = Date.parse(event.time);
    if (!Number.isFinite(t)) return false;
    const id = `${event.reason}\u0000${event.message}\u0000${event.time}`;
    if (applied.has(id)) return false;
    applied.add(id);
    if (applied.size > 4 * maxPoints) applied.clear();

    if (t >= opts.since) {
      // After start the versions tell the story; an ending event adds its sentence.
      if (event.reason === "Promoted" || event.reason === "RolledBack") {
        const run = [...live].reverse().find((r) => r.startedAt <= t + 2000);
        if (run) {
          run.verdict = event.message;
          return true;
        }
      }
      return false;
    }

    const open = seeded.at(-1)?.endedAt === undefined ? seeded.at(-1) : undefined;
    switch (event.reason) {
      case "NewRevision":
      case "Retrying": {
        if (open) endRun(open, t, undefined, undefined);
        const revision = NEW_REVISION.exec(event.message)?.[1] ?? REVISION_IN.exec(event.message)?.[1];
        seeded.push({ revision, startedAt: t, weights: [{ t, canary: 0, primary: 100 }], checks: [], comparisons: [] });
        trim(seeded, maxRuns);
        return true;
      }
      case "WeightAdvanced": {
        if (!open) return false;
        const canaryStep = CANARY_STEP.exec(event.message);
        const primaryStep = PRIMARY_STEP.exec(event.message);
        const canary = canaryStep ? Number(canaryStep[2]) : primaryStep ? 100 - Number(primaryStep[2]) : undefined;
        return canary !== undefined && addWeight(open, { t, canary, primary: 100 - canary });
      }
      case "Promoted":
      case "RolledBack": {
        if (!open) return false;
        addWeight(open, { t, canary: 0, primary: 100 });
        endRun(open, t, event.reason === "Promoted" ? "Succeeded" : "Failed", event.message);
        return true;
      }
      default:
        return false;
    }
  };

  const runs = (): RunHistory[] => {
    const all: RunHistory[] = [...seeded];
    for (const run of live) {
      const last = all.at(-1);
      const sameRun = run.firstLook && last !== undefined && (run.revision === undefined || last.revision === undefined || run.revision === last.revision);
      if (sameRun) {
        const firstLive = run.weights[0]?.t ?? Number.POSITIVE_INFINITY;
        all[all.length - 1] = {
          revision: run.revision ?? last.revision,
          startedAt: Math.min(last.startedAt, run.startedAt),
          ...(run.endedAt !== undefined || last.endedAt !== undefined ? { endedAt: run.endedAt ?? last.endedAt } : {}),
          ...(run.outcome ?? last.outcome ? { outcome: (run.outcome ?? last.outcome)! } : {}),
          ...(run.verdict ?? last.verdict ? { verdict: (run.verdict ?? last.verdict)! } : {}),
          weights: [...last.weights.filter((w) => w.t < firstLive), ...run.weights].filter((w, i, all) => i === 0 || all[i - 1]!.canary !== w.canary),
          checks: run.checks,
          comparisons: run.comparisons,
        };
      } else {
        const { firstLook: _internal, ...plain } = run;
        all.push(plain);
      }
    }
    return all.slice(-maxRuns).map((r) => structuredClone(r));
  };

  return { observe, applyEvent, runs };
}
