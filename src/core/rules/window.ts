/**
 * Sliding windows over a handful of timestamped points, in O(n log n): the time-window rules run on every
 * event of a batch, and a busy account can bring a thousand neighbours.
 */

/** The most points in any window [s, s + width] that also contains `t` (the points include `t`'s own). */
export function mostInWindowAround(times: number[], t: number, width: number): number {
  const sorted = times.filter((x) => Math.abs(x - t) <= width).sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length && sorted[start]! <= t; start++) {
    if (t - sorted[start]! > width) continue;
    end = Math.max(end, start);
    while (end + 1 < sorted.length && sorted[end + 1]! <= sorted[start]! + width) end++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/**
 * The first window [s, s + width] containing `t` in which some tag family reaches its limit, scanning with
 * two pointers and per-value counters; null when none does.
 */
export function firstWindowReaching(
  points: Array<{ at: number; values: Array<string | null> }>,
  t: number,
  width: number,
  limits: number[],
): { start: number; distinct: Array<Set<string>> } | null {
  const sorted = points.filter((p) => Math.abs(p.at - t) <= width).sort((a, b) => a.at - b.at);
  const counts = limits.map(() => new Map<string, number>());
  const add = (i: number, d: number) =>
    sorted[i]!.values.forEach((v, family) => {
      if (v === null) return;
      const m = counts[family]!;
      const n = (m.get(v) ?? 0) + d;
      if (n === 0) m.delete(v);
      else m.set(v, n);
    });
  let end = -1;
  for (let start = 0; start < sorted.length && sorted[start]!.at <= t; start++) {
    if (start > 0) add(start - 1, -1);
    if (end < start - 1) end = start - 1;
    while (end + 1 < sorted.length && sorted[end + 1]!.at <= sorted[start]!.at + width) add(++end, 1);
    if (t - sorted[start]!.at > width) continue;
    if (counts.some((m, family) => m.size >= limits[family]!)) {
      return { start: sorted[start]!.at, distinct: counts.map((m) => new Set(m.keys())) };
    }
  }
  return null;
}
