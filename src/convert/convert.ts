/**
 * `aviary convert`'s pure core: Argo Rollouts manifests in, aviary manifests and a report
 * out. parse (source.ts) → model (rollout.ts and what it calls) → emit (emit.ts); no I/O.
 */
import { label } from "./fields.ts";
import type { OutputObject } from "./model.ts";
import { Report } from "./report.ts";
import type { ConvertOptions } from "./rollout.ts";
import { convertRollout } from "./rollout.ts";
import type { InputFile } from "./source.ts";
import { ARGO_GROUP, InputError, readSources, Sources } from "./source.ts";
import { MetricTemplates } from "./templates.ts";

export type { ConvertOptions } from "./rollout.ts";
export { InputError } from "./source.ts";

export interface Conversion {
  /** Deployments and rewritten user objects, then MetricTemplates, then Canaries. */
  outputs: OutputObject[];
  report: Report;
}

/** Converts every Rollout in the files. Throws InputError when the input is unreadable or holds no Rollout. */
export function convert(files: readonly InputFile[], opts: ConvertOptions = {}): Conversion {
  const sources = new Sources(readSources(files));
  const rollouts = sources.ofKind("Rollout").filter((r) => r.ref.apiVersion.startsWith(`${ARGO_GROUP}/`));
  if (rollouts.length === 0) throw new InputError(`no Rollout (${ARGO_GROUP}/v1alpha1) in the input`);
  if (opts.serviceName !== undefined && rollouts.length > 1) throw new InputError("--service-name names one Service, but the input has several Rollouts; convert them one at a time");
  const report = new Report();
  const templates = new MetricTemplates();
  const workloads: OutputObject[] = [];
  const canaries: OutputObject[] = [];
  for (const rollout of rollouts) {
    const converted = convertRollout(rollout, sources, report, templates, opts);
    workloads.push(...converted.workload);
    if (converted.canary !== undefined) canaries.push(converted.canary);
  }
  const seen = new Set<string>();
  for (const o of sources.objects) {
    const key = label(o.ref);
    if (o.ref.kind === "Rollout" && !o.ref.apiVersion.startsWith(`${ARGO_GROUP}/`) && !seen.has(key)) {
      seen.add(key);
      report.lossy(key, "apiVersion", `${o.ref.apiVersion} is not Argo Rollouts' API; not converted`);
    }
  }
  return { outputs: [...workloads, ...templates.outputs(), ...canaries], report };
}
