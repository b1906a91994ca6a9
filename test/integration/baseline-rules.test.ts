import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, HOUR, IP, LA, MINUTE, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();
const START = Date.parse("2026-01-20T00:00:00Z");

/** A fresh workspace with one agent, and an account learned over 25 hourly events from home. */
async function learnedAccount() {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const agent = await newEnvironment(api, ws.admin);
  const ref = uid("store-");
  t.clock.set(new Date(START + 30 * 24 * HOUR));
  const events = Array.from({ length: 25 }, (_, i) => event(START + i * HOUR, { ref }));
  const res = await api.post("/v1/events", agent.token, { events });
  expect(res.status).toBe(202);
  const accountId = res.body.results[0].account_id as string;
  return { api, ws, agent, ref, accountId, after: START + 26 * HOUR };
}

describe("learned baseline", () => {
  it("forms from learning events and becomes established after enough events and hours", async () => {
    const { api, ws, accountId } = await learnedAccount();
    const account = await api.get(`/v1/accounts/${accountId}`, ws.viewer);
    expect(account.status).toBe(200);
    expect(account.body.state).toBe("established");
    expect(account.body.event_count).toBe(25);
    const baseline = await api.get(`/v1/accounts/${accountId}/baseline`, ws.viewer);
    expect(baseline.body.values.ip).toEqual([expect.objectContaining({ value: IP.home, count: 25, accepted: true })]);
    expect(baseline.body.values.asn[0].value).toBe("7922");
    expect(baseline.body.values.device[0].value).toBe("dev-1");
    expect(baseline.body.values.browser[0].value).toBe("Chrome");
  });
});
