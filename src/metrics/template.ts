/**
 * Metric query templates, rendered as Flagger renders them: Go text/template syntax (see
 * src/api/query-template.ts) with one function per canary fact — `{{ name }}`,
 * `{{ namespace }}`, `{{ target }}`, `{{ service }}`, `{{ ingress }}`, `{{ interval }}` —
 * and `{{ variables.<name> }}` for the metric's templateVariables. Go's built-ins that a
 * query can use are here too: `printf`, `print`, `urlquery`, `index`, `len`, pipelines
 * (`{{ target | printf "%s-canary" }}`) and the trim markers `{{-`/`-}}`.
 *
 * A key the canary does not have is an error naming the key, never an empty string or
 * Go's `<no value>` pasted into a query.
 */
import { parseQueryTemplate, templateReferences, TemplateSyntaxError } from "../api/query-template.ts";
import type { Command, Operand, Pipeline, TemplateNode } from "../api/query-template.ts";

export interface TemplateContext {
  /** The Canary's own name (`metadata.name`). */
  name?: string | undefined;
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
  /** Per-arm count queries only (`compare`): `canary` or `primary`. */
  arm?: string | undefined;
  /** Per-arm count queries only: the arm's Deployment (the target, or `<target>-primary`). */
  workload?: string | undefined;
  /** Per-arm count queries only: the primary Deployment's name. */
  primary?: string | undefined;
  /** Per-arm count queries only: the window since the previous check, e.g. `37s`. */
  window?: string | undefined;
  /** Per-arm count queries only: the window's end, Unix seconds (PromQL's `@`). */
  windowEnd?: string | undefined;
}

/** The canary facts a template can name, as Flagger's template functions. */
export const TEMPLATE_FUNCTIONS = ["name", "namespace", "target", "service", "ingress", "interval", "variables"] as const;
const FACTS = ["name", "namespace", "target", "service", "ingress", "interval", "arm", "workload", "primary", "window", "windowEnd"] as const;
type Fact = (typeof FACTS)[number];
/** Go's built-in functions that make sense in a query. */
const BUILTINS = ["printf", "print", "urlquery", "index", "len"] as const;

export class TemplateError extends Error {
  /** The placeholder that could not be filled, as written (`variables.region`, `ingress`). */
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = "TemplateError";
    this.key = key;
  }
}

type Value = string | number | boolean | Readonly<Record<string, string>>;

/** The query with every action evaluated; throws TemplateError naming the first missing key. */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  let out = "";
  for (const node of parse(template)) {
    if (node.kind === "text") out += node.text;
    else out += text(pipeline(node.pipeline, ctx, node.source), node.source);
  }
  return out;
}

/** The names a template reads, in order of first use (`target`, `variables.x`, `printf`). */
export function templateKeys(template: string): string[] {
  return templateReferences(parse(template));
}

function parse(template: string): TemplateNode[] {
  try {
    return parseQueryTemplate(template);
  } catch (err) {
    if (err instanceof TemplateSyntaxError) {
      throw new TemplateError(template.slice(err.offset, err.offset + 20), `${err.message} (at character ${err.offset})`);
    }
    throw err;
  }
}

function pipeline(p: Pipeline, ctx: TemplateContext, source: string): Value {
  let previous: Value | undefined;
  for (const command of p) previous = run(command, previous, ctx, source);
  return previous as Value;
}

function run(command: Command, piped: Value | undefined, ctx: TemplateContext, source: string): Value {
  const [head, ...rest] = command as [Operand, ...Operand[]];
  const args = rest.map((a) => operand(a, ctx, source));
  if (piped !== undefined) args.push(piped);
  if (head.kind === "identifier" && (BUILTINS as readonly string[]).includes(head.name)) {
    if (head.fields.length > 0) throw new TemplateError(head.name, `${source}: ${head.name} has no fields`);
    return builtin(head.name, args, source);
  }
  if (args.length > 0) {
    throw new TemplateError(describe(head), `${source}: ${describe(head)} takes no arguments`);
  }
  return operand(head, ctx, source);
}

function operand(op: Operand, ctx: TemplateContext, source: string): Value {
  switch (op.kind) {
    case "string":
    case "number":
    case "bool":
      return op.value;
    case "group":
      return fields(pipeline(op.pipeline, ctx, source), op.fields, `(…)`, source);
    case "data":
      throw dataReference(op.fields);
    case "identifier":
      if ((BUILTINS as readonly string[]).includes(op.name)) return builtin(op.name, [], source);
      return fields(fact(op.name, ctx), op.fields, op.name, source);
  }
}

