/**
 * `ghz` command lines, for the one call the load tester can make without the service's
 * .proto files or server reflection: the standard gRPC health check,
 *   ghz --insecure --call grpc.health.v1.Health/Check -z 1m -q 10 -c 2 podinfo.test:9898
 * ghz's own defaults and meanings hold: -n 200 requests, -c 50 workers, -q is the rate over
 * all workers, -z wins over -n, -t 20s. `--proto`/`--protoset` are accepted and not read
 * (the health schema is built in). Any other call is refused, naming it.
 */
import { durationFlag, integerFlag, isSet, numberFlag, parseFlags, single } from "./flags.ts";
import type { FlagSpec } from "./flags.ts";
import type { LoadPlan } from "./plan.ts";
import { CommandRefusedError } from "./tokenize.ts";

const TOOL = "ghz";
export const HEALTH_CHECK_CALL = "grpc.health.v1.Health/Check";

const SPECS: FlagSpec[] = [
  { names: ["insecure"], kind: "bool" },
  { names: ["call"], kind: "value" },
  { names: ["proto"], kind: "value" },
  { names: ["protoset"], kind: "value" },
  { names: ["z", "duration"], kind: "value" },
  { names: ["n", "total"], kind: "value" },
  { names: ["c", "concurrency"], kind: "value" },
  { names: ["q", "rps"], kind: "value" },
  { names: ["t", "timeout"], kind: "value" },
  { names: ["d", "data"], kind: "value" },
];

const REFUSALS: Record<string, string> = {
  cacert: "only plaintext gRPC (--insecure) is supported",
  cert: "only plaintext gRPC (--insecure) is supported",
  key: "only plaintext gRPC (--insecure) is supported",
  skipTLS: "only plaintext gRPC (--insecure) is supported",
  reflect: "server reflection is not used; only the health check can be called",
  D: "the load tester reads no files; pass the request with -d",
  "data-file": "the load tester reads no files; pass the request with -d",
  B: "binary request data is not supported",
  b: "binary request data is not supported",
  config: "the load tester reads no files",
};

export function parseGhz(args: readonly string[]): LoadPlan {
  const flags = parseFlags(args, SPECS, { tool: TOOL, stopAtPositional: false, refusals: REFUSALS });
  const [authority, ...extra] = flags.positionals;
  if (authority === undefined) throw new CommandRefusedError("host", "ghz: the host:port to call is missing (ghz --insecure --call grpc.health.v1.Health/Check service.namespace:port)");
  if (extra.length > 0) throw new CommandRefusedError(extra[0] || "argument", `ghz: unexpected argument "${extra[0]}": give one host:port`);
  const call = single(flags, "call");
  if (call === undefined) {
    throw new CommandRefusedError("--call", `ghz: --call is required: without it ghz uses server reflection, which the load tester does not; use --call ${HEALTH_CHECK_CALL}`);
  }
  if (call !== HEALTH_CHECK_CALL && call !== "grpc.health.v1.Health.Check") {
    throw new CommandRefusedError("--call", `ghz: --call ${call} is not supported: only ${HEALTH_CHECK_CALL} can be called without the service's .proto files`);
  }
  if (!isSet(flags, "insecure")) throw new CommandRefusedError("--insecure", "ghz: only plaintext gRPC is supported; add --insecure");
  const host = hostOf(authority);

  const concurrency = integerFlag(flags, "c", TOOL, 1) ?? 50;
  const requests = integerFlag(flags, "n", TOOL, 1) ?? 200;
  const durationMs = durationFlag(flags, "z", TOOL);
  const rate = numberFlag(flags, "q", TOOL);
  const timeoutMs = durationFlag(flags, "t", TOOL) ?? 20_000;
  return {
    tool: "ghz",
    target: { kind: "grpc-health", authority, service: healthService(single(flags, "d")) },
    host,
    concurrency,
    ...(rate !== undefined && rate > 0 ? { ratePerSecond: rate } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    requests,
    timeoutMs,
  };
}

/**
 * `host:port` or `[v6]:port` → the host as the connection will resolve it: normalised the
 * way a URL is (`2130706433` and `0x7f.1` are 127.0.0.1), so the target policy judges the
 * address actually dialled. The port is required, as ghz requires it.
 */
function hostOf(authority: string): string {
  const refuse = () => new CommandRefusedError("host", `ghz: "${authority}" is not host:port (service.namespace:9898)`);
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/@?#\\]+):(\d{1,5})$/.exec(authority);
  if (m === null || Number(m[2]) === 0 || Number(m[2]) > 65535) throw refuse();
  let url: URL;
  try {
    url = new URL(`http://${authority}`);
  } catch {
    throw refuse();
  }
  return url.hostname.replace(/^\[|\]$/g, "");
}

/** -d '{"service": "name"}': the service whose health is asked; nothing else may be set. */
function healthService(data: string | undefined): string {
  if (data === undefined) return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new CommandRefusedError("-d", `ghz: -d must be a JSON HealthCheckRequest such as '{"service": "podinfo"}', got ${JSON.stringify(data)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CommandRefusedError("-d", "ghz: -d must be a JSON object");
  const fields = Object.keys(parsed);
  const unknown = fields.find((f) => f !== "service");
  if (unknown !== undefined) throw new CommandRefusedError("-d", `ghz: -d field "${unknown}" is not a HealthCheckRequest field (only "service")`);
  const service = (parsed as { service?: unknown }).service ?? "";
  if (typeof service !== "string") throw new CommandRefusedError("-d", 'ghz: -d field "service" must be a string');
  return service;
}
