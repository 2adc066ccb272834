/**
 * What `aviary status` (without -w) and `aviary get` print for Canaries. Pure: objects and
 * the current time in, text out.
 */
import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY, CONDITION_UNSUPPORTED } from "../api/types.ts";
import type { Canary } from "../api/types.ts";
import { ageOf, formatClock, formatFields, formatTable, weightBar } from "./format.ts";
import { phaseLabel, progressOf } from "./progress.ts";
import { metricTallies, scheduleText, stepCell, stepLabel, stepProgress } from "./schedule.ts";

export interface ReportOptions {
  bar: boolean;
}

/** Requests written by promote/abort/retry that the controller has not acted on yet. */
export function pendingRequests(canary: Canary): string[] {
  const a = canary.metadata.annotations ?? {};
  const pending: string[] = [];
  if (a[ANNOTATION_PROMOTE] !== undefined) pending.push(`promote (${ANNOTATION_PROMOTE}=${a[ANNOTATION_PROMOTE]})`);
  if (a[ANNOTATION_ABORT] !== undefined) pending.push(`abort (${ANNOTATION_ABORT}=${a[ANNOTATION_ABORT]})`);
  if (a[ANNOTATION_RETRY] !== undefined) pending.push(`retry (${ANNOTATION_RETRY}=${a[ANNOTATION_RETRY]})`);
  return pending;
}

/** The detailed state of one Canary, one `Field: value` per line, then the last analysis. */
export function statusReport(canary: Canary, now: Date, opts: ReportOptions): string {
  const p = progressOf(canary, now);
  const status = canary.status ?? {};
  const fields: [string, string][] = [
    ["Name", canary.metadata.name],
    ["Namespace", canary.metadata.namespace ?? ""],
    ["Target", targetOf(canary)],
  ];
  const provider = providerOf(canary);
  if (provider !== "") fields.push(["Provider", provider]);
  const unsupported = status.conditions?.find((c) => c.type === CONDITION_UNSUPPORTED && c.status === "True");
  if (unsupported?.message) fields.push(["Ignored", unsupported.message]);
  const since = status.lastTransitionTime;
  const at = since !== undefined && !Number.isNaN(Date.parse(since)) ? ` (since ${formatClock(new Date(since))}, ${ageOf(since, now)} ago)` : "";
  fields.push(["Status", phaseLabel(p.phase) + at]);
  const traffic = `canary ${p.canaryWeight}% | primary ${100 - p.canaryWeight}%`;
  fields.push(["Traffic", opts.bar ? `${traffic}  ${weightBar(p.canaryWeight)}` : traffic]);
  fields.push(["Failed checks", `${p.failedChecks}/${p.threshold}`]);
  if (p.iterations) fields.push(["Iterations", `${p.iterations.done}/${p.iterations.of}`]);
  const schedule = scheduleText(canary);
  if (schedule !== "") fields.push(["Steps", schedule]);
  if (p.step) fields.push(["Step", stepLabel(p.step)]);
  const revisions: string[] = [];
  if (status.canaryRevision) revisions.push(`canary ${status.canaryRevision}`);
  if (status.lastPromotedSpec) revisions.push(`promoted ${status.lastPromotedSpec}`);
  if (revisions.length > 0) fields.push(["Revision", revisions.join(" | ")]);
  if (p.paused) fields.push(["Paused", `yes: the run holds until \`aviary resume ${canary.metadata.name}\``]);
  if (canary.spec?.suspend === true) fields.push(["Suspended", "yes (spec.suspend): nothing moves until it is cleared"]);
  const pending = pendingRequests(canary);
  if (pending.length > 0) fields.push(["Pending", pending.join(", ")]);
  if (p.message !== "") fields.push(["Message", p.message]);
  const lines = formatFields(fields);
  if (p.verdicts.length > 0) {
    const checked = status.lastCheckTime ?? status.lastAnalysis?.[0]?.time;
    const when = checked !== undefined && !Number.isNaN(Date.parse(checked)) ? ` (${formatClock(new Date(checked))}, ${ageOf(checked, now)} ago)` : "";
    lines.push(`Last analysis${when}:`);
    lines.push(...p.verdicts.map((v) => `  ${v}`));
  }
  const tallies = metricTallies(canary);
  if (tallies.length > 0) {
    lines.push("Metric limits (this run):");
    lines.push(...tallies.map((t) => `  ${t}`));
  }
  const judged = Object.entries(status.judge?.metrics ?? {});
  if (judged.length > 0) {
    // The judge's verdicts above cover the whole run; this is how much of it they have seen.
    lines.push("Judge (this run):");
    for (const [name, entry] of judged) {
      const end = Number.isNaN(Date.parse(entry.windowEnd)) ? entry.windowEnd : formatClock(new Date(entry.windowEnd));
      lines.push(`  ${name}: ${entry.windows} window${entry.windows === 1 ? "" : "s"} counted, up to ${end}`);
    }
  }
  return lines.join("\n") + "\n";
}

export interface TableOptions {
  /** Prefix a NAMESPACE column (for --all-namespaces). */
  namespaces: boolean;
  /** `-o wide`: also TARGET, INTERVAL, MAXWEIGHT, STEPWEIGHT (the schedule's weights when it has one), PROVIDER. */
  wide: boolean;
}

/** The `aviary get` table: kubectl's printer columns for Canaries, in kubectl's layout. */
export function canaryTable(canaries: readonly Canary[], now: Date, opts: TableOptions): string {
  const header = ["NAME", "STATUS", "WEIGHT", "FAILEDCHECKS", "LASTTRANSITION"];
  if (opts.wide) header.push("TARGET", "INTERVAL", "MAXWEIGHT", "STEPWEIGHT", "PROVIDER");
  // STEP only when a listed Canary runs on a step schedule, so other tables keep their columns.
  const scheduled = canaries.some((c) => (c.spec?.analysis?.steps ?? []).length > 0);
  if (scheduled) header.splice(3, 0, "STEP");
  if (opts.namespaces) header.unshift("NAMESPACE");
  const sorted = [...canaries].sort(
    (a, b) => (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") || a.metadata.name.localeCompare(b.metadata.name),
  );
  const rows = sorted.map((c) => {
    const s = c.status ?? {};
    const row = [c.metadata.name, s.phase ?? "", num(s.canaryWeight), num(s.failedChecks), ageOf(s.lastTransitionTime, now)];
    if (scheduled) {
      const step = stepProgress(c, now);
      row.splice(3, 0, step?.current ? stepCell(step) : "");
    }
    if (opts.wide) {
      const a = c.spec?.analysis ?? {};
      const stepWeights = a.steps && a.steps.length > 0 ? a.steps.map((x) => x.weight) : a.stepWeights;
      row.push(targetOf(c), a.interval ?? "", num(a.maxWeight), stepWeights ? stepWeights.join(",") : num(a.stepWeight), providerOf(c));
    }
    if (opts.namespaces) row.unshift(c.metadata.namespace ?? "");
    return row;
  });
  return formatTable(header, rows);
}

const num = (n: number | undefined): string => (n === undefined ? "" : String(n));

/** `Deployment/podinfo`, `DaemonSet/node-agent`: the target with its kind. */
const targetOf = (c: Canary): string => {
  const ref = c.spec?.targetRef;
  return ref?.name ? `${ref.kind ?? "Deployment"}/${ref.name}` : "";
};

/**
 * The provider in effect as the controller reported it; before its first report, spec.provider
 * (a Canary without one runs with the controller's --mesh-provider, which only it knows).
 */
const providerOf = (c: Canary): string => c.status?.provider ?? c.spec?.provider ?? "";
