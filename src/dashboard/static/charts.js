/* global document, ResizeObserver */
// The dashboard's charts, drawn with uPlot: the traffic split of the last runs, each check's
// measured value against its range, and for a metric the judge compares with the primary, the
// two arms' rates, their ratio with its confidence interval, and the evidence (the e-value)
// against the threshold that fails the canary.
import uPlot from "/vendor/uPlot.esm.js";

const COLORS = { primary: "#2563eb", canary: "#f97316", value: "#0f172a", range: "#16a34a", fail: "#dc2626", band: "rgba(15,23,42,0.08)" };

const stepped = uPlot.paths.stepped({ align: 1 });

function widthOf(el) {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || el.parentElement?.getBoundingClientRect().width || 600));
}

/** Keeps one uPlot per element; rebuilds it when the series change, else only swaps the data. */
function draw(el, makeOpts, data, signature) {
  const existing = el.__plot;
  if (existing && el.__signature === signature) {
    existing.setData(data);
    return existing;
  }
  existing?.destroy();
  el.textContent = "";
  const plot = new uPlot(makeOpts(widthOf(el)), data, el);
  el.__plot = plot;
  el.__signature = signature;
  if (!el.__resize) {
    el.__resize = new ResizeObserver(() => el.__plot?.setSize({ width: widthOf(el), height: el.__plot.height }));
    el.__resize.observe(el);
  }
  return plot;
}

/** Weights of primary and canary over the runs given (a gap between runs). */
export function weightChart(el, runs) {
  const xs = [];
  const canary = [];
  const primary = [];
  runs.forEach((run, i) => {
    if (i > 0 && xs.length > 0) {
      xs.push(xs[xs.length - 1] + 0.001);
      canary.push(null);
      primary.push(null);
    }
    for (const p of run.weights) {
      xs.push(p.t / 1000);
      canary.push(p.canary);
      primary.push(p.primary);
    }
    // A run still going extends to now, so the last step is visible.
    if (run.endedAt === undefined && run.weights.length > 0) {
      const last = run.weights[run.weights.length - 1];
      const now = Date.now() / 1000;
      if (now > xs[xs.length - 1]) {
        xs.push(now);
        canary.push(last.canary);
        primary.push(last.primary);
      }
    }
  });
  el.dataset.points = String(runs.reduce((n, r) => n + r.weights.length, 0));
  if (xs.length === 0) {
    el.__plot?.destroy();
    el.__plot = undefined;
    el.textContent = "No run seen yet: the chart starts with the next release (or the Canary's events, when they are still kept).";
    el.className = "chart empty";
    return;
  }
  el.className = "chart";
  const opts = (width) => ({
    width,
    height: 220,
    scales: { y: { range: [0, 100] } },
    axes: [{ space: 70 }, { label: "traffic %", values: (_u, vals) => vals.map((v) => v + "%") }],
    series: [
      { label: "time" },
      { label: "primary", stroke: COLORS.primary, width: 2, paths: stepped, value: (_u, v) => (v == null ? "–" : v + "%") },
      { label: "canary", stroke: COLORS.canary, width: 2, paths: stepped, fill: "rgba(249,115,22,0.10)", value: (_u, v) => (v == null ? "–" : v + "%") },
    ],
  });
  draw(el, opts, [xs, primary, canary], "weights");
}

