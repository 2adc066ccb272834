/**
 * Analysis arguments: an AnalysisTemplate's `args` (with defaults) overridden by the
 * Rollout's for one analysis run. In a metric's query they become aviary template
 * variables (`{{args.x}}` → `{{ variables.x }}`, the value going to the Canary metric's
 * `templateVariables`), so one MetricTemplate serves every step; anywhere else aviary does
 * not template, so the value is written in at conversion time.
 */
import type { Obj } from "./fields.ts";
import { child, list, obj, str } from "./fields.ts";

export type ArgValue = { value: string } | { problem: string };

export type Args = ReadonlyMap<string, ArgValue>;

const ARG = /\{\{\s*args\.([A-Za-z0-9_.-]+?)\s*\}\}/g;

/** What `fieldRef.fieldPath` reads from the Rollout, resolved now: aviary has no such lookup at run time. */
function fieldRefValue(rollout: Obj, fieldPath: string): string | undefined {
  const meta = obj(rollout.metadata) ?? {};
  if (fieldPath === "metadata.name") return str(meta.name);
  if (fieldPath === "metadata.namespace") return str(meta.namespace);
  const m = /^metadata\.(labels|annotations)\[['"](.+)['"]\]$/.exec(fieldPath);
  if (m) return str(obj(meta[m[1]!])?.[m[2]!]);
  return undefined;
}

export interface ArgNotes {
  /** Values resolved from the Rollout now that Argo resolved when each run started. */
  resolved: { name: string; field: string; fieldPath: string }[];
}

/** Reads one `args` list (template or Rollout) into `into`; later lists override earlier ones. */
export function readArgs(args: unknown, path: string, rollout: Obj, into: Map<string, ArgValue>, notes: ArgNotes): void {
  list(args).forEach((raw, i) => {
    const a = obj(raw);
    const name = str(a?.name);
    if (a === undefined || name === undefined) return;
    const at = child(path, i);
    if (typeof a.value === "string" || typeof a.value === "number" || typeof a.value === "boolean") {
      into.set(name, { value: String(a.value) });
      return;
    }
    const from = obj(a.valueFrom);
    if (from === undefined) {
      if (!into.has(name)) into.set(name, { problem: `args.${name} has no value (${at})` });
      return;
    }
    if (from.podTemplateHashValue !== undefined) {
      into.set(name, { problem: `args.${name} is the ${String(from.podTemplateHashValue)} pod-template hash (${at}.valueFrom.podTemplateHashValue), which aviary does not pass to metrics` });
      return;
    }
    if (from.secretKeyRef !== undefined) {
      into.set(name, { problem: `args.${name} comes from a Secret (${at}.valueFrom.secretKeyRef); aviary reads credentials from the MetricTemplate's spec.provider.secretRef` });
      return;
    }
    const fieldPath = str(obj(from.fieldRef)?.fieldPath);
    const value = fieldPath === undefined ? undefined : fieldRefValue(rollout, fieldPath);
    if (fieldPath !== undefined && value !== undefined) {
      into.set(name, { value });
      notes.resolved.push({ name, field: `${at}.valueFrom.fieldRef`, fieldPath });
      return;
    }
    into.set(name, { problem: `args.${name} (${at}.valueFrom) cannot be resolved from the Rollout` });
  });
}

export type Substitution = { ok: true; text: string; variables: Record<string, string> } | { ok: false; problems: string[] };

/** An aviary template variable name for an Argo argument name (which may hold dots). */
export const variableName = (arg: string): string => arg.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^(?=[0-9-])/, "_");

/** `{{args.x}}` → `{{ variables.x }}`, with the values for templateVariables. */
export function argsToVariables(text: string, args: Args): Substitution {
  const variables: Record<string, string> = {};
  const problems: string[] = [];
  const out = text.replace(ARG, (_m, name: string) => {
    const arg = args.get(name);
    const variable = variableName(name);
    if (arg === undefined) problems.push(`args.${name} is not declared`);
    else if ("problem" in arg) problems.push(arg.problem);
    else variables[variable] = arg.value;
    return `{{ variables.${variable} }}`;
  });
  return problems.length > 0 ? { ok: false, problems: [...new Set(problems)] } : { ok: true, text: out, variables };
}

/** `{{args.x}}` → its value, for fields aviary does not template. */
export function argsToValues(text: string, args: Args): Substitution {
  const problems: string[] = [];
  const out = text.replace(ARG, (m, name: string) => {
    const arg = args.get(name);
    if (arg === undefined) {
      problems.push(`args.${name} is not declared`);
      return m;
    }
    if ("problem" in arg) {
      problems.push(arg.problem);
      return m;
    }
    return arg.value;
  });
  return problems.length > 0 ? { ok: false, problems: [...new Set(problems)] } : { ok: true, text: out, variables: {} };
}

export const usesArgs = (text: string): boolean => new RegExp(ARG.source).test(text);
