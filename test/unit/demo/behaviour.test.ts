import assert from "node:assert/strict";
import { behaviourFor, duringIncident, responseFor, versionOfImage } from "../../../demo/behaviour.ts";

const answers = (version: string, n: number) => Array.from({ length: n }, (_, i) => responseFor(behaviourFor(version), i));

describe("demo app: version → behaviour", () => {
  it("healthy versions answer every request 200 within 20–120 ms", () => {
    for (const version of ["1.0.0", "2.0.0", "2.1.0-rc.1", "latest"]) {
      const all = answers(version, 500);
      assert.equal(all.filter((a) => a.status !== 200).length, 0, version);
      assert.ok(all.every((a) => a.delayMs >= 20 && a.delayMs <= 120), version);
    }
  });

  it("-bad answers exactly one request in five with 500, never two in a row, and takes 200–800 ms", () => {
    const all = answers("3.0.0-bad", 1000);
    assert.equal(all.filter((a) => a.status === 500).length, 200);
    assert.ok(all.every((a, i) => i === 0 || !(a.status === 500 && all[i - 1]!.status === 500)), "no two errors in a row");
    for (let start = 0; start + 50 <= all.length; start += 50) {
      assert.equal(all.slice(start, start + 50).filter((a) => a.status === 500).length, 10, `window at ${start}`);
    }
    const delays = all.map((a) => a.delayMs);
    assert.ok(Math.min(...delays) >= 200 && Math.max(...delays) <= 800);
    assert.ok(Math.min(...delays) < 210 && Math.max(...delays) > 790, "the whole range is used");
  });

  it("-slow only adds latency, -errors only adds errors", () => {
    const slow = answers("2.1.0-slow", 100);
    assert.equal(slow.filter((a) => a.status === 500).length, 0);
    assert.ok(slow.every((a) => a.delayMs >= 200));
    const errors = answers("2.1.0-errors", 100);
    assert.equal(errors.filter((a) => a.status === 500).length, 20);
    assert.ok(errors.every((a) => a.delayMs <= 120));
  });

  it("spreads latency over the range in any short window (p99 of 100 requests is near the top)", () => {
    const delays = answers("3.0.0-bad", 100).map((a) => a.delayMs).sort((a, b) => a - b);
    assert.ok(delays[98]! > 780, `p99 ${delays[98]}`);
    assert.ok(delays[49]! > 450 && delays[49]! < 550, `median ${delays[49]}`);
  });

  it("reads the version from an image's tag", () => {
    assert.equal(versionOfImage("registry.local/aviary-demo/storefront:3.0.0-bad"), "3.0.0-bad");
    assert.equal(versionOfImage("localhost:5000/storefront:2.0.0"), "2.0.0");
    assert.equal(versionOfImage("localhost:5000/storefront"), "latest");
    assert.equal(versionOfImage("storefront:1.0.0@sha256:abc"), "1.0.0");
  });

  it("-errors2 adds 2 points of 500 and an incident 5 more points and twice the latency", () => {
    const subtle = behaviourFor("2.0.0-errors2");
    assert.equal(subtle.errorRatio, 0.02);
    assert.deepEqual(subtle.latencyMs, behaviourFor("2.0.0").latencyMs);
    const errors = Array.from({ length: 1000 }, (_, n) => responseFor(subtle, n)).filter((r) => r.status === 500).length;
    assert.equal(errors, 20);
    const hit = duringIncident(behaviourFor("1.0.0"));
    assert.equal(hit.errorRatio, 0.05);
    assert.deepEqual(hit.latencyMs, { min: 40, max: 240 });
    assert.ok(Math.abs(duringIncident(subtle).errorRatio - 0.07) < 1e-12);
  });
});
