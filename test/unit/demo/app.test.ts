import assert from "node:assert/strict";
import http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startDemoApp } from "../../../demo/app.ts";
import type { DemoApp } from "../../../demo/app.ts";

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

describe("demo app (HTTP)", () => {
  let app: DemoApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("answers by its version and exports http_requests_total and the latency histogram", async () => {
    app = await startDemoApp({ version: "2.1.0-errors" });
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(`${app!.url}/`)));
    assert.equal(answers.filter((a) => a.status === 500).length, 2);
    assert.deepEqual(JSON.parse(answers[0]!.body), { version: "2.1.0-errors", status: answers[0]!.status });
    const metrics = (await get(`${app.url}/metrics`)).body;
    assert.match(metrics, /^http_requests_total\{method="GET",status="200"\} 8$/m);
    assert.match(metrics, /^http_requests_total\{method="GET",status="500"\} 2$/m);
    assert.match(metrics, /^http_request_duration_seconds_count 10$/m);
    assert.match(metrics, /^http_request_duration_seconds_bucket\{le="0.15"\} 10$/m, "every answer within 150 ms");
    assert.match(metrics, /^demo_app_info\{version="2.1.0-errors"\} 1$/m);
    assert.equal(app.served(), 10);
  });

  it("exports its request counter at zero before the first request", async () => {
    app = await startDemoApp({ version: "1.0.0" });
    const metrics = (await get(`${app.url}/metrics`)).body;
    assert.match(metrics, /^http_requests_total\{method="GET",status="200"\} 0$/m);
    assert.equal((await get(`${app.url}/healthz`)).status, 200);
  });

  it("answers requests in flight before it closes", async () => {
    app = await startDemoApp({ version: "1.0.0" });
    const pending = get(`${app.url}/`);
    await new Promise((r) => setTimeout(r, 5));
    const closing = app.close();
    assert.equal((await pending).status, 200);
    await closing;
    app = undefined;
  });

  it("serves as during an incident while its incident file exists, and as itself once it is gone", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "aviary-demo-incident-"));
    const file = path.join(dir, "incident");
    try {
      app = await startDemoApp({ version: "1.0.0", incidentFile: file });
      const errors = async (n: number) => (await Promise.all(Array.from({ length: n }, () => get(`${app!.url}/`)))).filter((a) => a.status === 500).length;
      assert.equal(await errors(40), 0);
      await writeFile(file, "");
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(await errors(40), 2, "5 more points of 5xx");
      await rm(file);
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(await errors(40), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
