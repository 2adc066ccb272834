/**
 * The syntax of MetricTemplate queries: Go's text/template, as Flagger runs them, so a
 * Flagger template parses here the same way. Supported: actions `{{ … }}` with the trim
 * markers `{{- ` and ` -}}`, comments `{{/* … *\/}}`, pipelines `a | b`, parenthesised
 * pipelines, string (`"…"`, `` `…` ``), number and boolean literals, identifiers with field
 * chains (`variables.region`) and `.Field` references (which Flagger's empty data cannot
 * answer; they parse so that the renderer can name them). Control actions (`if`, `range`,
 * `with`, `define`, `template`, `block`) and `$variables` are refused with an error that
 * names them: no Flagger query needs them, and half-supporting them would render wrongly.
 *
 * Pure: the parser knows nothing of canaries; src/metrics/template.ts gives the names meaning.
 */

export type Operand =
  /** An identifier (a function such as `namespace` or `printf`), optionally followed by fields. */
  | { kind: "identifier"; name: string; fields: string[] }
  /** `.` or `.Field.Sub`: a reference to the template's data. */
  | { kind: "data"; fields: string[] }
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "group"; pipeline: Pipeline; fields: string[] };

/** One command: an operand, then its arguments. */
export type Command = Operand[];
/** Commands joined by `|`; each result is the last argument of the next command. */
export type Pipeline = Command[];

export type TemplateNode = { kind: "text"; text: string } | { kind: "action"; pipeline: Pipeline; source: string };

export class TemplateSyntaxError extends Error {
  /** Character offset in the template where the problem starts. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "TemplateSyntaxError";
    this.offset = offset;
  }
}

/** The message for an action that never closes (validation and rendering share it). */
export const UNCLOSED_ACTION = "has a {{ without a matching }}";

const CONTROL_WORDS = new Set(["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"]);
const SPACE = /[ \t\r\n]/;

/** Parses a query template; throws TemplateSyntaxError. */
export function parseQueryTemplate(src: string): TemplateNode[] {
  const nodes: TemplateNode[] = [];
  let text = "";
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      text += src.slice(i);
      break;
    }
    text += src.slice(i, open);
    let start = open + 2;
    // `{{- ` trims the whitespace before the action; the dash needs a space after it so
    // that `{{-3}}` stays the number -3, as in Go.
    if (src[start] === "-" && SPACE.test(src[start + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      start += 1;
    }
    const commentAt = src.startsWith("/*", start) ? start : SPACE.test(src[start] ?? "") && src.startsWith("/*", start + 1) ? start + 1 : -1;
    const { end, trimRight, body } = commentAt >= 0 ? scanComment(src, commentAt, open) : scanAction(src, start, open);
    if (text !== "") nodes.push({ kind: "text", text });
    text = "";
    if (body !== undefined) nodes.push({ kind: "action", pipeline: parsePipeline(body, start), source: src.slice(open, end) });
    i = end;
    if (trimRight) {
      while (i < src.length && SPACE.test(src[i]!)) i++;
    }
  }
  if (text !== "") nodes.push({ kind: "text", text });
  return nodes;
}

/** A comment runs from `/*` to `*\/}}` (or `*\/ -}}`) and renders nothing. */
function scanComment(src: string, start: number, open: number): { end: number; trimRight: boolean; body: undefined } {
  const close = src.indexOf("*/", start + 2);
  if (close < 0) throw new TemplateSyntaxError("a comment {{/* must end with */}}", open);
  if (src.startsWith("}}", close + 2)) return { end: close + 4, trimRight: false, body: undefined };
  if (/^[ \t\r\n]-\}\}/.test(src.slice(close + 2, close + 6))) return { end: close + 6, trimRight: true, body: undefined };
  throw new TemplateSyntaxError("a comment {{/* must end with */}}", open);
}

/** Finds the `}}` that closes an action, skipping over quoted strings. */
function scanAction(src: string, start: number, open: number): { end: number; trimRight: boolean; body: string } {
  let i = start;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"' || c === "`" || c === "'") {
      i = skipQuoted(src, i, open);
      continue;
    }
    if (c === "}" && src[i + 1] === "}") {
      const trimRight = src[i - 1] === "-" && i - 2 >= start && SPACE.test(src[i - 2]!);
      const body = src.slice(start, trimRight ? i - 1 : i);
      return { end: i + 2, trimRight, body };
    }
    i++;
  }
  throw new TemplateSyntaxError(UNCLOSED_ACTION, open);
}

function skipQuoted(src: string, i: number, open: number): number {
  const quote = src[i]!;
  let j = i + 1;
  while (j < src.length && src[j] !== quote) {
    if (quote !== "`" && src[j] === "\\") j++;
    if (quote !== "`" && src[j] === "\n") break;
    j++;
  }
  if (j >= src.length || src[j] !== quote) throw new TemplateSyntaxError(UNCLOSED_ACTION, open);
  return j + 1;
}

type Token =
  | { t: "pipe" | "open" | "close"; at: number }
  | { t: "operand"; operand: Operand; at: number }
  | { t: "fields"; fields: string[]; at: number };