/** One check's measured values, its allowed range, and the failed measurements marked. */
export function checkChart(el, series) {
  const xs = series.points.map((p) => p.t / 1000);
  const values = series.points.map((p) => (typeof p.value === "number" ? p.value : null));
  const mins = series.points.map((p) => (typeof p.min === "number" ? p.min : null));
  const maxs = series.points.map((p) => (typeof p.max === "number" ? p.max : null));
  const failed = series.points.map((p) => (p.verdict === "pass" || p.verdict === "skip" ? null : typeof p.value === "number" ? p.value : (p.min ?? p.max ?? 0)));
  el.dataset.points = String(xs.length);
  const hasMin = mins.some((v) => v !== null);
  const hasMax = maxs.some((v) => v !== null);
  const seriesOpts = [
    { label: "time" },
    { label: "measured", stroke: COLORS.value, width: 2, points: { show: true, size: 5 } },
  ];
  const data = [xs, values];
  if (hasMin) {
    seriesOpts.push({ label: "min", stroke: COLORS.range, dash: [6, 4], width: 1.5 });
    data.push(mins);
  }
  if (hasMax) {
    seriesOpts.push({ label: "max", stroke: COLORS.range, dash: [6, 4], width: 1.5 });
    data.push(maxs);
  }
  seriesOpts.push({ label: "failed", stroke: COLORS.fail, width: 0, paths: () => null, points: { show: true, size: 9, fill: COLORS.fail, stroke: COLORS.fail } });
  data.push(failed);
  const opts = (width) => ({ width, height: 170, series: seriesOpts, axes: [{ space: 70 }, { size: 60 }] });
  draw(el, opts, data, `check:${hasMin}:${hasMax}`);
}

const num = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);

/** Two significant digits, like the judge's sentences: 5.2, 0.41, 11; ∞ and – for missing. */
export function formatRatio(x) {
  if (x === Infinity) return "∞";
  if (typeof x !== "number" || !Number.isFinite(x)) return "–";
  if (x === 0) return "0";
  return x >= 100 ? String(Math.round(x)) : String(Number(x.toPrecision(2)));
}

export function formatPercent(rate) {
  if (typeof rate !== "number" || !Number.isFinite(rate)) return "–";
  const pct = rate * 100;
  if (pct === 0) return "0%";
  return pct >= 10 ? `${Number(pct.toFixed(1))}%` : `${Number(pct.toPrecision(2))}%`;
}

export function formatEValue(e) {
  if (typeof e !== "number" || Number.isNaN(e)) return "–";
  if (e === Infinity) return "∞";
  if (e >= 1e5 || (e > 0 && e < 1e-3)) return e.toExponential(1);
  if (e >= 10) return String(Math.round(e));
  return String(Number(e.toPrecision(2)));
}

/** Points where the judge found a regression, at `y`, for a red marker series. */
const regressions = (points, y) => points.map((p, i) => (p.evidence?.outcome === "regression" ? y[i] : null));

const marker = { label: "regression", stroke: COLORS.fail, width: 0, paths: () => null, points: { show: true, size: 9, fill: COLORS.fail, stroke: COLORS.fail } };

/**
 * Both arms' bad-event rates over the run so far (what the judge compares), and the most the
 * canary's may be: the primary's times the tolerance.
 */
export function comparisonRateChart(el, series) {
  const pts = series.points;
  const xs = pts.map((p) => p.t / 1000);
  const pct = (x) => (num(x) === null ? null : x * 100);
  const canary = pts.map((p) => pct(p.evidence?.canaryRate));
  const primary = pts.map((p) => pct(p.evidence?.primaryRate));
  const allowed = pts.map((p) => (num(p.evidence?.primaryRate) === null || num(p.evidence?.tolerance) === null ? null : p.evidence.primaryRate * p.evidence.tolerance * 100));
  el.dataset.points = String(canary.filter((v) => v !== null).length);
  const show = (_u, v) => (v == null ? "–" : formatPercent(v / 100));
  const opts = (width) => ({
    width,
    height: 170,
    axes: [{ space: 70 }, { size: 60, values: (_u, vals) => vals.map((v) => formatPercent(v / 100)) }],
    series: [
      { label: "time" },
      { label: "primary", stroke: COLORS.primary, width: 2, points: { show: true, size: 4 }, value: show },
      { label: "canary", stroke: COLORS.canary, width: 2, points: { show: true, size: 4 }, value: show },
      { label: "primary × tolerance", stroke: COLORS.fail, dash: [6, 4], width: 1.5, value: show },
      marker,
    ],
  });
  draw(el, opts, [xs, primary, canary, allowed, regressions(pts, canary)], "compare-rates");
}

