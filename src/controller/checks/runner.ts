/**
 * Answers the checks the plan asks for (`Plan.kind === "need"`): gates and hooks are the
 * Canary's webhooks of that type, an analysis round is the rollout webhooks plus every
 * metric. The plan decides what the answers mean; this module only measures.
 */
import type { AnalysisResult, Canary, CanaryPhase, WebhookType } from "../../api/types.ts";
import { summarizeAnalysis } from "../../metrics/evaluate.ts";
import { runAnalysisMetrics } from "../../metrics/compare.ts";
import type { MetricCheckDeps } from "../../metrics/evaluate.ts";
import type { CheckKind, CheckOutcome } from "../canary/planner/plan.ts";
import { allPassed, runWebhooks, webhooksOfType } from "./webhooks.ts";
import type { CallOptions } from "./webhooks.ts";

export interface CheckRunnerDeps {
  metrics: MetricCheckDeps;
  /** Backoff between webhook retries (tests shorten it). */
  backoffMs?: CallOptions["backoffMs"];
  now?: () => Date;
}

export interface CheckContext {
  canary: Canary;
  /** The revision under analysis: Flagger's `checksum` in webhook payloads. */
  revision: string;
  phase: CanaryPhase;
  signal: AbortSignal;
  /** The analysis measures only these metrics (by name); absent, every metric. */
  metrics?: readonly string[];
}

/** The Canary with only the named metrics, for an analysis round that measures a few. */
function withMetrics(canary: Canary, names: readonly string[] | undefined): Canary {
  const analysis = canary.spec.analysis;
  if (names === undefined || analysis === undefined) return canary;
  const metrics = (analysis.metrics ?? []).filter((m) => names.includes(m.name));
  return { ...canary, spec: { ...canary.spec, analysis: { ...analysis, metrics } } };
}

export interface CheckRunner {
  run(kinds: readonly CheckKind[], ctx: CheckContext): Promise<Partial<Record<CheckKind, CheckOutcome>>>;
  /** Fire-and-forget hooks (post-rollout, rollback, event); results are returned for logging. */
  notify(type: WebhookType, ctx: CheckContext, extraMetadata?: Record<string, string>): Promise<AnalysisResult[]>;
}

export function createCheckRunner(deps: CheckRunnerDeps): CheckRunner {
  const hooks = (type: WebhookType, ctx: CheckContext, extraMetadata?: Record<string, string>) =>
    runWebhooks(ctx.canary, type, {
      signal: ctx.signal,
      checksum: ctx.revision,
      phase: ctx.phase,
      ...(deps.backoffMs ? { backoffMs: deps.backoffMs } : {}),
      ...(deps.now ? { now: deps.now } : {}),
      ...(extraMetadata ? { extraMetadata } : {}),
    });

  const gate = async (type: WebhookType, ctx: CheckContext): Promise<CheckOutcome> => {
    const results = await hooks(type, ctx);
    return { ok: allPassed(results), results };
  };

  const analysis = async (ctx: CheckContext): Promise<CheckOutcome> => {
    const [webhookResults, round] = await Promise.all([
      hooks("rollout", ctx),
      runAnalysisMetrics(withMetrics(ctx.canary, ctx.metrics), deps.metrics, ctx.signal),
    ]);
    const results = [...round.results, ...webhookResults];
    const summary = summarizeAnalysis(results);
    const judge = round.judge === undefined ? {} : { judge: round.judge };
    if (summary.outcome === "error") return { ok: false, halted: summary.message, results, ...judge };
    return { ok: summary.outcome === "pass", results, ...judge };
  };

  // A rollback hook answering 2xx *asks* for a rollback (Flagger's manual rollback gate).
  const rollback = async (ctx: CheckContext): Promise<CheckOutcome> => {
    if (webhooksOfType(ctx.canary, "rollback").length === 0) return { ok: false, results: [] };
    const results = await hooks("rollback", ctx);
    return { ok: results.some((r) => r.verdict === "pass"), results };
  };

  return {
    async run(kinds, ctx) {
      const answers: Partial<Record<CheckKind, CheckOutcome>> = {};
      for (const kind of kinds) {
        switch (kind) {
          case "analysis":
            answers[kind] = await analysis(ctx);
            break;
          case "rollback":
            answers[kind] = await rollback(ctx);
            break;
          default:
            answers[kind] = await gate(kind, ctx);
        }
      }
      return answers;
    },
    notify: hooks,
  };
}
