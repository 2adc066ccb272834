/**
 * How closely the load tester holds the rate it is asked for, and what a run costs it: a
 * blocking hey run at the default rate bound (1000 requests/s over 10 workers) against a
 * plain HTTP server on loopback in a child process (so the target does not share the load
 * tester's event loop).
 *
 *   node test/bench/loadtester.bench.ts     (AVIARY_BENCH_LT_RATE=1000, AVIARY_BENCH_LT_SECONDS=5)
 *
 * Prints requests sent against the schedule's count, the achieved rate, errors, latency
 * percentiles, the load tester's CPU time per request and its resident memory. The target is within 2% of the
 * schedule with 0 errors. It measures and does not assert.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { availableParallelism, loadavg } from "node:os";
import { startLoadTester } from "../../src/loadtester/server.ts";
import type { RunReport } from "../../src/loadtester/runs.ts";
import { createLogger } from "../../src/observability/logger.ts";

const RATE = Number(process.env.AVIARY_BENCH_LT_RATE ?? 1000);
const SECONDS = Number(process.env.AVIARY_BENCH_LT_SECONDS ?? 5);
const WORKERS = 10;

const TARGET = `
  const server = require("node:http").createServer((req, res) => { req.resume(); res.end("ok"); });
  server.keepAliveTimeout = 30000;
  server.listen(0, "127.0.0.1", () => process.stdout.write(String(server.address().port) + "\\n"));
`;

const child = spawn(process.execPath, ["-e", TARGET], { stdio: ["ignore", "pipe", "inherit"] });
const [chunk] = (await once(child.stdout, "data")) as [Buffer];
const port = Number(chunk.toString().trim());

const tester = await startLoadTester({ host: "127.0.0.1", port: 0, allowHosts: ["127.0.0.1"], logger: createLogger({ level: "error" }) });
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
try {
  const cmd = `hey -z ${SECONDS}s -q ${RATE / WORKERS} -c ${WORKERS} http://127.0.0.1:${port}/`;
  const res = await fetch(`${tester.url}/`, {
    method: "POST",
    body: JSON.stringify({ name: "bench", namespace: "bench", metadata: { cmd, blocking: "true" } }),
    signal: AbortSignal.timeout((SECONDS + 30) * 1000),
  });
  const report = (await res.json()) as RunReport;
  const scheduled = RATE * SECONDS;
  const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
  console.log(`cmd:        ${cmd}`);
  console.log(`sent:       ${report.requests} of ${scheduled} scheduled (${((100 * report.requests) / scheduled).toFixed(1)}%), answer ${res.status}`);
  console.log(`rate:       ${(report.requests / (report.elapsedMs / 1000)).toFixed(0)} requests/s achieved over ${report.elapsedMs} ms (asked ${RATE})`);
  console.log(`errors:     ${JSON.stringify(report.errors)}`);
  console.log(`latency ms: p50 ${report.latencyMs.p50}  p90 ${report.latencyMs.p90}  p99 ${report.latencyMs.p99}  max ${report.latencyMs.max}`);
  const cpu = process.cpuUsage(cpuBefore);
  console.log(`cpu:        ${((cpu.user + cpu.system) / 1000 / report.elapsedMs * 100).toFixed(0)}% of one core (${((cpu.user + cpu.system) / report.requests).toFixed(0)} µs per request)`);
  console.log(`rss:        ${mb(rssBefore)} before, ${mb(process.memoryUsage().rss)} after`);
  console.log(`machine:    ${availableParallelism()} cpus, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
} finally {
  await tester.close();
  child.kill();
}
