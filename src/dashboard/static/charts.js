/* global document, ResizeObserver */
// The dashboard's charts, drawn with uPlot: the traffic split of the last runs, and each
// check's measured value against its range.
import uPlot from "/vendor/uPlot.esm.js";

const COLORS = { primary: "#2563eb", canary: "#f97316", value: "#0f172a", range: "#16a34a", fail: "#dc2626" };

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