function fact(name: string, ctx: TemplateContext): Value {
  if (name === "variables") return ctx.variables ?? {};
  if (!(FACTS as readonly string[]).includes(name)) {
    throw new TemplateError(name, `unknown template key "${name}": use ${FACTS.join(", ")} or variables.<name>`);
  }
  const value = ctx[name as Fact];
  if (value === undefined || value === "") {
    const hint = name === "ingress" ? " (the Canary has no spec.ingressRef)" : "";
    throw new TemplateError(name, `template key "${name}" has no value for this canary${hint}`);
  }
  return value;
}

/** `variables.region`: a field of the variables map; every other value has no fields. */
function fields(value: Value, chain: readonly string[], written: string, source: string): Value {
  let current = value;
  let path = written;
  for (const field of chain) {
    const key = `${path}.${field}`;
    if (typeof current !== "object") throw new TemplateError(key, `${source}: ${path} is text and has no field "${field}"`);
    current = lookupVariable(current, field, key);
    path = key;
  }
  return current;
}

function lookupVariable(map: Readonly<Record<string, string>>, name: string, key: string): string {
  const value = Object.hasOwn(map, name) ? map[name] : undefined;
  if (value === undefined) {
    throw new TemplateError(key, `template variable "${name}" is not set: add it to the metric's templateVariables (used as {{ ${key} }})`);
  }
  return value;
}

function dataReference(chain: readonly string[]): TemplateError {
  const written = `.${chain.join(".")}`;
  const lower = (chain[0] ?? "").toLowerCase();
  const hint = (FACTS as readonly string[]).includes(lower) ? `; write {{ ${lower} }}` : "";
  return new TemplateError(written, `{{ ${written} }} reads template data, which metric queries do not have${hint}`);
}

function builtin(name: string, args: Value[], source: string): Value {
  switch (name) {
    case "printf": {
      const [format, ...rest] = args;
      if (typeof format !== "string") throw new TemplateError("printf", `${source}: printf needs a format string first`);
      return sprintf(format, rest, source);
    }
    case "print":
      return args.map((a, i) => (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string" ? " " : "") + text(a, source)).join("");
    case "urlquery":
      return queryEscape(args.map((a) => text(a, source)).join(""));
    case "len": {
      if (args.length !== 1) throw new TemplateError("len", `${source}: len takes one argument`);
      const v = args[0]!;
      if (typeof v === "string") return Buffer.byteLength(v, "utf8");
      if (typeof v === "object") return Object.keys(v).length;
      throw new TemplateError("len", `${source}: len of a ${typeof v}`);
    }
    case "index": {
      const [map, ...keys] = args;
      if (typeof map !== "object" || keys.length !== 1 || typeof keys[0] !== "string") {
        throw new TemplateError("index", `${source}: use index with variables and one name, as in {{ index variables "name" }}`);
      }
      return lookupVariable(map, keys[0], `variables.${keys[0]}`);
    }
    default:
      throw new TemplateError(name, `${source}: unknown function ${name}`);
  }
}

/** Go's fmt verbs that a query needs: %s %v %d %q %f (with precision) and %%. */
function sprintf(format: string, args: Value[], source: string): string {
  let next = 0;
  const out = format.replace(/%(\.\d+)?([svdqf%])/g, (_m, precision: string | undefined, verb: string) => {
    if (verb === "%") return "%";
    if (next >= args.length) throw new TemplateError("printf", `${source}: printf has more verbs than arguments`);
    const arg = args[next++]!;
    switch (verb) {
      case "d":
        if (typeof arg !== "number" || !Number.isInteger(arg)) throw new TemplateError("printf", `${source}: %d needs an integer`);
        return String(arg);
      case "f":
        if (typeof arg !== "number") throw new TemplateError("printf", `${source}: %f needs a number`);
        return arg.toFixed(precision ? Number(precision.slice(1)) : 6);
      case "q":
        return JSON.stringify(text(arg, source));
      default:
        return text(arg, source);
    }
  });
  if (next < args.length) throw new TemplateError("printf", `${source}: printf has ${args.length - next} argument(s) without a verb`);
  return out;
}

/** Go's url.QueryEscape: unreserved characters stay, spaces become `+`, the rest is %XX. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

function text(value: Value, source: string): string {
  if (typeof value === "object") {
    throw new TemplateError("variables", `${source}: variables is a map; name one entry, as in {{ variables.region }}`);
  }
  return String(value);
}

function describe(op: Operand): string {
  switch (op.kind) {
    case "identifier":
      return [op.name, ...op.fields].join(".");
    case "data":
      return `.${op.fields.join(".")}`;
    case "group":
      return "(…)";
    default:
      return JSON.stringify(op.value);
  }
}
