import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { virtualClock } from "../../../src/loadtester/clock.ts";
import { decodeHealthStatus, encodeHealthRequest, HEALTH_CHECK_PATH } from "../../../src/loadtester/grpc-health.ts";
import { startLoadTester } from "../../../src/loadtester/server.ts";
import type { LoadTester } from "../../../src/loadtester/server.ts";
import type { RunReport } from "../../../src/loadtester/runs.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { closedPort } from "../../support/local-server.ts";

/** A plaintext HTTP/2 gRPC health server on 127.0.0.1 answering with `status` (1 SERVING, 2 NOT_SERVING). */
async function startHealthServer(status: () => number) {
  const seen: string[] = [];
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      if (headers[":path"] !== HEALTH_CHECK_PATH) {
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" }, { endStream: true });
        return;
      }
      const body = Buffer.concat(chunks);
      // HealthCheckRequest: field 1 (service), length-delimited.
      seen.push(body.length > 5 ? body.subarray(7).toString() : "");
      const message = Buffer.from([0x08, status()]);
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(message.length, 1);
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.concat([frame, message]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function blocking(tester: LoadTester, cmd: string): Promise<{ status: number; report: RunReport }> {
  const res = await fetch(`${tester.url}/`, {
    method: "POST",
    body: JSON.stringify({ name: "grpcinfo", namespace: "test", metadata: { cmd, blocking: "true" } }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, report: (await res.json()) as RunReport };
}

describe("gRPC health checks (ghz)", () => {
  let tester: LoadTester;
  beforeEach(async () => {
    tester = await startLoadTester({ host: "127.0.0.1", port: 0, allowHosts: ["127.0.0.1"], logger: createLogger({ write: () => undefined }), clock: virtualClock() });
  });
  afterEach(() => tester.close());

  it("frames the request and reads the status the way the protocol defines", () => {
    assert.deepEqual([...encodeHealthRequest("")], [0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeHealthRequest("ab")], [0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
    assert.equal(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
    assert.equal(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 0])), 0, "an absent field is UNKNOWN");
    assert.equal(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 9, 0x08])), undefined, "truncated");
  });

  it("sends the requested checks and counts SERVING answers as successes", async () => {
    const server = await startHealthServer(() => 1);
    try {
      const { status, report } = await blocking(tester, `ghz --insecure --call grpc.health.v1.Health/Check -n 12 -c 3 -q 100 -d '{"service":"grpcinfo"}' 127.0.0.1:${server.port}`);
      assert.equal(status, 200, JSON.stringify(report));
      assert.equal(report.requests, 12);
      assert.equal(report.succeeded, 12);
      assert.deepEqual(report.codes, { "0": 12 });
      assert.equal(server.seen.length, 12);
      assert.ok(server.seen.every((s) => s === "grpcinfo"));
    } finally {
      await server.close();
    }
  });

  it("counts NOT_SERVING and an unreachable server as errors", async () => {
    const server = await startHealthServer(() => 2);
    try {
      const notServing = await blocking(tester, `ghz --insecure --call grpc.health.v1.Health/Check -n 4 -c 2 127.0.0.1:${server.port}`);
      assert.equal(notServing.status, 500);
      assert.deepEqual(notServing.report.errors, { not_serving: 4 });
    } finally {
      await server.close();
    }
    const down = await blocking(tester, `ghz --insecure --call grpc.health.v1.Health/Check -n 3 -c 1 127.0.0.1:${await closedPort()}`);
    assert.equal(down.status, 500);
    assert.equal(down.report.requests, 3);
    assert.equal(down.report.succeeded, 0);
    assert.deepEqual(Object.keys(down.report.errors), ["refused"]);
  });
});
