import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import {
  type HostileRequest,
  hostileRequest,
  hostileTargets,
  notARefusal,
  rowCounts,
} from "../support/hostile.ts";
import { fillPath, MISSING_IDS, rawRequest } from "../support/routes.ts";

const t = useTestApp();

describe("hostile input, generated", () => {
  it("answers every hostile request to a write route or path parameter with a 4xx envelope, stores nothing and stays healthy", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const tokens = { admin: ws.admin, reviewer: ws.reviewer, viewer: ws.viewer, agent: agent.token };
    const targets = hostileTargets((await rawRequest(t.app, "GET", "/openapi.json")).body);
    const routes = new Set(targets.map((x) => `${x.route.method} ${x.route.path}`));
    expect(routes).toContain("POST /v1/events");
    expect(routes).toContain("PATCH /v1/accounts/:account");

    // The unspoilt bodies are accepted (or meet ids that name nothing, or a drill verification that ran and
    // failed): each case is refused for what it spoilt.
    for (const { route, caller, body } of targets) {
      if (!body) continue;
      const res = await api.call(route.method, fillPath(route.path, MISSING_IDS), tokens[caller], body());
      expect(
        [200, 201, 202, 404, 412],
        `${route.method} ${route.path}: ${JSON.stringify(res.body)}`,
      ).toContain(res.status);
    }
    const before = await rowCounts(t.database.db, ws.id);
    const seen = new Set<string>();
    const send = async (target: (typeof targets)[number], r: HostileRequest) => {
      seen.add(`${target.route.method} ${target.route.path}`);
      const res = await t.app.request(r.path, {
        method: r.method,
        headers: { ...r.headers, authorization: `Bearer ${tokens[target.caller]}` },
        body: r.body ?? null,
      });
      const problem = notARefusal(res.status, await res.text());
      if (problem) throw new Error(`${r.label}: ${problem}`);
    };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets).chain((target) => hostileRequest(target).map((r) => ({ target, r }))),
        ({ target, r }) => send(target, r),
      ),
      { numRuns: 400 },
    );
    expect([...routes].filter((r) => !seen.has(r))).toEqual([]);
    expect(await rowCounts(t.database.db, ws.id)).toEqual(before);

    const after = await api.post(
      "/v1/events",
      agent.token,
      event("2026-01-19T12:00:00Z", { ref: uid("s-") }),
    );
    expect(after.status).toBe(202);
  }, 120_000);
});
