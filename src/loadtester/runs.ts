/**
 * The runs in progress. As with Flagger's load tester, a background run is keyed by canary
 * and command: the `rollout` hook is called at every analysis step with the same command,
 * and a call while that command is still running starts nothing. At most `maxRuns` run at
 * once; a call beyond that is refused, naming the bound.
 */
import { mapAddress } from "./address-map.ts";
import type { AddressMap } from "./address-map.ts";
import { scheduleWithin } from "./bounds.ts";
import type { LoadLimits, RunSchedule } from "./bounds.ts";
import type { Clock } from "./clock.ts";
import type { WebhookTask } from "./command.ts";
import { createGrpcHealthSender, HEALTH_CHECK_PATH } from "./grpc-health.ts";
import { createHttpSender } from "./http-sender.ts";
import type { LoadTesterMetrics, RunMode } from "./metrics.ts";
import type { LoadPlan } from "./plan.ts";
import { runLoad } from "./run.ts";
import type { Send } from "./run.ts";
import { RunStats } from "./stats.ts";
import type { RunTotals } from "./stats.ts";
import { checkTarget } from "./targets.ts";
import type { TargetPolicy } from "./targets.ts";
import type { Logger } from "../observability/logger.ts";

export interface RunReport extends RunTotals {
  id: number;
  /** `name.namespace` of the Canary that asked. */
  canary: string;
  cmd: string;
  mode: RunMode;
  tool: LoadPlan["tool"];
  /** Where the requests went (URL without query, or host:port). */
  target: string;
  schedule: { concurrency: number; ratePerSecond: number; durationMs: number };
  elapsedMs: number;
  /** Stopped before its schedule ended (the service closing, or a blocking caller gone). */
  cancelled: boolean;
}

/** Refused because `maxRuns` runs are in progress. */
export class TooManyRunsError extends Error {
  constructor(limit: number) {
    super(`${limit} load-test runs are already in progress, the bound on concurrent runs (--max-runs); try again when one ends`);
    this.name = "TooManyRunsError";
  }
}

export interface LoadRunsOptions {
  limits: LoadLimits;
  policy: TargetPolicy;
  clock: Clock;
  logger: Logger;
  metrics: LoadTesterMetrics;
  /** Makes the latency sample of each run reproducible. */
  seed?: number;
  /** Service addresses played by local ones (address-map.ts); empty inside a cluster. */
  addressMap?: AddressMap;
}

interface ActiveRun {
  id: number;
  canary: string;
  cmd: string;
  mode: RunMode;
  stop: AbortController;
  done: Promise<RunReport>;
}

export type StartResult = { started: true; id: number; report: Promise<RunReport> } | { started: false; id: number; reason: "already running" };

export class LoadRuns {
  private readonly active = new Map<number, ActiveRun>();
  private nextId = 1;
  private readonly opts: LoadRunsOptions;

  constructor(opts: LoadRunsOptions) {
    this.opts = opts;
  }

  /** Checks a task against the bounds and the target policy; throws CommandRefusedError naming what is wrong. */
  validate(task: WebhookTask): RunSchedule {
    checkTarget(task.plan.host, this.opts.policy);
    return scheduleWithin(task.plan, this.opts.limits);
  }

