/**
 * Flag reading for the load tools' own command lines. hey uses Go's flag package (`-z 1m`,
 * `-z=1m`, `--z 1m`; flags end at the first non-flag word, the URL); ghz uses GNU-style
 * long flags with short aliases (`--call=x`, `--call x`, `-c 2`; flags and the host may
 * mix). An unknown flag is refused by name, never skipped: a silently ignored flag changes
 * the load a user asked for.
 */
import { tryParseDuration } from "../api/duration.ts";
import { CommandRefusedError } from "./tokenize.ts";

export interface FlagSpec {
  /** Every spelling without dashes: `["z"]`, `["c", "concurrency"]`; the first is canonical. */
  names: string[];
  kind: "bool" | "value";
  repeatable?: boolean;
}

export interface ParsedFlags {
  /** By canonical name: the values in order (a bool flag holds "true" or "false"). */
  values: Map<string, string[]>;
  /** How each canonical flag was written, for messages (`-z`, `--duration`). */
  spelled: Map<string, string>;
  positionals: string[];
}

export interface FlagStyle {
  tool: string;
  /** Go's flag package: flags end at the first non-flag word. */
  stopAtPositional: boolean;
  /** Why some flags the tool has are refused here (`-x`: "proxies are not supported"). */
  refusals?: Record<string, string>;
}

export function parseFlags(words: readonly string[], specs: readonly FlagSpec[], style: FlagStyle): ParsedFlags {
  const values = new Map<string, string[]>();
  const spelled = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (!word.startsWith("-") || word === "-") {
      if (style.stopAtPositional) {
        positionals.push(...words.slice(i));
        break;
      }
      positionals.push(word);
      continue;
    }
    const bare = word.replace(/^--?/, "");
    const eq = bare.indexOf("=");
    const name = eq === -1 ? bare : bare.slice(0, eq);
    const shown = word.slice(0, word.length - bare.length) + name;
    const refusal = style.refusals?.[name];
    if (refusal !== undefined) throw new CommandRefusedError(shown, `${style.tool}: flag ${shown} is not supported: ${refusal}`);
    const spec = specs.find((s) => s.names.includes(name));
    if (spec === undefined) throw new CommandRefusedError(shown, `${style.tool}: unknown flag ${shown}; the supported flags are ${describe(specs)}`);
    const key = spec.names[0]!;
    let value: string;
    if (spec.kind === "bool") {
      value = eq === -1 ? "true" : bare.slice(eq + 1);
      if (value !== "true" && value !== "false") throw new CommandRefusedError(shown, `${style.tool}: flag ${shown} takes no value (or =true/=false), got "${value}"`);
    } else if (eq !== -1) {
      value = bare.slice(eq + 1);
    } else {
      const next = words[i + 1];
      if (next === undefined) throw new CommandRefusedError(shown, `${style.tool}: flag ${shown} needs a value`);
      value = next;
      i++;
    }
    const list = values.get(key) ?? [];
    if (list.length > 0 && spec.repeatable !== true) throw new CommandRefusedError(shown, `${style.tool}: flag ${shown} is given more than once`);
    list.push(value);
    values.set(key, list);
    spelled.set(key, shown);
  }
  return { values, spelled, positionals };
}

function describe(specs: readonly FlagSpec[]): string {
  return specs.map((s) => s.names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join("/")).join(", ");
}

/** The single value of a flag, or undefined when absent. */
export const single = (flags: ParsedFlags, name: string): string | undefined => flags.values.get(name)?.[0];

export const isSet = (flags: ParsedFlags, name: string): boolean => single(flags, name) === "true";

/** How a flag was written, falling back to its canonical spelling. */
export const shownName = (flags: ParsedFlags, name: string): string => flags.spelled.get(name) ?? (name.length === 1 ? `-${name}` : `--${name}`);

/** A whole number within [min, max], or a refusal naming the flag. */
export function integerFlag(flags: ParsedFlags, name: string, tool: string, min: number): number | undefined {
  const raw = single(flags, name);
  if (raw === undefined) return undefined;
  const shown = shownName(flags, name);
  if (!/^\d+$/.test(raw)) throw new CommandRefusedError(shown, `${tool}: flag ${shown} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min) throw new CommandRefusedError(shown, `${tool}: flag ${shown} must be at least ${min}, got ${n}`);
  return n;
}

/** A decimal number of at least 0, or a refusal naming the flag. */
export function numberFlag(flags: ParsedFlags, name: string, tool: string): number | undefined {
  const raw = single(flags, name);
  if (raw === undefined) return undefined;
  const shown = shownName(flags, name);
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new CommandRefusedError(shown, `${tool}: flag ${shown} must be a number of at least 0, got "${raw}"`);
  return Number(raw);
}

/** A Go duration flag (`-z 1m`), refused by name when it does not parse or is 0. */
export function durationFlag(flags: ParsedFlags, name: string, tool: string): number | undefined {
  const raw = single(flags, name);
  if (raw === undefined) return undefined;
  const shown = shownName(flags, name);
  const parsed = tryParseDuration(raw);
  if (!parsed.ok) throw new CommandRefusedError(shown, `${tool}: flag ${shown} ${parsed.error}`);
  if (parsed.ms <= 0) throw new CommandRefusedError(shown, `${tool}: flag ${shown} must be longer than 0`);
  return parsed.ms;
}
