/** How the judge writes numbers in sentences: short, with the precision the data has. */

/** Two significant digits: 5.2, 1.0, 11, 0.41; whole numbers from 100; ∞ for Infinity. */
export function formatRatio(x: number): string {
  if (Number.isNaN(x)) return "n/a";
  if (x === Infinity) return "∞";
  if (x === 0) return "0";
  if (x >= 100) return String(Math.round(x));
  return x.toPrecision(2);
}

/** A rate as a percentage with two significant digits: 2.6%, 0.5%, 0.013%, 0%. */
export function formatPercent(rate: number): string {
  if (!Number.isFinite(rate)) return "n/a";
  const pct = rate * 100;
  if (pct === 0) return "0%";
  if (pct >= 10) return `${Number(pct.toFixed(1))}%`;
  return `${Number(pct.toPrecision(2))}%`;
}

/** An e-value: 0.31, 4.2, 87, 1200, 3.4e+6. */
export function formatEValue(e: number): string {
  if (e === Infinity) return "∞";
  if (e >= 1e5) return e.toExponential(1);
  if (e >= 10) return String(Math.round(e));
  return String(Number(e.toPrecision(2)));
}

/** 250ms, 1.5s. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toPrecision(3))}s` : `${Number(ms.toPrecision(4))}ms`;
}

/** 0.99 → "99%", 0.995 → "99.5%". */
export function formatConfidence(c: number): string {
  return `${Number((c * 100).toPrecision(4))}%`;
}
