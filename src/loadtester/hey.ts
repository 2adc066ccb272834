/**
 * `hey` command lines as Flagger's tutorials write them (`hey -z 1m -q 10 -c 2
 * http://podinfo-canary.test:9898/`), read into a LoadPlan with hey's own defaults and
 * meanings: -n 200 requests, -c 50 workers, -q is per worker, -z wins over -n, -t is
 * seconds (0: none), -T defaults to text/html. Redirects are never followed (so a
 * request cannot leave the allowed hosts); -disable-redirects is therefore accepted as is.
 */
import { durationFlag, integerFlag, isSet, numberFlag, parseFlags, single } from "./flags.ts";
import type { FlagSpec } from "./flags.ts";
import type { LoadPlan } from "./plan.ts";
import { CommandRefusedError } from "./tokenize.ts";

const TOOL = "hey";

const SPECS: FlagSpec[] = [
  { names: ["z"], kind: "value" },
  { names: ["n"], kind: "value" },
  { names: ["c"], kind: "value" },
  { names: ["q"], kind: "value" },
  { names: ["m"], kind: "value" },
  { names: ["H"], kind: "value", repeatable: true },
  { names: ["d"], kind: "value" },
  { names: ["T"], kind: "value" },
  { names: ["t"], kind: "value" },
  { names: ["A"], kind: "value" },
  { names: ["a"], kind: "value" },
  { names: ["host"], kind: "value" },
  { names: ["disable-keepalive"], kind: "bool" },
  { names: ["disable-compression"], kind: "bool" },
  { names: ["disable-redirects"], kind: "bool" },
  { names: ["cpus"], kind: "value" },
];

const REFUSALS: Record<string, string> = {
  h2: "HTTP/2 load is not generated; drop -h2 to send HTTP/1.1",
  x: "requests go straight to in-cluster Services, never through a proxy",
  D: "the load tester reads no files; pass the body with -d",
  o: "the summary comes back as JSON (and in /metrics), not as CSV",
};

const METHODS = new Set(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]);

export function parseHey(args: readonly string[]): LoadPlan {
  const flags = parseFlags(args, SPECS, { tool: TOOL, stopAtPositional: true, refusals: REFUSALS });
  const [urlText, ...extra] = flags.positionals;
  if (urlText === undefined) throw new CommandRefusedError("URL", "hey: the URL to send requests to is missing (hey [flags] http://service.namespace:port/path)");
  if (extra.length > 0) throw new CommandRefusedError(extra[0] || "argument", `hey: unexpected argument "${extra[0]}" after the URL (flags go before the URL)`);
  const url = parseTargetUrl(urlText);

  const concurrency = integerFlag(flags, "c", TOOL, 1) ?? 50;
  const requests = integerFlag(flags, "n", TOOL, 1) ?? 200;
  const durationMs = durationFlag(flags, "z", TOOL);
  if (durationMs === undefined && requests < concurrency) {
    throw new CommandRefusedError("-n", `hey: -n ${requests} is less than -c ${concurrency}: every worker needs at least one request`);
  }
  const perWorker = numberFlag(flags, "q", TOOL);
  const timeoutSeconds = integerFlag(flags, "t", TOOL, 0) ?? 20;
  integerFlag(flags, "cpus", TOOL, 1);

  const method = (single(flags, "m") ?? "GET").toUpperCase();
  if (!METHODS.has(method)) throw new CommandRefusedError("-m", `hey: -m ${method} is not an HTTP method hey sends (${[...METHODS].join(", ")})`);
  const headers: Record<string, string> = {};
  for (const line of flags.values.get("H") ?? []) {
    const colon = line.indexOf(":");
    const name = colon === -1 ? "" : line.slice(0, colon).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new CommandRefusedError("-H", `hey: -H "${line}" is not a header line ("Name: value")`);
    const value = line.slice(colon + 1).trim();
    if (/[\r\n]/.test(value)) throw new CommandRefusedError("-H", `hey: -H "${name}" has a line break in its value`);
    headers[name.toLowerCase()] = value;
  }
  headers["content-type"] = single(flags, "T") ?? headers["content-type"] ?? "text/html";
  const accept = single(flags, "A");
  if (accept !== undefined) headers.accept = accept;
  const basic = single(flags, "a");
  if (basic !== undefined) {
    if (!basic.includes(":")) throw new CommandRefusedError("-a", 'hey: -a must be "user:password"');
    headers.authorization = `Basic ${Buffer.from(basic).toString("base64")}`;
  }
  const hostHeader = single(flags, "host");
  if (hostHeader !== undefined) headers.host = hostHeader;
  if (isSet(flags, "disable-compression")) headers["accept-encoding"] = "identity";
  else headers["accept-encoding"] ??= "gzip";
  const body = single(flags, "d");
  if (body !== undefined && (method === "GET" || method === "HEAD")) {
    throw new CommandRefusedError("-d", `hey: -d sends a body, which a ${method} request does not carry; add -m POST (or PUT, PATCH)`);
  }

  return {
    tool: "hey",
    target: { kind: "http", url, method, headers, ...(body !== undefined ? { body } : {}), keepAlive: !isSet(flags, "disable-keepalive") },
    host: url.hostname.replace(/^\[|\]$/g, ""),
    concurrency,
    ...(perWorker !== undefined && perWorker > 0 ? { ratePerSecond: perWorker * concurrency } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    requests,
    timeoutMs: timeoutSeconds * 1000,
  };
}

function parseTargetUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CommandRefusedError("URL", `hey: "${text}" is not a URL (http://service.namespace:port/path)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CommandRefusedError("URL", `hey: the URL must be http:// or https://, got ${url.protocol}//`);
  if (url.username !== "" || url.password !== "") throw new CommandRefusedError("URL", "hey: credentials in the URL are not sent; use -a user:password");
  return url;
}
