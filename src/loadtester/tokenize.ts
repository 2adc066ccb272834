/**
 * Splits a webhook's `cmd` into words the way a POSIX shell would for a simple command:
 * whitespace separates words, single quotes keep everything literally, double quotes keep
 * everything but `\"`, `\\`, `\$` and `` \` ``, and a backslash outside quotes escapes the next
 * character. Nothing is ever run through a shell, so anything that would make a shell do
 * more than run one program (pipes, lists, redirections, substitutions, variables) is refused
 * with the character that asked for it, rather than passed on as a literal word. Glob
 * characters stay literal, as a shell leaves a pattern that matches no file (`?` in URLs).
 */

export class CommandRefusedError extends Error {
  /** What is refused: a flag (`-x`), a field (`type`), a character (`|`)... */
  readonly subject: string;
  constructor(subject: string, message: string) {
    super(message);
    this.name = "CommandRefusedError";
    this.subject = subject;
  }
}

/** Characters that make a shell do something other than pass a word to the program. */
const OPERATORS: Record<string, string> = {
  "|": "a pipe",
  "&": "a background or && list",
  ";": "a command list",
  "<": "a redirection",
  ">": "a redirection",
  "`": "a command substitution",
  "(": "a subshell",
  ")": "a subshell",
};


function refuseCharacter(ch: string, what: string, position: number): never {
  throw new CommandRefusedError(
    ch,
    `cmd: "${ch}" at position ${position + 1} is ${what}; the load tester runs one hey or ghz command itself, never through a shell (quote the character if it is part of a value)`,
  );
}

export function tokenize(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new CommandRefusedError("'", `cmd: the single quote (') at position ${i + 1} is never closed`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (ch === '"') {
      const start = i;
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) {
          word += text[i + 1];
          i += 2;
          continue;
        }
        if (c === "$" || c === "`") refuseCharacter(c, "a substitution inside double quotes", i);
        word += c;
        i++;
      }
      if (!closed) throw new CommandRefusedError('"', `cmd: the double quote (") at position ${start + 1} is never closed`);
      inWord = true;
      continue;
    }
    if (ch === "\\") {
      if (i + 1 >= text.length) throw new CommandRefusedError("\\", "cmd: a backslash at the end escapes nothing");
      const next = text[i + 1]!;
      // A backslash before a newline continues the line, as in a shell.
      if (next !== "\n") {
        word += next;
        inWord = true;
      }
      i += 2;
      continue;
    }
    const operator = OPERATORS[ch];
    if (operator !== undefined) refuseCharacter(ch, operator, i);
    if (ch === "$") refuseCharacter(ch, "a variable or command substitution", i);
    // `#` starts a comment only at the start of a word; elsewhere (a URL fragment) it is literal.
    if (ch === "#" && !inWord) refuseCharacter(ch, "a comment", i);
    word += ch;
    inWord = true;
    i++;
  }
  if (inWord) words.push(word);
  return words;
}
