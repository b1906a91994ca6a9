import { describe, expect, it } from "vitest";
import {
  compareFigures,
  type DrillFigures,
  type DrillIncident,
  drillSpan,
  FIGURES,
  sameScope,
} from "../../src/core/drill-report.ts";

const START = Date.parse("2026-03-01T10:00:00Z");
const MINUTE = 60_000;

function drill(over: Partial<DrillIncident> = {}): DrillIncident {
  return {
    id: "inc_1",
    platform: "tiktok_shop",
    region: null,
    title: "rehearsal",
    source: "declared",
    status: "active",
    startedAt: new Date(START),
    endedAt: null,
    evidence: {},
    kind: "drill",
    plannedMinutes: 30,
    plannedEndAt: new Date(START + 30 * MINUTE),
    scope: null,
    createdBy: "reviewer",
    ...over,
  };
}

const figures = (over: Partial<DrillFigures>): DrillFigures => ({
  ...(Object.fromEntries(FIGURES.map((f) => [f, 0])) as DrillFigures),
  ...over,
});

describe("the drill report's pure parts", () => {
  it("reads an active drill up to now, never past its planned end, and an ended one up to its end", () => {
    expect(drillSpan(drill(), new Date(START + 10 * MINUTE))).toEqual({
      from: START,
      to: START + 10 * MINUTE,
    });
    expect(drillSpan(drill(), new Date(START + 90 * MINUTE))).toEqual({
      from: START,
      to: START + 30 * MINUTE,
    });
    const ended = drill({ status: "closed", endedAt: new Date(START + 12 * MINUTE) });
    expect(drillSpan(ended, new Date(START + 90 * MINUTE))).toEqual({ from: START, to: START + 12 * MINUTE });
  });

  it("compares only drills of the same platform and scope, whatever the order of the listed accounts", () => {
    const listed = drill({ scope: { account_ids: ["acc_b", "acc_a"] } });
    expect(sameScope(listed, drill({ scope: { account_ids: ["acc_a", "acc_b"] } }))).toBe(true);
    expect(sameScope(listed, drill({ scope: { account_ids: ["acc_a"] } }))).toBe(false);
    expect(sameScope(listed, drill())).toBe(false);
    expect(sameScope(drill({ scope: { group: "a" } }), drill({ scope: { group: "a" } }))).toBe(true);
    expect(sameScope(drill({ scope: { group: "a" } }), drill({ scope: { group: "b" } }))).toBe(false);
    expect(sameScope(drill(), drill({ platform: "amazon" }))).toBe(false);
    expect(sameScope(drill(), drill({ id: "inc_2" }))).toBe(true);
  });

  it("says which way each figure moved: fewer improvised actions and more asking first are better", () => {
    const changes = compareFigures(
      figures({
        network_switches: 1,
        compliance: 0.9,
        first_ack_seconds: null,
        operations: 12,
        retry_storms: 2,
      }),
      figures({
        network_switches: 3,
        compliance: 0.6,
        first_ack_seconds: 300,
        operations: 10,
        retry_storms: 2,
      }),
    );
    const of = (f: string) => changes.find((c) => c.figure === f);
    expect(of("network_switches")).toEqual({
      figure: "network_switches",
      current: 1,
      previous: 3,
      change: -2,
      improved: true,
    });
    expect(of("compliance")).toMatchObject({ change: 0.3, improved: true });
    expect(of("first_ack_seconds")).toMatchObject({ change: null, improved: null });
    expect(of("operations")).toMatchObject({ change: 2, improved: null });
    expect(of("retry_storms")).toMatchObject({ change: 0, improved: null });
    expect(
      compareFigures(figures({ without_asking: 4 }), figures({ without_asking: 1 })).find(
        (c) => c.figure === "without_asking",
      ),
    ).toMatchObject({ change: 3, improved: false });
  });
});