/** The canary/primary ratio with its confidence interval (shaded; open above until bounded), and the tolerance. */
export function comparisonRatioChart(el, series) {
  const pts = series.points;
  const xs = pts.map((p) => p.t / 1000);
  const ratio = pts.map((p) => num(p.evidence?.ratio));
  const lower = pts.map((p) => (p.evidence ? (num(p.evidence.ciLower) ?? 0) : null));
  const upper = pts.map((p) => num(p.evidence?.ciUpper));
  const tolerance = pts.map((p) => num(p.evidence?.tolerance));
  el.dataset.points = String(ratio.filter((v) => v !== null).length);
  const show = (_u, v) => (v == null ? "–" : formatRatio(v));
  const opts = (width) => ({
    width,
    height: 170,
    axes: [{ space: 70 }, { size: 50 }],
    bands: [{ series: [3, 2], fill: COLORS.band }],
    series: [
      { label: "time" },
      { label: "ratio", stroke: COLORS.value, width: 2, points: { show: true, size: 4 }, value: show },
      { label: "CI low", stroke: "#94a3b8", width: 1, value: show },
      { label: "CI high", stroke: "#94a3b8", width: 1, value: (_u, v) => (v == null ? "∞" : formatRatio(v)) },
      { label: "tolerance", stroke: COLORS.fail, dash: [6, 4], width: 1.5, value: show },
      marker,
    ],
  });
  draw(el, opts, [xs, ratio, lower, upper, tolerance, regressions(pts, ratio)], "compare-ratio");
}

/** An e-value's power of ten as an axis label: 0.01, 1, 100, 1e6. */
function decadeLabel(e) {
  return Math.abs(e) >= 4 ? `1e${e}` : String(10 ** e);
}

/**
 * The evidence against "no worse than the tolerance" (the e-value, drawn on a log scale:
 * its power of ten) and the threshold at which the canary fails.
 */
export function comparisonEvidenceChart(el, series) {
  const pts = series.points;
  const xs = pts.map((p) => p.t / 1000);
  // Evidence below 1e-6 says the same as none; 1e300 is the judge's own cap.
  const log = (x) => (num(x) === null ? null : Math.log10(Math.min(Math.max(x, 1e-6), 1e300)));
  const evalue = pts.map((p) => log(p.evidence?.eValue));
  const threshold = pts.map((p) => log(p.evidence?.threshold));
  el.dataset.points = String(evalue.filter((v) => v !== null).length);
  const show = (_u, v) => (v == null ? "–" : formatEValue(10 ** v));
  const opts = (width) => ({
    width,
    height: 170,
    scales: {
      // Whole powers of ten around the data, the threshold and 1 (no evidence either way).
      y: { range: (_u, min, max) => [Math.min(Math.floor(min ?? 0), -1), Math.max(Math.ceil(max ?? 0), Math.ceil(Math.max(...threshold.filter((v) => v !== null), 2)) + 1)] },
    },
    axes: [{ space: 70 }, { size: 50, incrs: [1, 2, 3, 5, 10, 20, 50, 100], values: (_u, vals) => vals.map(decadeLabel) }],
    series: [
      { label: "time" },
      { label: "e-value", stroke: COLORS.value, width: 2, points: { show: true, size: 4 }, value: show },
      { label: "threshold", stroke: COLORS.fail, dash: [6, 4], width: 1.5, value: show },
      marker,
    ],
  });
  draw(el, opts, [xs, evalue, threshold, regressions(pts, evalue)], "compare-evidence");
}

export function clearChart(el) {
  el.__plot?.destroy();
  el.__plot = undefined;
  el.__resize?.disconnect();
  el.__resize = undefined;
}

export function chartContainer(id) {
  const el = document.createElement("div");
  el.className = "chart";
  if (id) el.id = id;
  return el;
}
