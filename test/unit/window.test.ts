import { describe, expect, it } from "vitest";
import { firstWindowReaching, mostInWindowAround } from "../../src/core/rules/window.ts";

/** A small deterministic PRNG, so a failure names a reproducible case. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const W = 600;

function bruteMost(times: number[], t: number): number {
  let most = 0;
  for (const s of times) {
    if (s > t || t - s > W) continue;
    most = Math.max(most, times.filter((x) => x >= s && x <= s + W).length);
  }
  return most;
}

function bruteReaching(
  points: Array<{ at: number; values: string[] }>,
  t: number,
  limits: number[],
): boolean {
  return points.some((s) => {
    if (s.at > t || t - s.at > W) return false;
    const inside = points.filter((p) => p.at >= s.at && p.at <= s.at + W);
    return limits.some((limit, family) => new Set(inside.map((p) => p.values[family])).size >= limit);
  });
}

describe("sliding windows", () => {
  it("count the most points in a window around t exactly as brute force does", () => {
    const r = rng(7);
    for (let round = 0; round < 300; round++) {
      const times = Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * 3000));
      const t = Math.floor(r() * 3000);
      times.push(t);
      expect(mostInWindowAround(times, t, W), `round ${round}`).toBe(bruteMost(times, t));
    }
  });

  it("find a window reaching a distinct-value limit exactly when brute force does", () => {
    const r = rng(11);
    for (let round = 0; round < 300; round++) {
      const points = Array.from({ length: 1 + Math.floor(r() * 25) }, () => ({
        at: Math.floor(r() * 3000),
        values: [`ip${Math.floor(r() * 6)}`, `as${Math.floor(r() * 3)}`],
      }));
      const t = points[Math.floor(r() * points.length)]!.at;
      const hit = firstWindowReaching(points, t, W, [3, 2]);
      expect(hit !== null, `round ${round}`).toBe(bruteReaching(points, t, [3, 2]));
    }
  });

  it("stay linearithmic: a thousand neighbours are handled in one pass each", () => {
    const times = Array.from({ length: 1000 }, (_, i) => i * 3);
    expect(mostInWindowAround(times, 1500, W)).toBe(201);
    const points = times.map((at) => ({ at, values: ["same-ip", "same-as"] }));
    expect(firstWindowReaching(points, 1500, W, [3, 2])).toBeNull();
  });
});