  /**
   * Starts a task (background, or blocking when `task.blocking`); `cancel` stops it early.
   * A background task whose canary and command are already running is not started again.
   */
  start(task: WebhookTask, canary: string, cancel?: AbortSignal): StartResult {
    const mode: RunMode = task.blocking ? "blocking" : "background";
    const schedule = this.validate(task);
    if (mode === "background") {
      const running = [...this.active.values()].find((r) => r.mode === "background" && r.canary === canary && r.cmd === task.cmd);
      if (running !== undefined) {
        this.opts.metrics.run(mode, "deduplicated");
        this.opts.logger.info("command already running", { canary, cmd: task.cmd, run: running.id });
        return { started: false, id: running.id, reason: "already running" };
      }
    }
    if (this.active.size >= this.opts.limits.maxRuns) {
      this.opts.metrics.run(mode, "busy");
      throw new TooManyRunsError(this.opts.limits.maxRuns);
    }
    const id = this.nextId++;
    const stop = new AbortController();
    if (cancel !== undefined) {
      if (cancel.aborted) stop.abort();
      else cancel.addEventListener("abort", () => stop.abort(), { once: true });
    }
    // execute() first awaits the run, so the entry below is in place before its `finally` removes it.
    const done = this.execute(id, task, canary, mode, schedule, stop.signal).finally(() => {
      this.active.delete(id);
      this.opts.metrics.setActive(this.active.size);
    });
    this.active.set(id, { id, canary, cmd: task.cmd, mode, stop, done });
    this.opts.metrics.setActive(this.active.size);
    return { started: true, id, report: done };
  }

  /** Counts a call refused before it became a run (bad payload, command or bound). */
  noteRefused(): void {
    this.opts.metrics.run("none", "refused");
  }

  /** Runs in progress, for /runs. */
  list(): Array<{ id: number; mode: RunMode; canary: string; cmd: string }> {
    return [...this.active.values()].map((r) => ({ id: r.id, mode: r.mode, canary: r.canary, cmd: r.cmd }));
  }

  get size(): number {
    return this.active.size;
  }

  /** Stops every run and waits for each to wind down. */
  async stopAll(): Promise<void> {
    const runs = [...this.active.values()];
    for (const r of runs) r.stop.abort();
    await Promise.allSettled(runs.map((r) => r.done));
  }

  private async execute(id: number, task: WebhookTask, canary: string, mode: RunMode, schedule: RunSchedule, signal: AbortSignal): Promise<RunReport> {
    const { plan } = task;
    const { clock, metrics } = this.opts;
    const logger = this.opts.logger.child({ run: id, canary, mode });
    const sender = senderFor(mapAddress(plan, this.opts.addressMap ?? {}), schedule);
    const stats = new RunStats({ seed: this.opts.seed ?? id });
    const began = clock.now();
    logger.info("load run starting", { cmd: task.cmd, concurrency: schedule.concurrency, ratePerSecond: schedule.ratePerSecond, durationMs: schedule.durationMs });
    try {
      await runLoad({
        schedule,
        send: sender.send,
        clock,
        signal,
        observe: (result, latencyMs) => {
          stats.record(result.outcome, latencyMs, result.code);
          metrics.request(plan.tool, result.outcome, latencyMs / 1000);
        },
      });
    } finally {
      sender.close();
    }
    const report: RunReport = {
      id,
      canary,
      cmd: task.cmd,
      mode,
      tool: plan.tool,
      target: describeTarget(plan),
      schedule: { concurrency: schedule.concurrency, ratePerSecond: schedule.ratePerSecond, durationMs: schedule.durationMs },
      elapsedMs: Math.round(clock.now() - began),
      cancelled: signal.aborted,
      ...stats.totals(),
    };
    metrics.run(mode, report.cancelled ? "cancelled" : "completed");
    const summary = { requests: report.requests, succeeded: report.succeeded, errors: report.errors, latencyMs: report.latencyMs, cancelled: report.cancelled };
    if (task.logOutput) logger.info("load run finished", { ...summary, codes: report.codes });
    else logger.info("load run finished", summary);
    return report;
  }
}

/** hey sends HTTP requests, ghz gRPC health checks. */
function senderFor(plan: LoadPlan, schedule: RunSchedule): { send: Send; close(): void } {
  return plan.target.kind === "http" ? createHttpSender(plan.target, schedule.concurrency) : createGrpcHealthSender(plan.target);
}

function describeTarget(plan: LoadPlan): string {
  if (plan.target.kind === "grpc-health") return `${plan.target.authority}${HEALTH_CHECK_PATH}`;
  const u = plan.target.url;
  return `${u.protocol}//${u.host}${u.pathname}`;
}
