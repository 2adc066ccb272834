/**
 * What a conversion produces: plain aviary objects, plus the aviary-only analysis schedule
 * fields a converted Canary uses (documented in the README under "Coming from Argo
 * Rollouts"). Step indexes are 0-based positions in `spec.analysis.steps`.
 */
import type { CanaryMetric, CanarySpec, CanaryWebhook, MetricTemplateSpec } from "../api/types.ts";
import type { MetricProviderSpec } from "../metrics/types.ts";
import type { Obj } from "./fields.ts";

/** One entry of `spec.analysis.steps`: hold `weight` for `pause`, checks running every interval meanwhile. */
export interface ScheduleStep {
  weight: number;
  /** A duration (`3m`, `30s`, `0s`). */
  pause: string;
}

/** A Canary metric with Argo Rollouts' per-metric limits and its place in the schedule. */
export interface ScheduledMetric extends CanaryMetric {
  /** Failed measurements tolerated: the metric fails when its failures exceed this. */
  failureLimit?: number;
  /** Consecutive provider errors tolerated: the run fails when they exceed this. */
  consecutiveErrorLimit?: number;
  /** Measurements taken, `interval` apart; without it the metric is measured until the run ends. */
  count?: number;
  /** Wait this long after the metric's step starts before its first measurement. */
  initialDelay?: string;
  /** The metric applies from this step on. */
  fromStep?: number;
  /** The metric applies only at these steps. */
  steps?: number[];
}

export interface ConvertedAnalysis {
  interval: string;
  steps: ScheduleStep[];
  metrics?: ScheduledMetric[];
  webhooks?: CanaryWebhook[];
  mirror?: boolean;
  mirrorWeight?: number;
}

export interface ConvertedCanarySpec extends Omit<CanarySpec, "analysis"> {
  analysis: ConvertedAnalysis;
}

export interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Obj;
}

export interface ConvertedMetricTemplateSpec extends Omit<MetricTemplateSpec, "provider"> {
  provider: MetricProviderSpec;
}

/** One output object and the source object it was made from (for the output's comments). */
export interface OutputObject {
  manifest: KubeManifest;
  from: string;
}
