/**
 * Argo Rollouts' `successCondition` / `failureCondition` expressions turned into aviary's
 * `thresholdRange{min,max}` — only where that is the same verdict for every value.
 *
 * Argo's rule for one measurement: a true failureCondition fails it; otherwise a true
 * successCondition passes it; with only one of the two given, the other is its negation;
 * with both given, a value that satisfies neither is Inconclusive (the rollout pauses for a
 * person), which aviary has no outcome for. With neither, every measurement passes.
 *
 * The accepted language is the part of Argo's expressions that describes a set of numbers:
 * comparisons of the measured value with a number (`result[0] >= 0.95`, `100 == result`),
 * joined with `&&`/`and`, `||`/`or`, `!`/`not` and parentheses, plus `len(result) == 0`
 * (the query found nothing), which becomes `onNoData: pass`. Anything else (`all(...)`,
 * `isNaN`, string comparisons, arithmetic) is not translated, and the caller reports it. Pure.
 */
import type { ThresholdRange } from "../api/types.ts";
import type { IntervalSet } from "./intervals.ts";
import { compare, complement, describe, intersect, isAll, isNone, NONE, union } from "./intervals.ts";

/** How an expression's outcome depends on an empty result: a boolean, or an evaluation error. */
type EmptyOutcome = boolean | "error";

interface Condition {
  /** The measured values for which the expression is true. */
  set: IntervalSet;
  /** Its outcome when the provider returned no values. */
  onEmpty: EmptyOutcome;
}

/** Which spellings of "the measured value" mean the number aviary's provider returns. */
export type ValueForm = (accessor: string) => boolean;

export type Translation =
  | { ok: true; range: ThresholdRange | undefined; onNoData?: "pass"; notes: string[] }
  | { ok: false; reason: string };

export class ConditionSyntaxError extends Error {}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

type Token = { kind: "num"; value: number } | { kind: "id"; value: string } | { kind: "str"; value: string } | { kind: "op"; value: string };

