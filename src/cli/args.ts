/**
 * Command-line parsing, kubectl-style: flags may come before or after the command and its
 * arguments; `--flag value`, `--flag=value`, `-n value`, `-n=value` and `-nvalue` all work;
 * `--` ends the flags. Pure: it only reads the argument list and the option tables.
 */
import { UsageError } from "./exit.ts";

export type OptionKind = "boolean" | "string";

export interface OptionSpec {
  /** The long name, without dashes (`namespace`). */
  name: string;
  /** A one-letter alias (`n`). */
  short?: string;
  kind: OptionKind;
  /** What the value is, for help (`<duration>`). */
  placeholder?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface ParsedCommandLine {
  positionals: string[];
  values: OptionValues;
}

/** The command word: the first argument that is neither a flag nor a flag's value. */
export function findCommand(argv: readonly string[], options: readonly OptionSpec[]): { name: string; index: number } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      const next = argv[i + 1];
      return next === undefined ? undefined : { name: next, index: i + 1 };
    }
    if (!isFlag(arg)) return { name: arg, index: i };
    const spec = lookup(arg, options);
    // A flag that takes a value in the next argument hides that argument from the search.
    if (spec?.kind === "string" && !inlineValue(arg).present) i++;
  }
  return undefined;
}

/** Parses flags and positionals; throws UsageError naming the offending argument. */
export function parseCommandLine(argv: readonly string[], options: readonly OptionSpec[], context = "aviary"): ParsedCommandLine {
  const values: OptionValues = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isFlag(arg)) {
      positionals.push(arg);
      continue;
    }
    const spec = lookup(arg, options);
    const shown = flagName(arg);
    if (spec === undefined) throw new UsageError(`unknown flag ${shown} for ${context}`);
    const inline = inlineValue(arg);
    if (spec.kind === "boolean") {
      if (inline.present) {
        if (inline.value !== "true" && inline.value !== "false") throw new UsageError(`flag ${shown} takes no value (or =true/=false), got "${inline.value}"`);
        values[spec.name] = inline.value === "true";
      } else {
        values[spec.name] = true;
      }
      continue;
    }
    let value = inline.value;
    if (!inline.present) {
      const next = argv[i + 1];
      if (next === undefined || (isFlag(next) && next !== "-")) throw new UsageError(`flag ${shown} needs a value${spec.placeholder ? ` ${spec.placeholder}` : ""}`);
      value = next;
      i++;
    }
    if (value === "") throw new UsageError(`flag ${shown} needs a non-empty value`);
    values[spec.name] = value;
  }
  return { positionals, values };
}

export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
};

export const booleanOption = (values: OptionValues, name: string): boolean => values[name] === true;

const isFlag = (arg: string): boolean => arg.length > 1 && arg.startsWith("-");

/** `--namespace=x` → `--namespace`, `-nfoo` → `-n`. */
function flagName(arg: string): string {
  if (arg.startsWith("--")) {
    const eq = arg.indexOf("=");
    return eq === -1 ? arg : arg.slice(0, eq);
  }
  return arg.slice(0, 2);
}

function lookup(arg: string, options: readonly OptionSpec[]): OptionSpec | undefined {
  if (arg.startsWith("--")) {
    const name = flagName(arg).slice(2);
    return options.find((o) => o.name === name);
  }
  const short = arg.slice(1, 2);
  return options.find((o) => o.short === short);
}

function inlineValue(arg: string): { present: boolean; value: string } {
  if (arg.startsWith("--")) {
    const eq = arg.indexOf("=");
    return eq === -1 ? { present: false, value: "" } : { present: true, value: arg.slice(eq + 1) };
  }
  // -n=foo and -nfoo
  if (arg.length === 2) return { present: false, value: "" };
  return { present: true, value: arg[2] === "=" ? arg.slice(3) : arg.slice(2) };
}
