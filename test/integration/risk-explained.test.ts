import { describe, expect, it } from "vitest";
import { logRatioToRisk } from "../../src/core/risk.ts";
import { client } from "../support/api.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();
const START = Date.parse("2026-01-20T00:00:00Z");

type Factor = {
  kind: string;
  value: string;
  log_ratio: number;
  levels: Array<{ kind: string; value: string; p_workspace: number; p_account: number }>;
};
type Result = { id: string; risk: number; findings: Array<{ rule: string }>; risk_factors: Factor[] | null };

describe("risk factors on every event's answer", () => {
  it("explain the score of ordinary and deviating events; a replay repeats the stored answer without them", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const ref = uid("store-");
    t.clock.set(new Date(START + 30 * 24 * HOUR));
    const learned = await api.post("/v1/events", agent.token, {
      events: Array.from({ length: 25 }, (_, i) => event(START + i * HOUR, { ref })),
    });
    expect(learned.status).toBe(202);

    const usual = event(START + 26 * HOUR, { ref });
    const stranger = event(START + 27 * HOUR, { ref, env: { ip: IP.tokyo, device_id: "dev-9", ...LA } });
    const res = await api.post("/v1/events", agent.token, { events: [usual, stranger] });
    expect(res.status).toBe(202);
    const [normal, odd] = res.body.results as Result[];

    for (const r of [normal!, odd!]) {
      expect(r.risk_factors).not.toBeNull();
      const kinds = r.risk_factors!.map((f) => f.kind).sort();
      expect(kinds).toEqual(["device", "ip", "locale", "timezone", "ua"]);
      const ratios = r.risk_factors!.map((f) => f.log_ratio);
      expect(ratios).toEqual([...ratios].sort((a, b) => b - a));
    }
    // The usual environment is common for the account: no factor speaks against it, and the score is low.
    expect(normal!.findings).toEqual([]);
    // The factors add up to the score (their log ratios are rounded to three digits: allow one point).
    const sum = normal!.risk_factors!.reduce((s, f) => s + f.log_ratio, 0);
    expect(Math.abs(normal!.risk - logRatioToRisk(sum))).toBeLessThanOrEqual(1);

    // The stranger's network and device are rare for this account: those factors lead, with p_account < p_workspace.
    const top = odd!
      .risk_factors!.slice(0, 2)
      .map((f) => f.kind)
      .sort();
    expect(top).toEqual(["device", "ip"]);
    const network = odd!.risk_factors!.find((f) => f.kind === "ip")!;
    expect(network.value).toBe(IP.tokyo);
    expect(network.levels.map((l) => l.kind)).toEqual(["country", "asn", "ip"]);
    for (const level of network.levels) expect(level.p_account).toBeLessThan(level.p_workspace);
    expect(odd!.risk).toBeGreaterThan(normal!.risk);

    const replay = await api.post("/v1/events", agent.token, { events: [stranger] });
    expect(replay.body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(replay.body.results[0]).toMatchObject({ id: stranger.id, risk: odd!.risk, risk_factors: null });
  });

  it("an event for no account has none", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const res = await api.post("/v1/events", agent.token, {
      events: [
        {
          id: uid("hb-"),
          type: "heartbeat",
          occurred_at: new Date(START).toISOString(),
          env: { ip: IP.home },
        },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.results[0]).toMatchObject({ account_id: null, risk: 0, risk_factors: null });
  });
});