// Arithmetic and closures are tokens too, so that the parser can say where a translation stops.
const OPS = [">=", "<=", "==", "!=", "&&", "||", ">", "<", "!", "(", ")", "[", "]", ".", ",", "-", "+", "*", "/", "%", "{", "}", "#", "?", ":"];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const number = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: "num", value: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (ident) {
      tokens.push({ kind: "id", value: ident[0] });
      i += ident[0].length;
      continue;
    }
    const quoted = /^'([^']*)'|^"([^"]*)"/.exec(rest);
    if (quoted) {
      tokens.push({ kind: "str", value: quoted[1] ?? quoted[2] ?? "" });
      i += quoted[0].length;
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (op === undefined) throw new ConditionSyntaxError(`unexpected "${rest[0]}"`);
    tokens.push({ kind: "op", value: op });
    i += op.length;
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------
// Parser: expression → the set of values it accepts
// ---------------------------------------------------------------------------------------

const COMPARATORS = [">", ">=", "<", "<=", "==", "!="] as const;
type Comparator = (typeof COMPARATORS)[number];
const MIRRORED: Record<Comparator, Comparator> = { ">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!=" };

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  private readonly valueForm: ValueForm;
  constructor(tokens: Token[], valueForm: ValueForm) {
    this.tokens = tokens;
    this.valueForm = valueForm;
  }

  parse(): Condition {
    const c = this.or();
    if (this.pos < this.tokens.length) throw new ConditionSyntaxError(`unexpected "${this.show(this.tokens[this.pos]!)}"`);
    return c;
  }

  private show(t: Token): string {
    return t.kind === "str" ? `'${t.value}'` : String(t.value);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return (t?.kind === "op" || t?.kind === "id") && t.value === value;
  }

  private expect(value: string): void {
    if (!this.isOp(value)) throw new ConditionSyntaxError(`expected "${value}"`);
    this.pos++;
  }

  private or(): Condition {
    let left = this.and();
    while (this.isOp("||") || this.isOp("or")) {
      this.pos++;
      const right = this.and();
      left = { set: union(left.set, right.set), onEmpty: left.onEmpty === false ? right.onEmpty : left.onEmpty };
    }
    return left;
  }

  private and(): Condition {
    let left = this.not();
    while (this.isOp("&&") || this.isOp("and")) {
      this.pos++;
      const right = this.not();
      left = { set: intersect(left.set, right.set), onEmpty: left.onEmpty === true ? right.onEmpty : left.onEmpty };
    }
    return left;
  }

  private not(): Condition {
    if (this.isOp("!") || this.isOp("not")) {
      this.pos++;
      const inner = this.not();
      return { set: complement(inner.set), onEmpty: inner.onEmpty === "error" ? "error" : !inner.onEmpty };
    }
    if (this.isOp("(")) {
      this.pos++;
      const inner = this.or();
      this.expect(")");
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const left = this.operand();
    const t = this.peek();
    if (t?.kind !== "op" || !(COMPARATORS as readonly string[]).includes(t.value)) {
      throw new ConditionSyntaxError(`expected a comparison after "${left.text}"`);
    }
    this.pos++;
    const op = t.value as Comparator;
    const right = this.operand();
    if (left.kind === "len" || right.kind === "len") return this.emptiness(left, op, right);
    if (left.kind === "value" && right.kind === "number") return { set: compare(op, right.value), onEmpty: "error" };
    if (left.kind === "number" && right.kind === "value") return { set: compare(MIRRORED[op], left.value), onEmpty: "error" };
    throw new ConditionSyntaxError(`"${left.text} ${op} ${right.text}" does not compare the measured value with a number`);
  }

  /** `len(result) == 0` (or `< 1`, `<= 0`): true exactly when the query returned nothing. */
  private emptiness(left: Operand, op: Comparator, right: Operand): Condition {
    const n = left.kind === "number" ? left.value : right.kind === "number" ? right.value : undefined;
    const normalized = left.kind === "len" ? op : MIRRORED[op];
    const empty = (normalized === "==" && n === 0) || (normalized === "<" && n === 1) || (normalized === "<=" && n === 0);
    if (!empty) throw new ConditionSyntaxError(`only len(result) == 0 (the query returned nothing) is understood, got "${left.text} ${op} ${right.text}"`);
    return { set: NONE, onEmpty: true };
  }

  private operand(): Operand {
    const t = this.peek();
    if (t === undefined) throw new ConditionSyntaxError("the expression ends too early");
    if (t.kind === "op" && t.value === "-") {
      this.pos++;
      const n = this.peek();
      if (n?.kind !== "num") throw new ConditionSyntaxError('expected a number after "-"');
      this.pos++;
      return { kind: "number", value: -n.value, text: `-${n.value}` };
    }
    if (t.kind === "num") {
      this.pos++;
      return { kind: "number", value: t.value, text: String(t.value) };
    }
    if (t.kind === "str") {
      this.pos++;
      return { kind: "text", text: `'${t.value}'` };
    }
    if (t.kind === "id" && t.value === "len") {
      this.pos++;
      this.expect("(");
      const inner = this.accessor();
      this.expect(")");
      if (inner !== "result") throw new ConditionSyntaxError(`only len(result) is understood, got len(${inner})`);
      return { kind: "len", text: "len(result)" };
    }
    const text = this.accessor();
    if (!this.valueForm(text)) throw new ConditionSyntaxError(`"${text}" is not the single value aviary's provider measures`);
    return { kind: "value", text };
  }

  /** `result`, `result[0]`, `result[0].Values[0]`, `result.count`, `result['count']`, `asFloat(result)`: normalized text. */
  private accessor(): string {
    const t = this.peek();
    if (t?.kind !== "id") throw new ConditionSyntaxError(t === undefined ? "the expression ends too early" : `unexpected "${this.show(t)}"`);
    this.pos++;
    if (t.value !== "result") {
      if (!this.isOp("(")) throw new ConditionSyntaxError(`unknown name "${t.value}"`);
      if (!CONVERSIONS.includes(t.value)) throw new ConditionSyntaxError(`the function ${t.value}() is not translated`);
      this.pos++;
      const inner = this.accessor();
      this.expect(")");
      return `${t.value}(${inner})`;
    }
    let text = "result";
    for (;;) {
      if (this.isOp("[")) {
        this.pos++;
        const index = this.peek();
        if (index?.kind === "num" && Number.isInteger(index.value)) text += `[${index.value}]`;
        else if (index?.kind === "str") text += `.${index.value}`;
        else throw new ConditionSyntaxError("expected an index or a quoted field name in [ ]");
        this.pos++;
        this.expect("]");
      } else if (this.isOp(".")) {
        this.pos++;
        const field = this.peek();
        if (field?.kind !== "id") throw new ConditionSyntaxError('expected a field name after "."');
        this.pos++;
        text += `.${field.value}`;
      } else {
        return text;
      }
    }
  }
}

/** Functions that turn the measured value into a number without changing it. */
const CONVERSIONS: readonly string[] = ["asFloat", "asInt"];

type Operand = { kind: "number"; value: number; text: string } | { kind: "value"; text: string } | { kind: "len"; text: string } | { kind: "text"; text: string };

export function parseCondition(text: string, valueForm: ValueForm): Condition {
  return new Parser(tokenize(text), valueForm).parse();
}

// ---------------------------------------------------------------------------------------
// Both conditions → one thresholdRange
// ---------------------------------------------------------------------------------------

/** Argo's verdict when the provider returned no values. */
function emptyVerdict(success: Condition | undefined, failure: Condition | undefined): "pass" | "fail" | "inconclusive" | "error" {
  if (success?.onEmpty === "error" || failure?.onEmpty === "error") return "error";
  let passed = success?.onEmpty === true;
  let failed = failure?.onEmpty === true;
  if (failure === undefined) failed = !passed;
  if (success === undefined) passed = !failed;
  if (failed) return "fail";
  return passed ? "pass" : "inconclusive";
}

export function translateConditions(successCondition: string | undefined, failureCondition: string | undefined, valueForm: ValueForm): Translation {
  if (successCondition === undefined && failureCondition === undefined) return { ok: true, range: undefined, notes: [] };
  let success: Condition | undefined;
  let failure: Condition | undefined;
  try {
    if (successCondition !== undefined) success = parseCondition(successCondition, valueForm);
  } catch (err) {
    return { ok: false, reason: `successCondition "${successCondition}" is not a range aviary can check: ${(err as Error).message}` };
  }
  try {
    if (failureCondition !== undefined) failure = parseCondition(failureCondition, valueForm);
  } catch (err) {
    return { ok: false, reason: `failureCondition "${failureCondition}" is not a range aviary can check: ${(err as Error).message}` };
  }
  const named = [
    successCondition === undefined ? undefined : `successCondition "${successCondition}"`,
    failureCondition === undefined ? undefined : `failureCondition "${failureCondition}"`,
  ]
    .filter((n) => n !== undefined)
    .join(" with ");
  const notFailing = failure === undefined ? undefined : complement(failure.set);
  const passing = success === undefined ? notFailing! : notFailing === undefined ? success.set : intersect(success.set, notFailing);
  if (success !== undefined && notFailing !== undefined) {
    const neither = intersect(complement(success.set), notFailing);
    if (!isNone(neither)) {
      return {
        ok: false,
        reason: `${named}: values in ${describe(neither)} meet neither (Argo: Inconclusive, the rollout waits for a person); aviary has no inconclusive outcome`,
      };
    }
  }
  const empty = emptyVerdict(success, failure);
  if (empty === "inconclusive") {
    return { ok: false, reason: `${named}: an empty result is Inconclusive (the rollout waits for a person); aviary has no inconclusive outcome` };
  }
  if (isNone(passing)) return { ok: false, reason: `${named}: no value can pass` };
  const notes: string[] = [];
  let range: ThresholdRange | undefined;
  if (!isAll(passing)) {
    if (passing.length !== 1) return { ok: false, reason: `${named}: the passing values ${describe(passing)} are not one range` };
    const [only] = passing as [IntervalSet[number]];
    range = {};
    if (only.lo !== -Infinity) {
      range.min = only.lo;
      if (only.loOpen) notes.push(`a value of exactly ${only.lo} failed in Argo (the bound was exclusive) and passes thresholdRange.min, which is inclusive`);
    }
    if (only.hi !== Infinity) {
      range.max = only.hi;
      if (only.hiOpen) notes.push(`a value of exactly ${only.hi} failed in Argo (the bound was exclusive) and passes thresholdRange.max, which is inclusive`);
    }
  }
  return empty === "pass" ? { ok: true, range, onNoData: "pass", notes } : { ok: true, range, notes };
}
