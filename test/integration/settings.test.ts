import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, FIREFOX_MAC, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp({ TETHER_LEARNING_EVENTS: 20 });
const START = Date.parse("2026-01-10T00:00:00Z");

describe("workspace settings", () => {
  it("shows the environment defaults, takes overrides, and restores a default with null", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const before = await api.get("/v1/settings", ws.viewer);
    expect(before.body).toMatchObject({
      overrides: {},
      effective: { learning_events: 20, alert_min_severity: "medium" },
    });
    expect(before.body.effective.sensitive_operations).toContain("binding_change");

    const patched = await api.patch("/v1/settings", ws.admin, {
      learning_events: 3,
      extra_sensitive_operations: ["ad_budget_change"],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.effective).toMatchObject({ learning_events: 3 });
    expect(patched.body.effective.sensitive_operations).toContain("ad_budget_change");

    const restored = await api.patch("/v1/settings", ws.admin, { learning_events: null });
    expect(restored.body.overrides).toEqual({ extra_sensitive_operations: ["ad_budget_change"] });
    expect(restored.body.effective.learning_events).toBe(20);
  });

  it("rejects unknown keys and bad values, and lets only admins change settings", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const bad = await api.patch("/v1/settings", ws.admin, { learning_events: -1, surprise: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("bad_request");
    expect((await api.patch("/v1/settings", ws.reviewer, { learning_events: 3 })).status).toBe(403);
    expect((await api.get("/v1/settings", ws.viewer)).body.overrides).toEqual({});
  });

  it("applies the workspace's thresholds to ingestion: a shorter learning and a lower alert threshold", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    await api.patch("/v1/settings", ws.admin, {
      learning_events: 3,
      learning_hours: 1,
      alert_min_severity: "low",
    });
    const agent = await newEnvironment(api, ws.admin);
    t.clock.set(new Date(START + 10 * 24 * HOUR));
    const ref = uid("s-");
    await api.post("/v1/events", agent.token, {
      events: [0, 1, 2].map((i) => event(START + i * HOUR, { ref })),
    });
    const res = await api.post(
      "/v1/events",
      agent.token,
      event(START + 3 * HOUR, {
        ref,
        env: { ip: IP.home, device_id: "dev-1", ...LA, user_agent: FIREFOX_MAC },
      }),
    );
    expect(res.body.results[0].findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "ua_changed" })]),
    );
    const alerts = (await api.get("/v1/alerts?rule=ua_changed", ws.viewer)).body.alerts;
    expect(alerts.length).toBeGreaterThan(0);
  });
});
