/**
 * Arithmetic on logarithms. Likelihood ratios over thousands of requests overflow a double
 * long before they mean anything, so every product is a sum of logs and every sum of
 * exponentials goes through logSumExp, which factors out the largest term.
 */

/** log(e^a + e^b) without overflow; -Infinity is the log of zero. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/** log(Σ e^x) over `values[from..to)`; -Infinity for an empty range. */
export function logSumExp(values: readonly number[], from = 0, to = values.length): number {
  let hi = -Infinity;
  for (let i = from; i < to; i++) hi = Math.max(hi, values[i]!);
  if (hi === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = from; i < to; i++) sum += Math.exp(values[i]! - hi);
  return hi + Math.log(sum);
}

/**
 * Rounds a stored log-likelihood to a millionth of a nat. The state is rounded after every
 * update, whether or not it is written anywhere, so a test resumed from its JSON takes
 * exactly the path an uninterrupted one would; the rounding moves an e-value by a relative
 * 1e-6 per window at most.
 */
export function roundLog(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * How far below the best grid ratio a log-likelihood is kept. A ratio 1000 nats less likely
 * than the best is ruled out beyond any confidence anyone asks for (e^-1000); keeping it at
 * -1000 instead of -10^9 changes no verdict (every threshold is below 10 nats, and data
 * would have to swing by ~990 nats to bring the point back into play) and keeps each stored
 * number to a dozen characters.
 */
export const LOG_LIKELIHOOD_FLOOR = -1000;
