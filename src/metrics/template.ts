/**
 * Metric query templates, Flagger's syntax: `{{ namespace }}`, `{{ target }}`,
 * `{{ service }}`, `{{ ingress }}`, `{{ interval }}` and `{{ variables.<name> }}`, with any
 * whitespace inside the braces. A key that the context does not have is an error naming
 * the key, never an empty string pasted into a query.
 */

export interface TemplateContext {
  namespace: string;
  /** The target workload (the canary Deployment) name. */
  target: string;
  /** The apex Service name (`spec.service.name`, default the target's name). */
  service: string;
  /** `spec.ingressRef.name`; absent when the Canary has no ingress. */
  ingress?: string | undefined;
  /** The metric's interval as written (`1m`, `30s`), for PromQL range selectors. */
  interval: string;
  /** `templateVariables` of the Canary's metric entry. */
  variables?: Readonly<Record<string, string>> | undefined;
}

const CONTEXT_KEYS = ["namespace", "target", "service", "ingress", "interval"] as const;
type ContextKey = (typeof CONTEXT_KEYS)[number];

export class TemplateError extends Error {
  /** The placeholder that could not be filled, as written (`variables.region`, `ingress`). */
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = "TemplateError";
    this.key = key;
  }
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The query with every placeholder filled; throws TemplateError naming the first missing key. */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  return template.replace(PLACEHOLDER, (_match, rawKey: string) => lookup(rawKey, ctx));
}

/** The placeholder keys a template uses, in order of first use (for validation and docs). */
export function templateKeys(template: string): string[] {
  const keys = new Set<string>();
  for (const m of template.matchAll(PLACEHOLDER)) keys.add(m[1] ?? "");
  return [...keys];
}

function lookup(key: string, ctx: TemplateContext): string {
  if (key === "") throw new TemplateError(key, "empty placeholder {{ }} in the query template");
  if (key.startsWith("variables.")) {
    const name = key.slice("variables.".length);
    const value = ctx.variables !== undefined && Object.hasOwn(ctx.variables, name) ? ctx.variables[name] : undefined;
    if (value === undefined) {
      throw new TemplateError(
        key,
        `template variable "${name}" is not set: add it to the metric's templateVariables (used as {{ ${key} }})`,
      );
    }
    return value;
  }
  if (!isContextKey(key)) {
    throw new TemplateError(
      key,
      `unknown template key "${key}": use namespace, target, service, ingress, interval or variables.<name>`,
    );
  }
  const value = ctx[key];
  if (value === undefined || value === "") {
    const hint = key === "ingress" ? " (the Canary has no spec.ingressRef)" : "";
    throw new TemplateError(key, `template key "${key}" has no value for this canary${hint}`);
  }
  return value;
}

function isContextKey(key: string): key is ContextKey {
  return (CONTEXT_KEYS as readonly string[]).includes(key);
}
