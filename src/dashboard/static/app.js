/* global document, window, location, EventSource, fetch, setTimeout, clearTimeout */
// The dashboard page: a list of Canaries (#/) and a page per Canary (#/<namespace>/<name>),
// kept current by the server's event stream. The stream sends the full state on every
// (re)connect, so the page never has to guess what it missed.
//
// Staying responsive while many releases run: messages only update state and ask for a
// frame; each frame redraws only what changed (the list's changed rows; on a Canary's page,
// the parts whose data changed, charts by swapping their data). The list is kept, hidden,
// while a Canary's page is open, so going back does not rebuild it.
import {
  chartContainer, checkChart, clearChart, comparisonEvidenceChart, comparisonRateChart, comparisonRatioChart, formatEValue, formatPercent, formatRatio, weightChart,
} from "/static/charts.js";

const state = { hello: null, canaries: new Map(), detail: null, focus: null, filter: "", result: null };
let source = null;
let reopenTimer = null;

// ---------------------------------------------------------------------------------------
// Small DOM helpers: every value from the cluster goes in as text, never as markup.

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const Node = window.Node;

function age(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return "";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const short = (rev) => (rev ? String(rev).slice(0, 10) : "–");

function phasePill(phase) {
  return h("span", { class: "phase", dataset: { phase: phase || "none" } }, phase || "(no status)");
}

function split(summary) {
  return h("span", { class: "split", title: `canary ${summary.canaryWeight}% | primary ${summary.primaryWeight}%` }, h("span", { style: `width:${summary.canaryWeight}%` }));
}

// ---------------------------------------------------------------------------------------
// The stream.

function connect() {
  if (source) source.close();
  clearTimeout(reopenTimer);
  const focus = state.focus ? `?canary=${encodeURIComponent(state.focus)}` : "";
  source = new EventSource(`/api/stream${focus}`);
  const connection = document.getElementById("connection");
  source.addEventListener("hello", (e) => {
    state.hello = JSON.parse(e.data);
    connection.dataset.state = "live";
    connection.textContent = "live";
    renderHeader();
  });
  source.addEventListener("list", (e) => {
    state.canaries = new Map(JSON.parse(e.data).map((c) => [c.key, c]));
    scheduleList();
  });
  source.addEventListener("summary", (e) => {
    const s = JSON.parse(e.data);
    const known = state.canaries.has(s.key);
    state.canaries.set(s.key, s);
    scheduleList(known ? s.key : undefined);
  });
  source.addEventListener("removed", (e) => {
    state.canaries.delete(JSON.parse(e.data).key);
    scheduleList();
  });
  source.addEventListener("detail", (e) => {
    const detail = JSON.parse(e.data);
    if (!state.focus || (detail.summary && detail.summary.key !== state.focus)) return;
    state.detail = detail;
    scheduleDetail();
  });
  source.onerror = () => {
    connection.dataset.state = "reconnecting";
    connection.textContent = "reconnecting…";
    // EventSource retries by itself after a dropped stream; a refused one it gives up on.
    if (source.readyState === EventSource.CLOSED) reopenTimer = setTimeout(connect, 2000);
  };
}

// ---------------------------------------------------------------------------------------
// Views.

function renderHeader() {
  document.getElementById("scope").textContent = state.hello ? state.hello.scope : "";
  const mode = document.getElementById("mode");
  mode.hidden = !state.hello || state.hello.actions;
  mode.textContent = "read-only";
  if (state.hello?.readOnlyReason) mode.title = state.hello.readOnlyReason;
}

function render() {
  if (state.focus) renderDetail();
  else renderList();
}

/** The list keeps one row per Canary and replaces only the rows whose summary changed. */
const rows = new Map();

function listRow(c) {
  return h("tr", { class: "row", dataset: { key: c.key, phase: c.phase || "" }, onclick: () => (location.hash = `#/${c.key}`) },
    h("td", { class: "muted" }, c.namespace),
    h("td", {}, h("a", { href: `#/${c.key}` }, c.name)),
    h("td", {}, phasePill(c.phase), c.paused ? h("span", { class: "muted" }, " paused") : null),
    h("td", {}, split(c), `${c.canaryWeight}%`),
    h("td", { class: c.failedChecks > 0 ? "bad" : "" }, `${c.failedChecks}/${c.threshold}`),
    h("td", { title: c.lastTransitionTime || "", class: "age" }, age(c.lastTransitionTime)),
    h("td", { class: "mono", title: c.revision || "" }, short(c.revision)),
    h("td", {}, c.changedBy || h("span", { class: "muted" }, "–")));
}

function renderList(changed) {
  const view = document.getElementById("list-view");
  let body = view.querySelector("#canary-list tbody");
  if (!body) {
    view.textContent = "";
    rows.clear();
    const input = h("input", { type: "search", placeholder: "filter by namespace/name", value: state.filter, "aria-label": "filter" });
    input.addEventListener("input", () => {
      state.filter = input.value.trim();
      renderList();
    });
    view.append(
      h("div", { class: "card" },
        h("div", { class: "toolbar" }, h("h1", {}, "Canaries"), input, h("span", { class: "count", id: "count" })),
        // Fixed column widths: a row that changes is laid out alone, not the whole table with it.
        h("table", { id: "canary-list" },
          h("colgroup", {}, [13, 17, 13, 15, 9, 10, 11, 12].map((w) => h("col", { style: `width:${w}%` }))),
          h("thead", {}, h("tr", {}, ["Namespace", "Name", "Phase", "Traffic (canary)", "Failed checks", "Last transition", "Revision", "Changed by"].map((t) => h("th", {}, t)))),
          h("tbody")))
    );
    body = view.querySelector("#canary-list tbody");
  }
  const items = [...state.canaries.values()].filter((c) => !state.filter || c.key.includes(state.filter)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  document.getElementById("count").textContent = `${items.length} of ${state.canaries.size}`;
  const sameRows = items.length === rows.size && items.every((c) => rows.has(c.key));
  if (sameRows) {
    // The common case while releases run (and on a reconnect): the set of rows is the same,
    // a few of them changed. Only those are redrawn.
    const keys = changed ?? items.map((c) => c.key);
    for (const key of keys) {
      const c = state.canaries.get(key);
      const old = rows.get(key);
      if (!c || !old) continue;
      const json = JSON.stringify(c);
      if (old.json === json) continue;
      const el = listRow(c);
      old.el.replaceWith(el);
      rows.set(key, { el, json });
    }
    return;
  }
  rows.clear();
  for (const c of items) rows.set(c.key, { el: listRow(c), json: JSON.stringify(c) });
  body.replaceChildren(...(items.length ? [...rows.values()].map((r) => r.el) : [h("tr", {}, h("td", { colspan: 8, class: "empty" }, state.canaries.size ? "No Canary matches the filter." : "No Canaries here yet."))]));
}

/**
 * Summaries arrive in bursts while releases run; the list is redrawn at most once a frame,
 * and not at all while a Canary's page is open (going back redraws what changed meanwhile).
 */
const pendingKeys = new Set();
let frame = null;
let detailWanted = false;
function scheduleList(key) {
  if (key) pendingKeys.add(key);
  else pendingKeys.add(null);
  requestFrame();
}

/** The Canary's page is redrawn at most once a frame, however many messages came in. */
function scheduleDetail() {
  detailWanted = true;
  requestFrame();
}

function requestFrame() {
  if (frame !== null) return;
  frame = window.requestAnimationFrame(() => {
    frame = null;
    if (state.focus) {
      if (detailWanted) renderDetail();
      detailWanted = false;
      return;
    }
    const full = pendingKeys.has(null);
    const keys = [...pendingKeys].filter((k) => k !== null);
    pendingKeys.clear();
    renderList(full ? undefined : keys);
  });
}

/** Whether `value` differs from what `el` was last drawn from (and remembers it). */
function changedFor(el, value) {
  const json = JSON.stringify(value);
  if (el.__drawnFrom === json) return false;
  el.__drawnFrom = json;
  return true;
}

function refreshAges() {
  if (state.focus) {
    for (const cell of document.querySelectorAll("#events td[data-time]")) cell.textContent = `${age(cell.dataset.time)} ago`;
    return;
  }
  for (const [key, row] of rows) {
    const c = state.canaries.get(key);
    const cell = row.el.querySelector(".age");
    if (c && cell) cell.textContent = age(c.lastTransitionTime);
  }
}

const ACTIVE = new Set(["Waiting", "Progressing", "WaitingPromotion"]);

/** Which buttons make sense in this state; the server decides again, and RBAC has the last word. */
function allowed(action, s) {
  switch (action) {
    case "promote": return ACTIVE.has(s.phase);
    case "abort": return ACTIVE.has(s.phase);
    case "retry": return s.phase === "Failed";
    case "pause": return !s.paused;
    case "resume": return s.paused;
    default: return false;
  }
}

async function act(action) {
  const key = state.focus;
  const [namespace, name] = key.split("/");
  state.result = { ok: null, message: `${action}…` };
  scheduleDetail();
  try {
    const res = await fetch(`/api/canaries/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${action}`, {
      method: "POST",
      headers: { "X-Aviary-Action": "1" },
      credentials: "same-origin",
    });
    const body = await res.json().catch(() => ({ ok: false, message: `HTTP ${res.status}` }));
    state.result = { ok: res.ok && body.ok, message: body.message + (body.notes?.length ? ` (${body.notes.join("; ")})` : ""), status: res.status };
  } catch (err) {
    state.result = { ok: false, message: `the dashboard could not be reached: ${err.message}` };
  }
  if (state.focus === key) scheduleDetail();
}

function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

function detailSkeleton(view) {
  view.textContent = "";
  const weights = chartContainer("weight-chart");
  view.append(
    h("div", { id: "detail-head" }),
    h("div", { id: "verdict-slot" }),
    section("Traffic: primary and canary weights over the last runs", weights, h("div", { class: "runs", id: "runs" })),
    section("Checks: measured values against their ranges", h("div", { class: "checks", id: "checks" })),
    h("div", { id: "comparisons-slot" }),
    h("div", { class: "grid2" },
      section("Events", h("div", { class: "scroll" }, h("table", { class: "events", id: "events" }))),
      section("Generated objects", h("table", { id: "objects" }))),
  );
}

function renderDetail() {
  const view = document.getElementById("detail-view");
  const d = state.detail;
  if (!d || (d.summary && d.summary.key !== state.focus)) {
    view.textContent = "";
    view.append(h("div", { class: "card empty" }, d && d.missing ? `Canary ${d.missing} not found.` : "Loading…"), h("a", { href: "#/" }, "← all canaries"));
    return;
  }
  if (d.missing) {
    view.textContent = "";
    view.append(h("div", { class: "card empty" }, `Canary ${d.missing} not found (deleted?).`), h("a", { href: "#/" }, "← all canaries"));
    return;
  }
  if (!view.querySelector("#weight-chart")) detailSkeleton(view);
  const s = d.summary;
  const settled = s.phase === "Succeeded" || s.phase === "Failed";

  renderHead(d, settled);
  // The verdict: why the last run ended the way it did.
  const lastRun = d.runs[d.runs.length - 1];
  const sentence = settled ? (lastRun?.verdict || s.message) : "";
  const verdictSlot = document.getElementById("verdict-slot");
  if (changedFor(verdictSlot, [settled, sentence, s.phase])) {
    verdictSlot.replaceChildren(
      settled && sentence ? h("div", { class: "verdict", id: "verdict", dataset: { outcome: s.phase } }, h("strong", {}, s.phase === "Succeeded" ? "Promoted." : "Rolled back."), sentence) : "");
  }

  weightChart(document.getElementById("weight-chart"), d.runs);
  const runs = document.getElementById("runs");
  if (changedFor(runs, d.runs.map((r) => [r.revision, r.startedAt, r.endedAt, r.outcome]))) {
    runs.replaceChildren(...d.runs.map((r, i) =>
      h("span", {}, `${i === d.runs.length - 1 ? "latest" : "previous"} run: revision ${short(r.revision)}, ${clock(r.startedAt)}–${r.endedAt ? clock(r.endedAt) : "now"}${r.outcome ? `, ${r.outcome === "Succeeded" ? "promoted" : "rolled back"}` : r.endedAt ? ", superseded" : ", running"}`)));
  }

  renderChecks(d);
  renderComparisons(d);

  const events = document.getElementById("events");
  if (changedFor(events, d.events)) {
    events.replaceChildren(
      h("thead", {}, h("tr", {}, ["When", "Reason", "Message"].map((t) => h("th", {}, t)))),
      h("tbody", {}, d.events.length ? d.events.map((e) =>
        h("tr", { dataset: { type: e.type, reason: e.reason } },
          h("td", { class: "muted", title: e.time, dataset: { time: e.time } }, `${age(e.time)} ago`),
          h("td", { class: "reason" }, e.reason, e.count > 1 ? h("span", { class: "muted" }, ` ×${e.count}`) : null),
          h("td", {}, e.message))) : h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No events kept for this Canary."))));
  }

  const objects = document.getElementById("objects");
  if (changedFor(objects, d.objects)) {
    objects.replaceChildren(
      h("thead", {}, h("tr", {}, ["Kind", "Name", "Ready"].map((t) => h("th", {}, t)))),
      h("tbody", {}, d.objects.length ? d.objects.map((o) =>
        h("tr", { dataset: { kind: o.kind, name: o.name } },
          h("td", {}, o.kind),
          h("td", { class: "mono" }, o.name),
          h("td", {}, h("span", { class: "dot", dataset: { ready: o.ready === null ? "unknown" : String(o.ready) } }), o.detail))) : h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No generated objects yet."))));
  }
}

/** The Canary's name, phase, buttons and facts; redrawn only when one of them changed. */
function renderHead(d, settled) {
  const s = d.summary;
  const slot = document.getElementById("detail-head");
  if (!changedFor(slot, [s, state.hello?.actions ?? false, state.result, Math.floor(Date.now() / 5000)])) return;
  const buttons = ["promote", "abort", "retry", "pause", "resume"].map((a) =>
    h("button", { type: "button", dataset: { action: a }, disabled: !state.hello?.actions || !allowed(a, s), title: state.hello?.actions ? "" : "read-only dashboard", onclick: () => act(a) }, a[0].toUpperCase() + a.slice(1)));
  const result = state.result ? h("div", { class: "action-result", id: "action-result", dataset: { ok: state.result.ok === null ? "" : String(state.result.ok), status: state.result.status ?? "" } }, state.result.message) : null;
  const facts = [
    ["Target", s.target],
    ["Traffic", `canary ${s.canaryWeight}% · primary ${s.primaryWeight}%`],
    ["Failed checks", `${s.failedChecks} of ${s.threshold}`],
    ["Last transition", s.lastTransitionTime ? `${new Date(s.lastTransitionTime).toLocaleString()} (${age(s.lastTransitionTime)} ago)` : "–"],
    ["Revision", s.revision || "–"],
    ["Promoted revision", s.promotedRevision || "–"],
    ["Changed by", s.changedBy || "–"],
    ["Pending requests", s.pending.length ? s.pending.join(", ") : "none"],
  ];
  document.getElementById("detail-head").replaceChildren(
    h("div", { class: "card" },
      h("div", { class: "head" }, h("a", { href: "#/" }, "← all"), h("h1", { id: "canary-name" }, `${s.namespace}/${s.name}`), phasePill(s.phase), split(s),
        s.paused ? h("span", { class: "phase" }, "paused") : null, s.suspended ? h("span", { class: "phase" }, "suspended") : null),
      h("div", { class: "actions" }, buttons),
      result,
      h("dl", { class: "facts" }, facts.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { class: k.includes("evision") ? "mono" : "" }, v)))),
      s.message && !settled ? h("div", { class: "message", id: "message" }, s.message) : null));
}

function renderChecks(d) {
  const el = document.getElementById("checks");
  const run = [...d.runs].reverse().find((r) => r.checks.length > 0);
  const latest = new Map(d.lastAnalysis.map((r) => [`${r.kind}:${r.name}`, r]));
  if (!run) {
    for (const c of el.querySelectorAll(".chart")) clearChart(c);
    const comparedOnly = d.runs.some((r) => r.comparisons && r.comparisons.length > 0);
    el.replaceChildren(h("div", { class: "empty" }, comparedOnly ? "No metric with a range of its own: the judge compares them with the primary (below)." : d.lastAnalysis.length ? "Waiting for the next measurement." : "No check has run in the runs shown."));
    return;
  }
  const wanted = run.checks.map((c) => `check-${c.kind}-${c.name}`.replace(/[^a-zA-Z0-9_-]/g, "_"));
  for (const child of [...el.children]) {
    if (!wanted.includes(child.id)) {
      for (const c of child.querySelectorAll(".chart")) clearChart(c);
      child.remove();
    }
  }
  run.checks.forEach((series, i) => {
    const id = wanted[i];
    let box = document.getElementById(id);
    if (!box) {
      box = h("div", { class: "check", id }, h("h3", {}, series.kind === "webhook" ? `webhook ${series.name}` : series.name), h("p", { class: "sentence" }), chartContainer());
      el.append(box);
    }
    const last = latest.get(`${series.kind}:${series.name}`) ?? series.points[series.points.length - 1];
    if (!changedFor(box, [series, last])) return;
    const sentence = box.querySelector(".sentence");
    sentence.textContent = last ? `${last.verdict}: ${last.message}` : "";
    sentence.className = `sentence ${last && last.verdict !== "pass" && last.verdict !== "skip" ? "bad" : "ok"}`;
    checkChart(box.querySelector(".chart"), series);
  });
}

const idFor = (prefix, name) => `${prefix}-${name}`.replace(/[^a-zA-Z0-9_-]/g, "_");
const count = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "–");
const BAD_VERDICTS = new Set(["fail", "nodata", "error"]);

/** The latest figures of a compared metric, one line each, as the judge counted them. */
function comparisonFigures(e, windows) {
  if (!e) return [["Evidence", "no window counted yet"]];
  const ci = `${Math.round(e.confidence * 1000) / 10}% CI ${formatRatio(e.ciLower ?? 0)}–${formatRatio(e.ciUpper ?? Infinity)}`;
  return [
    ["Canary", `${count(e.canaryBad)} of ${count(e.canaryRequests)} (${formatPercent(e.canaryRate)})`],
    ["Primary", `${count(e.primaryBad)} of ${count(e.primaryRequests)} (${formatPercent(e.primaryRate)})`],
    ["Ratio", `${formatRatio(e.ratio)} (${ci})`],
    ["Tolerance", formatRatio(e.tolerance)],
    ["E-value / threshold", `${formatEValue(e.eValue)} / ${formatEValue(e.threshold)}`],
    ["Windows", windows === undefined ? "–" : String(windows)],
  ];
}

/**
 * Canary versus primary for each metric with `compare`: the judge's sentence, its latest
 * figures, and three charts over the run (both arms' rates, the ratio with its interval
 * against the tolerance, the e-value against the threshold). Boxes are kept and updated in
 * place, so a new check only swaps the charts' data.
 */
function renderComparisons(d) {
  const slot = document.getElementById("comparisons-slot");
  const run = [...d.runs].reverse().find((r) => r.comparisons && r.comparisons.length > 0);
  if (!run) {
    for (const c of slot.querySelectorAll(".chart")) clearChart(c);
    slot.replaceChildren();
    return;
  }
  let list = document.getElementById("comparisons");
  if (!list) {
    list = h("div", { class: "comparisons", id: "comparisons" });
    slot.replaceChildren(section(["Compared with the primary: the judge's evidence ", h("span", { class: "muted", id: "comparisons-run" })],
      h("p", { class: "hint muted" }, "Bad events (5xx, or requests slower than a histogram boundary) counted per arm over the run so far. The canary fails when the e-value reaches the threshold: evidence, at the stated confidence, that its rate is more than the tolerance times the primary's."),
      list));
  }
  const latest = run === d.runs[d.runs.length - 1];
  document.getElementById("comparisons-run").textContent = `${latest ? "this run" : "the previous run"}: revision ${short(run.revision)}`;
  const wanted = run.comparisons.map((c) => idFor("compare", c.name));
  for (const child of [...list.children]) {
    if (!wanted.includes(child.id)) {
      for (const c of child.querySelectorAll(".chart")) clearChart(c);
      child.remove();
    }
  }
  run.comparisons.forEach((series, i) => {
    const id = wanted[i];
    let box = document.getElementById(id);
    if (!box) {
      const figure = (kind, caption) => h("figure", { dataset: { chart: kind } }, h("figcaption", {}, caption), chartContainer());
      box = h("div", { class: "comparison", id, dataset: { metric: series.name } },
        h("h3", {}, series.name, " ", h("span", { class: "outcome" })),
        h("p", { class: "sentence" }),
        h("dl", { class: "figures" }),
        h("div", { class: "compare-charts" },
          figure("rates", "Bad-event rate, run so far"),
          figure("ratio", "Ratio canary / primary, with its interval"),
          figure("evidence", "Evidence: e-value against the threshold")));
      list.append(box);
    }
    if (!changedFor(box, series)) return;
    const last = series.points[series.points.length - 1];
    const withEvidence = [...series.points].reverse().find((p) => p.evidence);
    const e = withEvidence?.evidence;
    const outcome = box.querySelector(".outcome");
    outcome.textContent = e ? e.outcome.replace(/-/g, " ") : "no data yet";
    outcome.dataset.outcome = e?.outcome ?? "none";
    box.dataset.outcome = e?.outcome ?? "none";
    const sentence = box.querySelector(".sentence");
    sentence.textContent = last ? last.message : "";
    sentence.className = `sentence ${last && BAD_VERDICTS.has(last.verdict) ? "bad" : "ok"}`;
    box.querySelector(".figures").replaceChildren(...comparisonFigures(e, withEvidence?.windows).map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
    const label = e?.label ?? "bad events";
    box.querySelector('[data-chart="rates"] figcaption').textContent = `${label}: rate per arm, run so far`;
    const [rates, ratio, evidence] = box.querySelectorAll(".chart");
    if (!withEvidence) {
      for (const c of [rates, ratio, evidence]) {
        clearChart(c);
        c.dataset.points = "0";
        c.className = "chart empty";
        c.textContent = "No window counted yet.";
      }
      return;
    }
    for (const c of [rates, ratio, evidence]) c.className = "chart";
    comparisonRateChart(rates, series);
    comparisonRatioChart(ratio, series);
    comparisonEvidenceChart(evidence, series);
  });
}

// ---------------------------------------------------------------------------------------
// Routing: #/ is the list, #/<namespace>/<name> a Canary.

function route() {
  const m = /^#\/([^/]+)\/([^/]+)$/.exec(location.hash);
  const focus = m ? `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}` : null;
  if (focus === state.focus && source) return;
  const detailView = document.getElementById("detail-view");
  for (const c of detailView.querySelectorAll(".chart")) clearChart(c);
  detailView.textContent = "";
  state.focus = focus;
  state.detail = null;
  state.result = null;
  detailView.hidden = focus === null;
  pendingKeys.clear();
  // Not display:none: a hidden list keeps its layout, so coming back does not lay out every row again.
  document.getElementById("list-view").classList.toggle("parked", focus !== null);
  render();
  connect();
}

window.addEventListener("hashchange", route);
// Ages move on even when nothing else changes.
window.setInterval(refreshAges, 5000);
route();
