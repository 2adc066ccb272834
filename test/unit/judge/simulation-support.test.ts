/** The benchmark's samplers and its Prometheus-style quantile, so the comparison it prints is sound. */
import assert from "node:assert/strict";
import { poisson, seededRandom, normalCdf } from "../../bench/judge/random.ts";
import { emptyArmWindow, histogramQuantile } from "../../bench/judge/traffic.ts";

describe("judge benchmark support", () => {
  it("draws Poisson counts with the right mean and variance, small and large", () => {
    const rand = seededRandom(5);
    for (const mean of [0.3, 4, 60, 2500]) {
      const n = 20000;
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        const k = poisson(rand, mean);
        sum += k;
        sumSq += k * k;
      }
      const m = sum / n;
      const v = sumSq / n - m * m;
      assert.ok(Math.abs(m - mean) < 5 * Math.sqrt(mean / n), `mean ${m} for ${mean}`);
      assert.ok(Math.abs(v / mean - 1) < 0.05, `variance ${v} for ${mean}`);
    }
  });

  it("computes the normal CDF to 1e-6", () => {
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-6);
    assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
    assert.ok(Math.abs(normalCdf(-2.326348) - 0.01) < 1e-6);
  });

  it("interpolates the p99 inside its bucket as histogram_quantile does, and caps it at the last finite boundary", () => {
    const w = emptyArmWindow();
    // 1000 requests: 900 up to 100ms, 80 in (100, 250], 20 in (250, 500].
    w.cells = [0, 0, 900, 80, 20, 0, 0, 0];
    w.requests = 1000;
    // rank 990 is the 10th of 20 in (250, 500]: 250 + 250 * 10/20.
    assert.equal(histogramQuantile(0.99, w), 375);
    w.cells = [0, 0, 900, 80, 0, 0, 0, 20];
    assert.equal(histogramQuantile(0.99, w), 2500);
    assert.ok(Number.isNaN(histogramQuantile(0.99, emptyArmWindow())));
  });
});
