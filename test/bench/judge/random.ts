/**
 * Seeded randomness for the judge's simulations (unit tests and the benchmark): a small
 * 32-bit generator, normal and Poisson variates. Same seed, same numbers, on any machine.
 */

export { seededRandom } from "../../../src/ground/random.ts";

/** A seed from several small integers (scenario, run, …), so streams do not overlap. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h;
}

const LOG_FACTORIAL_TABLE: number[] = (() => {
  const t = [0];
  for (let k = 1; k < 256; k++) t.push(t[k - 1]! + Math.log(k));
  return t;
})();

/** log(k!) exactly from a table below 256, by Stirling's series above (error < 1e-12). */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL_TABLE[k]!;
  const inv = 1 / k;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + inv / 12 - (inv * inv * inv) / 360;
}

/**
 * A Poisson variate with mean `mean`: multiplication of uniforms below 10, Hörmann's
 * transformed rejection with squeeze (PTRS, 1993) above, which takes about two uniforms
 * whatever the mean.
 */
export function poisson(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 10) {
    const limit = Math.exp(-mean);
    let k = 0;
    let prod = rand();
    while (prod > limit) {
      k++;
      prod *= rand();
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const logMean = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rand() - 0.5;
    const v = rand();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logMean - logFactorial(k)) return k;
  }
}

/** The standard normal CDF (Abramowitz & Stegun 7.1.26 on erf; absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
