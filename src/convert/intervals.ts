/**
 * Sets of real numbers as sorted unions of disjoint intervals: what an Argo success or
 * failure condition accepts, so conditions can be intersected, joined and negated exactly
 * before deciding whether the result is one `thresholdRange`. Pure.
 */
export interface Interval {
  lo: number;
  /** The lower end is excluded (`result > lo`). Always true for -Infinity. */
  loOpen: boolean;
  hi: number;
  hiOpen: boolean;
}

export type IntervalSet = Interval[];

export const ALL: IntervalSet = [{ lo: -Infinity, loOpen: true, hi: Infinity, hiOpen: true }];
export const NONE: IntervalSet = [];

const isEmpty = (i: Interval): boolean => i.lo > i.hi || (i.lo === i.hi && (i.loOpen || i.hiOpen));

/** `>= 5` is [5, ∞); `< 5` is (-∞, 5); `== 5` is [5, 5]; `!= 5` is everything else. */
export function compare(op: ">" | ">=" | "<" | "<=" | "==" | "!=", n: number): IntervalSet {
  switch (op) {
    case ">":
      return [{ lo: n, loOpen: true, hi: Infinity, hiOpen: true }];
    case ">=":
      return [{ lo: n, loOpen: false, hi: Infinity, hiOpen: true }];
    case "<":
      return [{ lo: -Infinity, loOpen: true, hi: n, hiOpen: true }];
    case "<=":
      return [{ lo: -Infinity, loOpen: true, hi: n, hiOpen: false }];
    case "==":
      return [{ lo: n, loOpen: false, hi: n, hiOpen: false }];
    case "!=":
      return complement([{ lo: n, loOpen: false, hi: n, hiOpen: false }]);
  }
}

/** Sorted, disjoint, with touching intervals merged. */
function normalize(set: IntervalSet): IntervalSet {
  const sorted = set.filter((i) => !isEmpty(i)).sort((a, b) => a.lo - b.lo || Number(a.loOpen) - Number(b.loOpen));
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    // Overlapping, or touching with at least one closed end: one interval.
    if (last !== undefined && (i.lo < last.hi || (i.lo === last.hi && !(i.loOpen && last.hiOpen)))) {
      if (i.hi > last.hi || (i.hi === last.hi && !i.hiOpen)) {
        last.hi = i.hi;
        last.hiOpen = i.hiOpen;
      }
    } else {
      out.push({ ...i });
    }
  }
  return out;
}

export const union = (a: IntervalSet, b: IntervalSet): IntervalSet => normalize([...a, ...b]);

export function intersect(a: IntervalSet, b: IntervalSet): IntervalSet {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      const lo = Math.max(x.lo, y.lo);
      const hi = Math.min(x.hi, y.hi);
      const loOpen = (x.lo === lo && x.loOpen) || (y.lo === lo && y.loOpen);
      const hiOpen = (x.hi === hi && x.hiOpen) || (y.hi === hi && y.hiOpen);
      out.push({ lo, loOpen, hi, hiOpen });
    }
  }
  return normalize(out);
}

export function complement(set: IntervalSet): IntervalSet {
  const out: Interval[] = [];
  let lo = -Infinity;
  let loOpen = true;
  for (const i of normalize(set)) {
    out.push({ lo, loOpen, hi: i.lo, hiOpen: !i.loOpen });
    lo = i.hi;
    loOpen = !i.hiOpen;
  }
  out.push({ lo, loOpen, hi: Infinity, hiOpen: true });
  return normalize(out);
}

export const isAll = (set: IntervalSet): boolean => {
  const n = normalize(set);
  return n.length === 1 && n[0]!.lo === -Infinity && n[0]!.hi === Infinity;
};

export const isNone = (set: IntervalSet): boolean => normalize(set).length === 0;

/** `[0.95, ∞)`, `(-∞, 500)`: for report messages. */
export function describe(set: IntervalSet): string {
  const n = normalize(set);
  if (n.length === 0) return "no value";
  return n
    .map((i) => `${i.loOpen ? "(" : "["}${i.lo === -Infinity ? "-∞" : i.lo}, ${i.hi === Infinity ? "∞" : i.hi}${i.hiOpen ? ")" : "]"}`)
    .join(" ∪ ");
}
