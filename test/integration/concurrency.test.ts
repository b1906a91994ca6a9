import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();
const START = Date.parse("2026-01-10T00:00:00Z");

describe("concurrent batches", () => {
  it("link two accounts that start sharing a device at the same moment, every time", async () => {
    const api = client(t.app);
    t.clock.set(new Date(START + 24 * HOUR));
    for (let round = 0; round < 8; round++) {
      const ws = await newWorkspace(t.database);
      const [a, b] = [await newEnvironment(api, ws.admin), await newEnvironment(api, ws.admin)];
      const device = uid("dev-");
      const [ra, rb] = await Promise.all([
        api.post(
          "/v1/events",
          a.token,
          event(START, { ref: uid("a-"), env: { ...LA, ip: IP.home, device_id: device } }),
        ),
        api.post(
          "/v1/events",
          b.token,
          event(START, {
            ref: uid("b-"),
            env: { ...LA, ip: IP.tokyo, device_id: device, timezone: "Asia/Tokyo" },
          }),
        ),
      ]);
      const rules = [...ra.body.results[0].findings, ...rb.body.results[0].findings].map(
        (f: { rule: string }) => f.rule,
      );
      expect(rules, `round ${round}`).toContain("shared_device");
      expect((await api.get("/v1/associations", ws.viewer)).body.links, `round ${round}`).toHaveLength(1);
    }
  });

  it("store and count an event id sent in two concurrent batches once", async () => {
    const api = client(t.app);
    t.clock.set(new Date(START + 24 * HOUR));
    for (let round = 0; round < 8; round++) {
      const ws = await newWorkspace(t.database);
      const [a, b] = [await newEnvironment(api, ws.admin), await newEnvironment(api, ws.admin)];
      const id = uid("same-");
      const [ra, rb] = await Promise.all([
        api.post("/v1/events", a.token, { ...event(START, { ref: uid("a-") }), id }),
        api.post("/v1/events", b.token, {
          ...event(START, { ref: uid("b-"), env: { ...LA, ip: IP.otherNetwork, device_id: "x" } }),
          id,
        }),
      ]);
      expect(ra.body.accepted + rb.body.accepted, `round ${round}`).toBe(1);
      expect(ra.body.duplicates + rb.body.duplicates, `round ${round}`).toBe(1);
      const accounts = (await api.get("/v1/accounts", ws.viewer)).body.accounts;
      const counted = accounts.reduce((n: number, acc: { event_count: number }) => n + acc.event_count, 0);
      expect(counted, `round ${round}`).toBe(1);
    }
  });
});
