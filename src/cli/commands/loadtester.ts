import { formatDuration, tryParseDuration } from "../../api/duration.ts";
import type { LoadLimits } from "../../loadtester/bounds.ts";
import { DEFAULT_LIMITS } from "../../loadtester/bounds.ts";
import { createLogger } from "../../observability/logger.ts";
import type { Level } from "../../observability/logger.ts";
import { stringOption } from "../args.ts";
import type { OptionValues } from "../args.ts";
import type { Command } from "../command.ts";
import { EXIT_OK, UsageError } from "../exit.ts";

const LEVELS: readonly Level[] = ["debug", "info", "warn", "error"];

export const loadtesterCommand: Command = {
  name: "loadtester",
  summary: "Serve Flagger-style load-test webhooks: traffic for canaries of quiet services",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  description: [
    "A canary is judged by the traffic it gets; a quiet service gets too little to judge.",
    "This runs a small HTTP service that Canary webhooks call, as they call Flagger's load",
    "tester, to send traffic to the canary while it is analysed:",
    "",
    "  webhooks:",
    "    - name: load-test",
    "      url: http://flagger-loadtester.test/",
    "      metadata:",
    '        cmd: "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"',
    "",
    "`cmd` is one hey command (HTTP: -z -n -c -q -m -H -d -T -t -A -a -host",
    "-disable-keepalive -disable-compression -disable-redirects -cpus) or one gRPC health",
    "check (ghz --insecure --call grpc.health.v1.Health/Check [-z -n -c -q -t -d] host:port).",
    "The load tester sends the requests itself; it runs no shell and no other program, so",
    "type bash/helm/helmv3/concord, pipes, variables and unknown flags are refused (HTTP 400,",
    "naming what was refused).",
    "",
    "A call starts the command in the background and answers 202; the same command for the",
    "same canary is not started again while it runs. With metadata blocking: \"true\" the call",
    "waits and answers with the report (requests, errors by class, p50/p90/p99 latency): 200",
    "when every request succeeded, else 500. Also served: Flagger's /gate/* and /rollback/*",
    "manual gates, GET /runs, /healthz and /metrics.",
    "",
    "Requests go only to in-cluster Service names (svc, svc.ns, svc.ns.svc,",
    "svc.ns.svc.<cluster domain>) and the hosts of --allow-host. A run above a bound is refused,",
    "naming the bound. Logs are JSON lines on stderr. Stops on SIGTERM or Ctrl-C.",
  ].join("\n"),
  examples: [
    "aviary loadtester",
    "aviary loadtester --port 9090 --max-rate 200 --max-duration 5m",
    "aviary loadtester --host 127.0.0.1 --allow-host 127.0.0.1,localhost",
    "aviary loadtester --host 127.0.0.1 --map-address quiet-canary.demo:80=127.0.0.1:40123",
  ],
  options: [
    { name: "port", kind: "string", placeholder: "<port>", description: "Listen on this port (default 8080)" },
    { name: "host", kind: "string", placeholder: "<address>", description: "Listen on this address (default 0.0.0.0)" },
    { name: "max-duration", kind: "string", placeholder: "<duration>", description: `The longest run (-z, or -n at its rate) and request timeout (default ${formatDuration(DEFAULT_LIMITS.maxDurationMs)})` },
    { name: "max-rate", kind: "string", placeholder: "<req/s>", description: `The highest rate of one run, over its workers; also the pace of a run without -q (default ${DEFAULT_LIMITS.maxRatePerSecond})` },
    { name: "max-concurrency", kind: "string", placeholder: "<n>", description: `The most workers (-c) in one run (default ${DEFAULT_LIMITS.maxConcurrency})` },
    { name: "max-runs", kind: "string", placeholder: "<n>", description: `The most runs at once; more are refused with 429 (default ${DEFAULT_LIMITS.maxRuns})` },
    { name: "cluster-domain", kind: "string", placeholder: "<domain>", description: "The cluster's DNS domain, for svc.ns.svc.<domain> targets (default cluster.local)" },
    { name: "allow-host", kind: "string", placeholder: "<hosts>", description: "Comma-separated extra hosts requests may go to (IPs, names, *.example.com)" },
    { name: "map-address", kind: "string", placeholder: "<from=to,...>", description: "Outside a cluster (a local demo): connect to `to` when a command names `from`, both host:port; the Host header keeps `from`" },
    { name: "log-level", kind: "string", placeholder: "<level>", description: "debug, info, warn or error (default info)" },
  ],
  async run(inv) {
    const { io, values } = inv;
    const limits = readLimits(values);
    const port = wholeNumber(values, "port", 0, 65535) ?? 8080;
    const levelText = stringOption(values, "log-level") ?? "info";
    if (!LEVELS.includes(levelText as Level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}, got "${levelText}"`);
    const allowHosts = (stringOption(values, "allow-host") ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter((h) => h !== "");
    const clusterDomain = stringOption(values, "cluster-domain") ?? "cluster.local";
    const { parseAddressMap } = await import("../../loadtester/address-map.ts");
    let addressMap: Record<string, string>;
    try {
      addressMap = parseAddressMap(stringOption(values, "map-address") ?? "");
    } catch (err) {
      throw new UsageError(`--map-address ${(err as Error).message}`);
    }
    // Loaded here: the other commands need none of it.
    const { startLoadTester } = await import("../../loadtester/server.ts");
    const logger = createLogger({ level: levelText as Level, write: (line) => io.stderr.write(line + "\n") }, { component: "loadtester" });
    const tester = await startLoadTester({ host: stringOption(values, "host") ?? "0.0.0.0", port, limits, clusterDomain, allowHosts, addressMap, logger });
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    logger.info("stopping: cancelling runs in progress");
    await tester.close();
    return EXIT_OK;
  },
};

function readLimits(values: OptionValues): LoadLimits {
  const durationText = stringOption(values, "max-duration");
  let maxDurationMs = DEFAULT_LIMITS.maxDurationMs;
  if (durationText !== undefined) {
    const parsed = tryParseDuration(durationText);
    if (!parsed.ok || parsed.ms <= 0) throw new UsageError(`--max-duration ${parsed.ok ? "must be longer than 0" : parsed.error}`);
    maxDurationMs = parsed.ms;
  }
  return {
    maxDurationMs,
    maxRatePerSecond: wholeNumber(values, "max-rate", 1) ?? DEFAULT_LIMITS.maxRatePerSecond,
    maxConcurrency: wholeNumber(values, "max-concurrency", 1) ?? DEFAULT_LIMITS.maxConcurrency,
    maxRuns: wholeNumber(values, "max-runs", 1) ?? DEFAULT_LIMITS.maxRuns,
  };
}

function wholeNumber(values: OptionValues, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, got "${raw}"`);
  }
  return n;
}