function tokenize(body: string, base: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, at: number): never => {
    throw new TemplateSyntaxError(message, base + at);
  };
  while (i < body.length) {
    const c = body[i]!;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "|") {
      tokens.push({ t: "pipe", at });
      i++;
    } else if (c === "(") {
      tokens.push({ t: "open", at });
      i++;
    } else if (c === ")") {
      tokens.push({ t: "close", at });
      i++;
      const m = /^(?:\.[A-Za-z_][A-Za-z0-9_]*)+/.exec(body.slice(i));
      if (m) {
        tokens.push({ t: "fields", fields: m[0].slice(1).split("."), at: i });
        i += m[0].length;
      }
    } else if (c === '"') {
      const end = skipQuoted(body, i, 0);
      tokens.push({ t: "operand", operand: { kind: "string", value: unquote(body.slice(i, end), base + i) }, at });
      i = end;
    } else if (c === "`") {
      const end = skipQuoted(body, i, 0);
      tokens.push({ t: "operand", operand: { kind: "string", value: body.slice(i + 1, end - 1) }, at });
      i = end;
    } else if (c === "'") {
      fail("character constants ('x') are not supported in query templates; use a string", at);
    } else if (c === "$") {
      fail("template variables ($x) are not supported in query templates", at);
    } else if (c === ".") {
      const m = /^\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?/.exec(body.slice(i))!;
      const path = m[0].slice(1);
      tokens.push({ t: "operand", operand: { kind: "data", fields: path === "" ? [] : path.split(".") }, at });
      i += m[0].length;
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(?:0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+(?:[eE][-+]?[0-9]+)?)/.exec(body.slice(i));
      const value = m ? Number(m[0].replace(/_/g, "")) : NaN;
      if (!m || !Number.isFinite(value)) fail(`bad number in action: ${body.slice(i).split(/\s/)[0] ?? ""}`, at);
      tokens.push({ t: "operand", operand: { kind: "number", value }, at });
      i += m![0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)/.exec(body.slice(i))!;
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(m[0])![0];
      if (CONTROL_WORDS.has(name)) fail(`{{ ${name} }} actions are not supported in query templates`, at);
      const fields = m[1] ? m[1].slice(1).split(".") : [];
      const operand: Operand =
        (name === "true" || name === "false") && fields.length === 0
          ? { kind: "bool", value: name === "true" }
          : { kind: "identifier", name, fields };
      tokens.push({ t: "operand", operand, at });
      i += m[0].length;
    } else {
      fail(`unexpected "${c}" in action`, at);
    }
  }
  return tokens;
}

/** Go's interpreted string literal, via JSON for the escapes both share. */
function unquote(literal: string, at: number): string {
  try {
    return JSON.parse(literal.replace(/\\x([0-9a-fA-F]{2})/g, "\\u00$1").replace(/\\'/g, "'")) as string;
  } catch {
    throw new TemplateSyntaxError(`bad string literal ${literal}`, at);
  }
}

function parsePipeline(body: string, base: number): Pipeline {
  const tokens = tokenize(body, base);
  if (tokens.length === 0) throw new TemplateSyntaxError("empty action {{ }}", base);
  let pos = 0;
  const pipeline = (): Pipeline => {
    const commands: Pipeline = [];
    let command: Command = [];
    for (; pos < tokens.length; pos++) {
      const tok = tokens[pos]!;
      if (tok.t === "close") break;
      if (tok.t === "pipe") {
        if (command.length === 0) throw new TemplateSyntaxError("missing command before |", base + tok.at);
        commands.push(command);
        command = [];
      } else if (tok.t === "open") {
        pos++;
        const inner = pipeline();
        const close = tokens[pos];
        if (close?.t !== "close") throw new TemplateSyntaxError("unclosed ( in action", base + tok.at);
        const next = tokens[pos + 1];
        const fields = next?.t === "fields" ? next.fields : [];
        if (next?.t === "fields") pos++;
        command.push({ kind: "group", pipeline: inner, fields });
      } else if (tok.t === "operand") {
        command.push(tok.operand);
      } else {
        throw new TemplateSyntaxError("unexpected field chain", base + tok.at);
      }
    }
    if (command.length === 0) throw new TemplateSyntaxError("missing command in pipeline", base);
    commands.push(command);
    return commands;
  };
  const result = pipeline();
  if (pos < tokens.length) throw new TemplateSyntaxError("unexpected ) in action", base + tokens[pos]!.at);
  return result;
}

/**
 * Every name a parsed template reads: identifiers as written with their fields
 * (`namespace`, `variables.region`, `printf`) and data references (`.Namespace`).
 */
export function templateReferences(nodes: readonly TemplateNode[]): string[] {
  const out = new Set<string>();
  const visit = (p: Pipeline): void => {
    for (const command of p) {
      for (const op of command) {
        if (op.kind === "identifier") out.add([op.name, ...op.fields].join("."));
        else if (op.kind === "data") out.add(`.${op.fields.join(".")}`);
        else if (op.kind === "group") visit(op.pipeline);
      }
    }
  };
  for (const node of nodes) if (node.kind === "action") visit(node.pipeline);
  return [...out];
}
