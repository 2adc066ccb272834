/**
 * The MetricTemplates a conversion writes: one per Argo template metric, shared by every
 * Canary metric that uses it, named after the template (and the metric when the template
 * has several). Two different specs never share a name.
 */
import { isDeepStrictEqual } from "node:util";
import { API_VERSION, KIND_METRIC_TEMPLATE } from "../api/types.ts";
import { label, list, obj } from "./fields.ts";
import type { ConvertedMetricTemplateSpec, OutputObject } from "./model.ts";
import type { SourceObject } from "./source.ts";

/** A lowercase RFC 1123 name made of what Argo allowed (`Success_Rate` → `success-rate`). */
export const dnsName = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63) || "metric";

interface Entry {
  namespace: string | undefined;
  spec: ConvertedMetricTemplateSpec;
  from: string;
}

export class MetricTemplates {
  private readonly entries = new Map<string, Entry>();

  /** Registers the MetricTemplate for `metricName` of `template`; returns its name. */
  add(template: SourceObject, metricName: string, spec: ConvertedMetricTemplateSpec, rolloutNamespace: string | undefined): string {
    // aviary has no cluster-wide templates: a ClusterAnalysisTemplate's metric lives beside the Canary.
    const namespace = template.ref.kind === "ClusterAnalysisTemplate" ? rolloutNamespace : (template.ref.namespace ?? rolloutNamespace);
    // The same query for two metrics (judged differently) is one MetricTemplate.
    for (const [key, e] of this.entries) {
      if (e.namespace === namespace && isDeepStrictEqual(e.spec, spec)) return key.slice(key.indexOf("/") + 1);
    }
    const single = list(obj(template.body.spec)?.metrics).length === 1;
    const base = dnsName(single ? template.ref.name : `${template.ref.name}-${metricName}`);
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      const key = `${namespace ?? ""}/${name}`;
      const existing = this.entries.get(key);
      if (existing === undefined) {
        this.entries.set(key, { namespace, spec, from: label(template.ref) });
        return name;
      }
      if (isDeepStrictEqual(existing.spec, spec)) return name;
    }
  }

  outputs(): OutputObject[] {
    return [...this.entries.entries()].map(([key, e]) => ({
      from: e.from,
      manifest: {
        apiVersion: API_VERSION,
        kind: KIND_METRIC_TEMPLATE,
        metadata: { name: key.slice(key.indexOf("/") + 1), ...(e.namespace !== undefined ? { namespace: e.namespace } : {}) },
        spec: e.spec as unknown as Record<string, unknown>,
      },
    }));
  }
}
