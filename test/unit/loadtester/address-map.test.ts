import assert from "node:assert/strict";
import { mapAddress } from "../../../src/loadtester/address-map.ts";
import { taskFromMetadata } from "../../../src/loadtester/command.ts";
import { virtualClock } from "../../../src/loadtester/clock.ts";
import { startLoadTester } from "../../../src/loadtester/server.ts";
import type { LoadTester } from "../../../src/loadtester/server.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { startLocalServer } from "../../support/local-server.ts";
import type { LocalServer } from "../../support/local-server.ts";

const planOf = (cmd: string) => taskFromMetadata({ cmd }).plan;

describe("load tester address map", () => {
  it("maps an HTTP command's Service address and keeps the Host it was written with", () => {
    const mapped = mapAddress(planOf("hey -n 5 -c 1 http://quiet-canary.test/ping"), { "Quiet-Canary.test:80": "127.0.0.1:40123" });
    assert.equal(mapped.target.kind, "http");
    if (mapped.target.kind !== "http") return;
    assert.equal(mapped.target.url.href, "http://127.0.0.1:40123/ping");
    assert.equal(mapped.target.headers.host, "quiet-canary.test");
    assert.equal(mapped.host, "quiet-canary.test", "the target policy still sees the address as written");
  });

  it("leaves unlisted addresses, other ports and an explicit -host alone", () => {
    const plan = planOf("hey -n 5 -c 1 http://quiet-canary.test:9898/");
    assert.equal(mapAddress(plan, { "quiet-canary.test:80": "127.0.0.1:1" }), plan);
    const withHost = mapAddress(planOf("hey -n 5 -c 1 -host example.test http://quiet-canary.test/"), { "quiet-canary.test:80": "127.0.0.1:1" });
    assert.equal(withHost.target.kind === "http" && withHost.target.headers.host, "example.test");
  });

  it("maps a ghz authority", () => {
    const mapped = mapAddress(planOf("ghz --insecure --call grpc.health.v1.Health/Check -n 1 quiet-canary.test:9999"), { "quiet-canary.test:9999": "127.0.0.1:5" });
    assert.equal(mapped.target.kind === "grpc-health" && mapped.target.authority, "127.0.0.1:5");
  });

  describe("in the service", () => {
    let target: LocalServer;
    let tester: LoadTester;
    afterEach(async () => {
      await tester?.close();
      await target?.close();
    });

    it("sends a command's requests to the local address standing in for the Service", async () => {
      target = await startLocalServer(() => ({ status: 200, text: "ok" }));
      const local = new URL(target.url).host;
      tester = await startLoadTester({ host: "127.0.0.1", port: 0, logger: createLogger({ write: () => undefined }), clock: virtualClock(), addressMap: { "quiet-canary.test:80": local } });
      const res = await fetch(`${tester.url}/`, {
        method: "POST",
        body: JSON.stringify({ name: "quiet", namespace: "test", metadata: { blocking: "true", cmd: "hey -n 4 -c 1 http://quiet-canary.test/" } }),
        signal: AbortSignal.timeout(20_000),
      });
      const report = (await res.json()) as { requests: number; succeeded: number; target: string };
      assert.equal(res.status, 200, JSON.stringify(report));
      assert.equal(report.succeeded, 4);
      assert.equal(report.target, "http://quiet-canary.test/");
      assert.equal(target.requests.length, 4);
      assert.ok(target.requests.every((r) => r.headers.host === "quiet-canary.test"));
    });
  });
});

describe("--map-address", () => {
  it("parses from=to pairs", async () => {
    const { parseAddressMap } = await import("../../../src/loadtester/address-map.ts");
    assert.deepEqual(parseAddressMap(" quiet-canary.demo:80=127.0.0.1:40123, quiet-primary.demo:80=127.0.0.1:40124 "), {
      "quiet-canary.demo:80": "127.0.0.1:40123",
      "quiet-primary.demo:80": "127.0.0.1:40124",
    });
    assert.deepEqual(parseAddressMap(""), {});
  });

  it("names the entry and the rule when an entry is malformed", async () => {
    const { parseAddressMap } = await import("../../../src/loadtester/address-map.ts");
    assert.throws(() => parseAddressMap("quiet-canary.demo:80"), /"quiet-canary.demo:80" must be from=to/);
    assert.throws(() => parseAddressMap("quiet-canary.demo=127.0.0.1:1"), /from "quiet-canary.demo" must be host:port/);
    assert.throws(() => parseAddressMap("a:80=127.0.0.1:70000"), /to "127.0.0.1:70000" must be host:port with a port from 1 to 65535/);
  });
});
