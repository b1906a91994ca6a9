import type { HistoryPoint } from "./rules/types.ts";

/** Index of the first point at or after `t` in points sorted by time. */
function lowerBound(points: readonly HistoryPoint[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.occurredAt < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One account's events around a batch, kept sorted by occurred_at: sorted once when loaded, new events
 * inserted in place, so a rule reads the window around an event by binary search instead of filtering and
 * sorting the whole history for every event of the batch.
 */
export class AccountHistory {
  private readonly points: HistoryPoint[];

  constructor(points: Iterable<HistoryPoint> = []) {
    this.points = [...points].sort((a, b) => a.occurredAt - b.occurredAt);
  }

  get size(): number {
    return this.points.length;
  }

  add(point: HistoryPoint): void {
    // Events mostly arrive in time order: appending is the common case.
    const last = this.points[this.points.length - 1];
    if (!last || last.occurredAt <= point.occurredAt) this.points.push(point);
    else this.points.splice(lowerBound(this.points, point.occurredAt + 1), 0, point);
  }

  /** The points within `width` of `t` (both sides, inclusive), in time order. */
  around(t: number, width: number): HistoryPoint[] {
    return this.points.slice(lowerBound(this.points, t - width), lowerBound(this.points, t + width + 1));
  }

  /** The nearest point at or before `t` and the nearest after it that satisfy `keep`, skipping `exceptId`. */
  nearest(
    t: number,
    keep: (p: HistoryPoint) => boolean,
    exceptId: string,
  ): { before: HistoryPoint | null; after: HistoryPoint | null } {
    const split = lowerBound(this.points, t + 1);
    let before: HistoryPoint | null = null;
    for (let i = split - 1; i >= 0 && !before; i--) {
      const p = this.points[i]!;
      if (p.id !== exceptId && keep(p)) before = p;
    }
    let after: HistoryPoint | null = null;
    for (let i = split; i < this.points.length && !after; i++) {
      const p = this.points[i]!;
      if (p.id !== exceptId && keep(p)) after = p;
    }
    return { before, after };
  }
}
