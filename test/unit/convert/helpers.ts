/** Shared helpers for the conversion tests: convert YAML text and pick objects and report lines. */
import { convert } from "../../../src/convert/convert.ts";
import type { Conversion, ConvertOptions } from "../../../src/convert/convert.ts";
import type { KubeManifest } from "../../../src/convert/model.ts";
import type { ReportEntry, Severity } from "../../../src/convert/report.ts";

export function convertYaml(yaml: string, opts: ConvertOptions = {}): Conversion {
  return convert([{ name: "test.yaml", text: yaml }], opts);
}

export function output(c: Conversion, kind: string, name?: string): KubeManifest {
  const found = c.outputs.find((o) => o.manifest.kind === kind && (name === undefined || o.manifest.metadata.name === name));
  if (found === undefined) throw new Error(`no ${kind}${name ? `/${name}` : ""} in ${c.outputs.map((o) => `${o.manifest.kind}/${o.manifest.metadata.name}`).join(", ")}`);
  return found.manifest;
}

/** Parsed output read by path in assertions; the tests check its shape field by field. */
export type Loose = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The Canary's spec as plain data. */
export function canarySpec(c: Conversion): Loose {
  return output(c, "Canary").spec;
}

export function entries(c: Conversion, severity?: Severity): ReportEntry[] {
  return c.report.entries.filter((e) => severity === undefined || e.severity === severity);
}

/** The entry about exactly this object and field, failing with the whole report when there is none. */
export function entryAt(c: Conversion, object: string, field: string, severity?: Severity): ReportEntry {
  const found = c.report.entries.find((e) => e.object === object && e.field === field && (severity === undefined || e.severity === severity));
  if (found === undefined) {
    throw new Error(`no ${severity ?? ""} entry for ${object} ${field}; the report has:\n${c.report.entries.map((e) => `${e.severity} ${e.object} ${e.field}: ${e.message}`).join("\n")}`);
  }
  return found;
}

/** A Rollout with an inline template, a canary strategy `canary` and nginx routing unless given. */
export function rollout(canary: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { name: "shop", namespace: "web" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "shop" } },
      template: { metadata: { labels: { app: "shop" } }, spec: { containers: [{ name: "shop", image: "shop:1", ports: [{ containerPort: 8080 }] }] } },
      strategy: { canary: { trafficRouting: { smi: {} }, ...canary } },
      ...extra,
    },
  };
}

export function analysisTemplate(name: string, metrics: unknown[], args: unknown[] = []): Record<string, unknown> {
  return { apiVersion: "argoproj.io/v1alpha1", kind: "AnalysisTemplate", metadata: { name, namespace: "web" }, spec: { args, metrics } };
}

export const promMetric = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: "success-rate",
  interval: "1m",
  successCondition: "result[0] >= 0.95",
  provider: { prometheus: { address: "http://prometheus:9090", query: 'sum(rate(x{svc="{{args.service}}"}[1m]))' } },
  ...extra,
});

/** Several objects as one YAML stream. */
export const yamlOf = (...objects: unknown[]): string => objects.map((o) => JSON.stringify(o)).join("\n---\n");
