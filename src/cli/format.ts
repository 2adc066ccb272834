/** Pure text formatting for the CLI: clock times, the weight bar, tables and ages. */

/** `12:00:31` in the local time zone: what a person watching a terminal compares with their clock. */
export function formatClock(time: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
}

/** `[██░░░░░░░░]` for 20: the canary's share of traffic, rounded to the nearest cell. */
export function weightBar(weight: number, width = 10): string {
  const share = Math.min(100, Math.max(0, Number.isFinite(weight) ? weight : 0));
  const filled = Math.round((share / 100) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
}

/**
 * Columns padded to their widest cell and separated by three spaces, as kubectl prints
 * them; no trailing spaces, so `awk` and `column -t` read it back.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    widths
      .map((w, i) => (i === widths.length - 1 ? (cells[i] ?? "") : (cells[i] ?? "").padEnd(w)))
      .join("   ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/**
 * An age the way kubectl prints one (`45s`, `3m20s`, `25m`, `5h10m`, `2d3h`, `40d`, `3y`):
 * precise while it is short, coarser as it grows.
 */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "0s";
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

/** The age of an ISO timestamp at `now`, or "" when it is absent or unreadable. */
export function ageOf(iso: string | undefined, now: Date): string {
  if (iso === undefined) return "";
  const at = Date.parse(iso);
  return Number.isNaN(at) ? "" : formatAge(now.getTime() - at);
}

/** `key:   value` lines with the values aligned, for `status`. */
export function formatFields(fields: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...fields.map(([k]) => k.length + 1));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`);
}
