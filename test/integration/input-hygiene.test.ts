import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();
const AT = "2026-01-19T12:00:00Z";

describe("NUL and control characters", () => {
  it.each([
    ["an event id", (e: ReturnType<typeof event>) => ({ ...e, id: "ev\u0000x" }), "id"],
    [
      "a device id",
      (e: ReturnType<typeof event>) => ({ ...e, env: { ...e.env, device_id: "d\u0000" } }),
      "env.device_id",
    ],
    [
      "a user agent",
      (e: ReturnType<typeof event>) => ({ ...e, env: { ...e.env, user_agent: "UA\u0000" } }),
      "env.user_agent",
    ],
    [
      "an attribute",
      (e: ReturnType<typeof event>) => ({ ...e, attributes: { note: "a\u0000b" } }),
      "attributes",
    ],
    ["an operator", (e: ReturnType<typeof event>) => ({ ...e, operator: "li\nwei" }), "operator"],
  ])("answers 400 for %s and stores nothing of the batch", async (_, mutate, path) => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    t.clock.set(new Date("2026-01-20T00:00:00Z"));
    const good = event(AT, { ref: uid("s-") });
    const bad = mutate(event(AT, { ref: uid("s-") }));
    const res = await api.post("/v1/events", agent.token, { events: [good, bad] });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(`events.1.${path}`);
    expect((await api.get("/v1/accounts", ws.viewer)).body.accounts).toEqual([]);
  });

  it("answers 400 for NUL in admin names and labels", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    expect(
      (await api.post("/v1/accounts", ws.admin, { platform: "amazon", ref: uid("r-"), label: "x\u0000" }))
        .status,
    ).toBe(400);
    expect((await api.post("/v1/environments", ws.admin, { name: "vm\u0000" })).status).toBe(400);
    expect((await api.post("/v1/tokens", ws.admin, { name: "t\u0000", role: "viewer" })).status).toBe(400);
    expect(
      (await api.post("/v1/incidents", ws.reviewer, { platform: "amazon", title: "x\u0000" })).status,
    ).toBe(400);
  });
});
