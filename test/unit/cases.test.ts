import { describe, expect, it } from "vitest";
import { type CaseAlert, groupCases } from "../../src/core/cases.ts";

const T0 = Date.parse("2026-01-20T10:00:00Z");
const MIN = 60_000;
let n = 0;
const alert = (over: Partial<CaseAlert> & { at: number }): CaseAlert => {
  n += 1;
  const { at, ...rest } = over;
  return {
    id: `alr_${String(n).padStart(4, "0")}`,
    rule: "new_ip",
    severity: "medium",
    status: "open",
    accountIds: ["acc_a"],
    incidentId: null,
    firstSeenAt: new Date(at),
    lastSeenAt: new Date(at),
    ...rest,
  };
};

describe("cases", () => {
  it("groups the findings of one login into one case, worst severity first", () => {
    const cases = groupCases([
      alert({ at: T0, rule: "new_ip" }),
      alert({ at: T0, rule: "new_network" }),
      alert({ at: T0, rule: "new_country", severity: "high" }),
      alert({ at: T0, rule: "timezone_mismatch" }),
    ]);
    expect(cases).toHaveLength(1);
    expect(cases[0]!.severity).toBe("high");
    expect(cases[0]!.alerts[0]!.rule).toBe("new_country");
    expect(cases[0]!.alerts).toHaveLength(4);
  });

  it("joins an episode of minutes, splits episodes hours apart and other accounts", () => {
    const cases = groupCases([
      alert({ at: T0 }),
      alert({ at: T0 + 8 * MIN, rule: "env_hopping", severity: "high" }),
      alert({ at: T0 + 16 * MIN, rule: "new_device" }),
      alert({ at: T0 + 3 * 60 * MIN }),
      alert({ at: T0, accountIds: ["acc_b"] }),
    ]);
    expect(cases.map((c) => c.alerts.length).sort()).toEqual([1, 1, 3]);
    expect(cases[0]!.firstSeenAt.getTime()).toBe(T0 + 3 * 60 * MIN);
  });

  it("links a two-account finding to both accounts' cases", () => {
    const cases = groupCases([
      alert({ at: T0, accountIds: ["acc_a"], rule: "new_device" }),
      alert({ at: T0 + MIN, accountIds: ["acc_a", "acc_b"], rule: "shared_device", severity: "critical" }),
      alert({ at: T0 + 2 * MIN, accountIds: ["acc_b"], rule: "new_ip" }),
    ]);
    expect(cases).toHaveLength(1);
    expect(cases[0]!.accountIds.sort()).toEqual(["acc_a", "acc_b"]);
    expect(cases[0]!.severity).toBe("critical");
  });

  it("keeps a finding without accounts apart, and takes the least settled status and its incident", () => {
    const cases = groupCases([
      alert({ at: T0, accountIds: [], rule: "platform_incident", severity: "high" }),
      alert({ at: T0, status: "resolved" }),
      alert({ at: T0, status: "acknowledged", incidentId: "inc_1" }),
    ]);
    expect(cases).toHaveLength(2);
    const mine = cases.find((c) => c.accountIds.length > 0)!;
    expect(mine.status).toBe("acknowledged");
    expect(mine.incidentId).toBe("inc_1");
    expect(mine.id).toBe([...mine.alerts.map((a) => a.id)].sort()[0]);
  });
});
