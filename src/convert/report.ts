/**
 * What a conversion could not carry over, or carried with a difference, each entry naming
 * the exact source object and field. Nothing changes silently: every mapping that is not
 * one-to-one adds an entry here.
 *
 * Severities:
 *   lossy    the behaviour is not carried over (dropped or not expressible): the command
 *            exits non-zero unless --allow-lossy
 *   changed  carried over with a stated difference the user should know about
 *   action   something the user must do by hand (rename a backend, delete an object)
 */
export const SEVERITIES = ["lossy", "changed", "action"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface ReportEntry {
  severity: Severity;
  /** The source object: `Rollout/shop`, `AnalysisTemplate/success-rate`. */
  object: string;
  /** The field path inside it (`spec.strategy.canary.steps[3].experiment`); "" for the whole object. */
  field: string;
  message: string;
}

export class Report {
  readonly entries: ReportEntry[] = [];

  add(severity: Severity, object: string, field: string, message: string): void {
    // The same template read for several steps would say the same thing several times.
    if (this.entries.some((e) => e.severity === severity && e.object === object && e.field === field && e.message === message)) return;
    this.entries.push({ severity, object, field, message });
  }

  lossy(object: string, field: string, message: string): void {
    this.add("lossy", object, field, message);
  }

  changed(object: string, field: string, message: string): void {
    this.add("changed", object, field, message);
  }

  action(object: string, field: string, message: string): void {
    this.add("action", object, field, message);
  }

  get isLossy(): boolean {
    return this.entries.some((e) => e.severity === "lossy");
  }
}

/** `Rollout/shop spec.strategy.canary.steps[3].experiment: no equivalent; dropped` */
export const formatEntry = (e: ReportEntry): string => `${e.object}${e.field === "" ? "" : ` ${e.field}`}: ${e.message}`;

const HEADINGS: Record<Severity, string> = {
  lossy: "Not carried over:",
  changed: "Carried over with a difference:",
  action: "To do by hand:",
};

/** The report as printed on stderr: one section per severity, one line per entry. "" when empty. */
export function formatReport(entries: readonly ReportEntry[]): string {
  const sections: string[] = [];
  for (const severity of SEVERITIES) {
    const lines = entries.filter((e) => e.severity === severity).map((e) => `  ${formatEntry(e)}`);
    if (lines.length > 0) sections.push([HEADINGS[severity], ...lines].join("\n"));
  }
  return sections.length === 0 ? "" : sections.join("\n") + "\n";
}
