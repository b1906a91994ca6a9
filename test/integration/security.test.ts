import { beforeAll, describe, expect, it } from "vitest";
import { MAX_INGEST_BODY_BYTES } from "../../src/http/events/schemas.ts";
import { type Client, client } from "../support/api.ts";
import { event, HOUR, IP, newEnvironment, newWorkspace, uid, type Workspace } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import {
  CALLERS,
  type Caller,
  callRoute,
  expectError,
  expectInvalid,
  fillPath,
  MISSING_IDS,
  openApiName,
  PROTECTED_ROUTES,
  type RouteIds,
  rawRequest,
} from "../support/routes.ts";

// The auth table sends ~80 failed authentications from one test client; rate-limit.test.ts covers the limit.
const t = useTestApp({ TETHER_AUTH_FAILURE_LIMIT: 0 });
/** Events occur before the harness clock (2026-01-20T00:00:00Z), so none is in the future. */
const PAST = Date.parse("2026-01-19T12:00:00Z");

/** A fresh workspace and one agent of it. */
async function agentWorkspace() {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const env = await api.post("/v1/environments", ws.admin, { name: uid("env-"), account_ids: [] });
  expect(env.status).toBe(201);
  return {
    api,
    ws,
    agent: env.body.token as string,
    agentTokenId: env.body.token_id as string,
    environmentId: env.body.environment.id as string,
  };
}

/**
 * An open `timezone_mismatch` alert: a device clock in Shanghai behind a Californian IP is flagged from the
 * very first event of an account.
 */
async function openAlert(api: Client, ws: Workspace, agent: string) {
  const ref = uid("store-");
  const res = await api.post(
    "/v1/events",
    agent,
    event(PAST, { ref, env: { ip: IP.home, device_id: uid("dev-"), timezone: "Asia/Shanghai" } }),
  );
  expect(res.status).toBe(202);
  const accountId = res.body.results[0].account_id as string;
  const alerts = await api.get(`/v1/alerts?account_id=${accountId}&rule=timezone_mismatch`, ws.viewer);
  expect(alerts.body.alerts).toHaveLength(1);
  return { alertId: alerts.body.alerts[0].id as string, accountId, ref };
}

/** Nothing of a rejected ingest was stored: no account was registered, no alert raised. */
async function expectNothingIngested(api: Client, ws: Workspace) {
  const accounts = await api.get("/v1/accounts", ws.admin);
  expect(accounts.status).toBe(200);
  expect(accounts.body.accounts).toEqual([]);
  const alerts = await api.get("/v1/alerts", ws.admin);
  expect(alerts.body.alerts).toEqual([]);
}

describe("POST /v1/events rejects bad input and stores nothing of it", () => {
  const valid = () => event(PAST, { ref: uid("store-") });

  it("answers 400 to malformed JSON", async () => {
    const { api, ws, agent } = await agentWorkspace();
    const res = await api.call("POST", "/v1/events", agent, '{"id":');
    expectError(res, 400, "bad_request");
    await expectNothingIngested(api, ws);
  });

  const cases: Array<[string, () => unknown, string[]]> = [
    ["occurred_at of the wrong type", () => ({ ...valid(), occurred_at: 5 }), ["occurred_at"]],
    ["occurred_at that is not RFC 3339", () => ({ ...valid(), occurred_at: "yesterday" }), ["occurred_at"]],
    ["an unknown type", () => ({ ...valid(), type: "nope" }), ["type"]],
    ["an id that is not a string", () => ({ ...valid(), id: 7 }), ["id"]],
    ["env.ip of the wrong type", () => ({ ...valid(), env: { ip: 12 } }), ["env.ip"]],
    ["an invalid IP", () => ({ ...valid(), env: { ip: "999.1.1.1" } }), ["env.ip"]],
    ["an invalid timezone", () => ({ ...valid(), env: { timezone: "Mars/Base" } }), ["env.timezone"]],
    [
      "a platform that is not a slug",
      () => ({ ...valid(), account: { platform: "TikTok Shop", ref: "x" } }),
      ["account.platform"],
    ],
    ["attributes over 4 KiB", () => ({ ...valid(), attributes: { pad: "x".repeat(5000) } }), ["attributes"]],
    [
      "a batch event of the wrong type",
      () => ({ events: [{ ...valid(), occurred_at: 5 }] }),
      ["events.0.occurred_at"],
    ],
    [
      "a batch whose second event is bad",
      () => ({ events: [valid(), { ...valid(), type: "nope" }] }),
      ["events.1.type"],
    ],
    ["an empty batch", () => ({ events: [] }), ["events"]],
    ["a batch of 1001 events", () => ({ events: Array.from({ length: 1001 }, valid) }), ["events"]],
    ["a login without an account", () => ({ ...valid(), account: undefined }), ["account"]],
    ["an operation event without its operation", () => ({ ...valid(), type: "operation" }), ["operation"]],
    [
      "an event an hour in the future",
      () => event(t.clock.now().getTime() + HOUR, { ref: uid("store-") }),
      ["occurred_at"],
    ],
  ];
  it.each(cases)("answers 400 to %s, naming the offending path", async (_, body, paths) => {
    const { api, ws, agent } = await agentWorkspace();
    const res = await api.post("/v1/events", agent, body());
    expectInvalid(res, ...paths);
    await expectNothingIngested(api, ws);
  });

  it("stores no event of a batch when one is in the future, not even the good one", async () => {
    const { api, ws, agent } = await agentWorkspace();
    const good = event(PAST, { ref: uid("store-") });
    const future = event(t.clock.now().getTime() + HOUR, { ref: uid("store-") });
    const res = await api.post("/v1/events", agent, { events: [good, future] });
    expectInvalid(res, "events.1.occurred_at");
    await expectNothingIngested(api, ws);

    // Had the good event been stored, its second delivery would be a duplicate.
    const again = await api.post("/v1/events", agent, good);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ accepted: 1, duplicates: 0 });
    const stored = await api.get(`/v1/accounts/${again.body.results[0].account_id}/events`, ws.viewer);
    expect(stored.body.events.map((e: { id: string }) => e.id)).toEqual([good.id]);
  });

  it("answers 413 to a body one byte longer than the largest legal batch", async () => {
    const { api, ws, agent } = await agentWorkspace();
    const big = JSON.stringify({ ...valid(), attributes: { pad: "" } }).replace(
      '"pad":""',
      `"pad":"${"x".repeat(MAX_INGEST_BODY_BYTES - JSON.stringify({ ...valid(), attributes: { pad: "" } }).length + 1)}"`,
    );
    expect(big.length).toBe(MAX_INGEST_BODY_BYTES + 1);
    const res = await api.call("POST", "/v1/events", agent, big);
    expectError(res, 413, "payload_too_large");
    await expectNothingIngested(api, ws);
  });

  it.each([
    ["without a Content-Type", {}],
    ["as text/plain", { "content-type": "text/plain" }],
    ["as form data", { "content-type": "application/x-www-form-urlencoded" }],
  ])("answers 415 with the envelope to a body sent %s", async (_, headers) => {
    const { api, ws, agent } = await agentWorkspace();
    const res = await rawRequest(t.app, "POST", "/v1/events", {
      headers: { authorization: `Bearer ${agent}`, ...headers },
      body: JSON.stringify(valid()),
    });
    expectError(res, 415, "bad_request");
    await expectNothingIngested(api, ws);
  });
});

describe("authentication and roles on every protected route", () => {
  const f = {} as {
    api: Client;
    ws: Workspace;
    tokens: Record<Caller, string>;
    revoked: string;
    ids: RouteIds;
    before: unknown;
    /** another workspace, where allowed callers may create things without disturbing `ws` */
    reach: Record<Caller, string>;
  };

  /** What a refused call must leave as it was: every list the table's routes could write to. */
  async function state() {
    const { api, ws } = f;
    return {
      alerts: (await api.get("/v1/alerts", ws.admin)).body,
      accounts: (await api.get("/v1/accounts", ws.admin)).body,
      environments: (await api.get("/v1/environments", ws.admin)).body,
      tokens: (await api.get("/v1/tokens", ws.admin)).body,
      settings: (await api.get("/v1/settings", ws.admin)).body,
      incidents: (await api.get("/v1/incidents", ws.admin)).body,
      channels: (await api.get("/v1/channels", ws.admin)).body,
    };
  }

  beforeAll(async () => {
    const { api, ws, agent, environmentId } = await agentWorkspace();
    const { alertId, accountId } = await openAlert(api, ws, agent);
    const target = await api.post("/v1/tokens", ws.admin, { name: uid("target-"), role: "viewer" });
    const incident = await api.post("/v1/incidents", ws.reviewer, {
      platform: "amazon",
      title: "auth fixture",
      started_at: "2026-01-01T00:00:00Z",
    });
    const drill = await api.get("/v1/drills/verify", ws.viewer);
    const channel = await api.post("/v1/channels", ws.admin, {
      name: uid("ch-"),
      kind: "slack",
      url: "http://127.0.0.1:9/hook",
    });
    const doomed = await api.post("/v1/tokens", ws.admin, { name: uid("doomed-"), role: "admin" });
    expect((await api.del(`/v1/tokens/${doomed.body.id}`, ws.admin)).status).toBe(200);
    const other = await agentWorkspace();
    Object.assign(f, {
      api,
      ws,
      tokens: { agent, viewer: ws.viewer, reviewer: ws.reviewer, admin: ws.admin },
      revoked: doomed.body.token,
      ids: {
        alert: alertId,
        account: accountId,
        environment: environmentId,
        token: target.body.id,
        incident: incident.body.id,
        drill: drill.body.id,
        channel: channel.body.id,
      },
      reach: {
        agent: other.agent,
        viewer: other.ws.viewer,
        reviewer: other.ws.reviewer,
        admin: other.ws.admin,
      },
    });
    // A first use stamps last_used_at, which the snapshot would otherwise see change.
    for (const token of Object.values(f.tokens))
      expect((await api.get("/v1/whoami", token)).status).toBe(200);
    f.before = await state();
    expect(f.before).toMatchObject({
      alerts: { alerts: [{ id: alertId, status: "open" }] },
      accounts: { accounts: [{ id: accountId, label: null }] },
    });
  });

  describe.each(PROTECTED_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (_, route) => {
    /** A refused write leaves every list as it was; a read has nothing to leave. */
    const expectUnchanged = async () => {
      if (route.method !== "GET") expect(await state()).toEqual(f.before);
    };

    it("answers 401 without a token, changing nothing", async () => {
      expectError(await callRoute(f.api, route, f.ids, null), 401, "unauthorized");
      await expectUnchanged();
    });

    it("answers 401 to a token it does not know, changing nothing", async () => {
      expectError(await callRoute(f.api, route, f.ids, "wrong-token"), 401, "unauthorized");
      await expectUnchanged();
    });

    it("answers 401 to a revoked admin token, changing nothing", async () => {
      expectError(await callRoute(f.api, route, f.ids, f.revoked), 401, "unauthorized");
      await expectUnchanged();
    });

    const denied = CALLERS.filter((c) => !route.allowed.includes(c));
    if (denied.length > 0) {
      it.each(denied)("answers 403 to a %s token, changing nothing", async (caller) => {
        expectError(await callRoute(f.api, route, f.ids, f.tokens[caller]), 403, "forbidden");
        await expectUnchanged();
      });
    }

    it.each(route.allowed)("lets a %s token reach the handler", async (caller) => {
      const res = await callRoute(f.api, route, MISSING_IDS, f.reach[caller]);
      expect(res.status, JSON.stringify(res.body)).toBe(route.reached);
    });
  });

  it.each([
    ["a Basic scheme", `Basic ${Buffer.from("admin:admin").toString("base64")}`],
    ["an empty bearer", "Bearer "],
    ["two tokens", "Bearer a b"],
  ])("answers 401 to an Authorization header with %s", async (_, authorization) => {
    const res = await rawRequest(t.app, "GET", "/v1/whoami", { headers: { authorization } });
    expectError(res, 401, "unauthorized");
  });

  it("refuses the old agent token once the environment's token is rotated", async () => {
    const { api, ws, agent, environmentId } = await agentWorkspace();
    const rotated = await api.post(`/v1/environments/${environmentId}/tokens`, ws.admin);
    expect(rotated.status).toBe(201);
    expectError(await api.post("/v1/events", agent, event(PAST)), 401, "unauthorized");
    expectError(await api.get("/v1/whoami", agent), 401, "unauthorized");
    expect((await api.get("/v1/whoami", rotated.body.token)).status).toBe(200);
    await expectNothingIngested(api, ws);
  });
});

describe("workspace isolation", () => {
  const f = {} as {
    api: Client;
    a: Workspace;
    b: Workspace;
    aAgent: string;
    aIds: RouteIds;
    bEnvironment: string;
  };

  beforeAll(async () => {
    const A = await agentWorkspace();
    const { alertId, accountId } = await openAlert(A.api, A.ws, A.agent);
    const b = await newWorkspace(t.database);
    const bEnv = await newEnvironment(A.api, b.admin);
    const incident = await A.api.post("/v1/incidents", A.ws.reviewer, {
      platform: "amazon",
      title: "isolation fixture",
      started_at: "2026-01-01T00:00:00Z",
    });
    const drill = await A.api.get("/v1/drills/verify", A.ws.viewer);
    const channel = await A.api.post("/v1/channels", A.ws.admin, {
      name: uid("ch-"),
      kind: "slack",
      url: "http://127.0.0.1:9/hook",
    });
    Object.assign(f, {
      api: A.api,
      a: A.ws,
      b,
      aAgent: A.agent,
      aIds: {
        alert: alertId,
        account: accountId,
        environment: A.environmentId,
        token: A.agentTokenId,
        incident: incident.body.id,
        drill: drill.body.id,
        channel: channel.body.id,
      },
      bEnvironment: bEnv.id,
    });
  });

  const foreign: Array<[string, string, unknown?]> = [
    ["GET", "/v1/alerts/:alert"],
    ...(["acknowledge", "resolve", "dismiss", "trust"] as const).map((action): [string, string, unknown] => [
      "POST",
      `/v1/alerts/:alert/${action}`,
      { note: "mine now" },
    ]),
    ["GET", "/v1/accounts/:account"],
    ["PATCH", "/v1/accounts/:account", { label: "taken", group: "b" }],
    ["GET", "/v1/accounts/:account/baseline"],
    ["GET", "/v1/accounts/:account/events"],
    ["PUT", "/v1/environments/:environment/accounts", { account_ids: [] }],
    ["POST", "/v1/environments/:environment/tokens"],
    ["DELETE", "/v1/tokens/:token"],
    ["GET", "/v1/incidents/:incident"],
    ["POST", "/v1/incidents/:incident/close"],
    ["GET", "/v1/incidents/:incident/review"],
    ["POST", "/v1/accounts/:account/overrides", { operation: "binding_change", reason: "mine now" }],
    ["GET", "/v1/accounts/:account/overrides"],
    ["GET", "/v1/drills/verifications/:drill"],
    ["GET", "/v1/drills/verify?account_ids=:account"],
    ["GET", "/v1/channels/:channel"],
    ["PATCH", "/v1/channels/:channel", { url: "http://127.0.0.1:9/mine-now" }],
    ["DELETE", "/v1/channels/:channel"],
    ["GET", "/v1/channels/:channel/deliveries"],
    ["POST", "/v1/channels/:channel/test"],
  ];
  it.each(foreign)("answers 404 to %s %s with another workspace's id", async (method, path, body) => {
    const res = await f.api.call(method, fillPath(path, f.aIds), f.b.admin, body);
    expectError(res, 404, "not_found");
  });

  it("answers 404 when an environment is created with another workspace's account, and creates none", async () => {
    const name = uid("env-");
    const res = await f.api.post("/v1/environments", f.b.admin, { name, account_ids: [f.aIds.account] });
    expectError(res, 404, "not_found");
    const envs = await f.api.get("/v1/environments", f.b.admin);
    expect(envs.body.environments.map((e: { id: string }) => e.id)).toEqual([f.bEnvironment]);
  });

  it("answers 404 when an environment is bound to another workspace's account, and binds nothing", async () => {
    const res = await f.api.put(`/v1/environments/${f.bEnvironment}/accounts`, f.b.admin, {
      account_ids: [f.aIds.account],
    });
    expectError(res, 404, "not_found");
    const envs = await f.api.get("/v1/environments", f.b.admin);
    expect(envs.body.environments).toEqual([
      expect.objectContaining({ id: f.bEnvironment, account_ids: [] }),
    ]);
  });

  it("keeps another workspace's objects out of every list", async () => {
    const alerts = await f.api.get("/v1/alerts", f.b.admin);
    expect(alerts.body.alerts).toEqual([]);
    const filtered = await f.api.get(`/v1/alerts?account_id=${f.aIds.account}`, f.b.admin);
    expect(filtered.body.alerts).toEqual([]);
    const accounts = await f.api.get("/v1/accounts", f.b.admin);
    expect(accounts.body.accounts).toEqual([]);
    const envs = await f.api.get("/v1/environments", f.b.admin);
    expect(envs.body.environments.map((e: { id: string }) => e.id)).toEqual([f.bEnvironment]);
    const tokens = await f.api.get("/v1/tokens", f.b.admin);
    expect(tokens.status).toBe(200);
    const ids = tokens.body.tokens.map((tk: { id: string }) => tk.id);
    expect(ids).toHaveLength(4); // admin, reviewer, viewer and B's agent
    expect(ids).not.toContain(f.aIds.token);
  });

  it("leaves the other workspace's objects as they were", async () => {
    const alert = await f.api.get(`/v1/alerts/${f.aIds.alert}`, f.a.viewer);
    expect(alert.body).toMatchObject({ status: "open", note: null });
    const account = await f.api.get(`/v1/accounts/${f.aIds.account}`, f.a.viewer);
    expect(account.body).toMatchObject({ label: null, group: null, environment_ids: [f.aIds.environment] });
    const whoami = await f.api.get("/v1/whoami", f.aAgent);
    expect(whoami.status).toBe(200);
    expect(whoami.body.token_id).toBe(f.aIds.token);
  });
});

describe("alert workflow conflicts", () => {
  it("answers 409 to every action on a resolved alert and keeps it resolved", async () => {
    const { api, ws, agent } = await agentWorkspace();
    const { alertId } = await openAlert(api, ws, agent);
    const resolved = await api.post(`/v1/alerts/${alertId}/resolve`, ws.reviewer, {
      verdict: "actionable",
      note: "moved the profile to a US exit",
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.status).toBe("resolved");
    for (const action of ["acknowledge", "resolve", "dismiss", "trust"]) {
      const res = await api.post(`/v1/alerts/${alertId}/${action}`, ws.reviewer, {
        verdict: "false_positive",
      });
      expectError(res, 409, "conflict");
    }
    const after = await api.get(`/v1/alerts/${alertId}`, ws.viewer);
    expect(after.body).toMatchObject({
      status: "resolved",
      verdict: "actionable",
      note: "moved the profile to a US exit",
    });
  });

  it("answers 409 to acknowledging an acknowledged alert", async () => {
    const { api, ws, agent } = await agentWorkspace();
    const { alertId } = await openAlert(api, ws, agent);
    expect((await api.post(`/v1/alerts/${alertId}/acknowledge`, ws.reviewer)).status).toBe(200);
    expectError(await api.post(`/v1/alerts/${alertId}/acknowledge`, ws.reviewer), 409, "conflict");
  });

  it.each(["acknowledge", "resolve", "dismiss", "trust"])(
    "answers 404 to %s on an unknown alert",
    async (action) => {
      const { api, ws } = await agentWorkspace();
      expectError(await api.post(`/v1/alerts/${MISSING_IDS.alert}/${action}`, ws.reviewer), 404, "not_found");
      expectError(await api.post(`/v1/alerts/nope/${action}`, ws.reviewer), 404, "not_found");
    },
  );

  it.each([
    ["an unknown verdict", { verdict: "maybe" }, "verdict"],
    ["an unknown field", { reason: "x" }, "reason"],
    ["a note of the wrong type", { note: 5 }, "note"],
  ])("answers 400 to a body with %s and leaves the alert open", async (_, body, path) => {
    const { api, ws, agent } = await agentWorkspace();
    const { alertId } = await openAlert(api, ws, agent);
    const res = await api.post(`/v1/alerts/${alertId}/acknowledge`, ws.reviewer, body);
    expectInvalid(res, path);
    const after = await api.get(`/v1/alerts/${alertId}`, ws.viewer);
    expect(after.body).toMatchObject({ status: "open", verdict: null, note: null });
  });
});

describe("request ids", () => {
  const f = {} as { ws: Workspace; agent: string; alertId: string };
  beforeAll(async () => {
    const { api, ws, agent } = await agentWorkspace();
    const { alertId } = await openAlert(api, ws, agent);
    expect((await api.post(`/v1/alerts/${alertId}/resolve`, ws.reviewer)).status).toBe(200);
    Object.assign(f, { ws, agent, alertId });
  });

  const json = { "content-type": "application/json" };
  const errors: Array<[number, () => [string, string, { headers?: Record<string, string>; body?: string }]]> =
    [
      [
        400,
        () => ["POST", "/v1/events", { headers: { ...json, authorization: `Bearer ${f.agent}` }, body: "{" }],
      ],
      [401, () => ["GET", "/v1/alerts", {}]],
      [403, () => ["GET", "/v1/alerts", { headers: { authorization: `Bearer ${f.agent}` } }]],
      [
        404,
        () => [
          "GET",
          `/v1/alerts/${MISSING_IDS.alert}`,
          { headers: { authorization: `Bearer ${f.ws.viewer}` } },
        ],
      ],
      [404, () => ["GET", "/no-such-page", {}]],
      [
        409,
        () => [
          "POST",
          `/v1/alerts/${f.alertId}/acknowledge`,
          { headers: { ...json, authorization: `Bearer ${f.ws.reviewer}` }, body: "{}" },
        ],
      ],
      [
        413,
        () => [
          "POST",
          "/v1/preflight",
          { headers: { ...json, authorization: `Bearer ${f.agent}` }, body: "x".repeat(5 * 1024 * 1024) },
        ],
      ],
    ];

  it.each(errors)(
    "puts the request id of a %i answer in the x-request-id header",
    async (status, request) => {
      const [method, path, init] = request();
      const res = await rawRequest(t.app, method, path, init);
      expect(res.status).toBe(status);
      expect(res.body.error.request_id).toMatch(/^[\w.-]{8,}$/);
      expect(res.headers.get("x-request-id")).toBe(res.body.error.request_id);
    },
  );

  it.each(errors)("echoes a client's x-request-id on a %i answer", async (status, request) => {
    const [method, path, init] = request();
    const res = await rawRequest(t.app, method, path, {
      ...init,
      headers: { ...init.headers, "x-request-id": "abc-123" },
    });
    expect(res.status).toBe(status);
    expect(res.body.error.request_id).toBe("abc-123");
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });

  it("echoes a client's x-request-id on a success too", async () => {
    const res = await rawRequest(t.app, "GET", "/v1/whoami", {
      headers: { authorization: `Bearer ${f.ws.viewer}`, "x-request-id": "abc-123" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });

  it("replaces an x-request-id that is not a safe token", async () => {
    const sent = "abc 123\u0007<script>";
    const res = await rawRequest(t.app, "GET", "/v1/alerts", { headers: { "x-request-id": sent } });
    expectError(res, 401, "unauthorized");
    expect(res.body.error.request_id).not.toBe(sent);
    expect(res.headers.get("x-request-id")).toBe(res.body.error.request_id);
  });

  it("gives each request its own id", async () => {
    const one = await rawRequest(t.app, "GET", "/v1/alerts");
    const two = await rawRequest(t.app, "GET", "/v1/alerts");
    expect(one.body.error.request_id).not.toBe(two.body.error.request_id);
  });
});

describe("admin validation", () => {
  it("answers 400 to a platform that is not a slug, and creates nothing", async () => {
    const { api, ws } = await agentWorkspace();
    const res = await api.post("/v1/accounts", ws.admin, { platform: "TikTok Shop", ref: "us-store-17" });
    expectInvalid(res, "platform");
    expect((await api.get("/v1/accounts", ws.admin)).body.accounts).toEqual([]);
  });

  it("answers 409 to a second account with the same platform and ref", async () => {
    const { api, ws } = await agentWorkspace();
    const body = { platform: "tiktok_shop", ref: "us-store-17" };
    const first = await api.post("/v1/accounts", ws.admin, { ...body, label: "first" });
    expect(first.status).toBe(201);
    expectError(await api.post("/v1/accounts", ws.admin, { ...body, label: "second" }), 409, "conflict");
    const list = await api.get("/v1/accounts", ws.admin);
    expect(list.body.accounts).toEqual([expect.objectContaining({ id: first.body.id, label: "first" })]);
  });

  it("lets another workspace register the same platform and ref", async () => {
    const api = client(t.app);
    const a = await newWorkspace(t.database);
    const other = await newWorkspace(t.database);
    const body = { platform: "tiktok_shop", ref: uid("store-") };
    expect((await api.post("/v1/accounts", a.admin, body)).status).toBe(201);
    expect((await api.post("/v1/accounts", other.admin, body)).status).toBe(201);
  });

  it.each([
    ["an invalid CIDR", { cidrs: ["10.0.0.0/33"] }, "pin.cidrs.0"],
    ["a CIDR that is not an address", { cidrs: ["203.0.113.0/24", "example.com/8"] }, "pin.cidrs.1"],
    ["a lowercase country", { countries: ["us"] }, "pin.countries.0"],
    ["an invalid timezone", { timezones: ["Mars/Base"] }, "pin.timezones.0"],
    ["an unknown pin field", { ips: ["1.2.3.4"] }, "pin.ips"],
  ])("answers 400 to a pin with %s, and creates nothing", async (_, pin, path) => {
    const { api, ws } = await agentWorkspace();
    const res = await api.post("/v1/accounts", ws.admin, {
      platform: "tiktok_shop",
      ref: uid("store-"),
      pin,
    });
    expectInvalid(res, path);
    expect((await api.get("/v1/accounts", ws.admin)).body.accounts).toEqual([]);
  });

  it("answers 400 to a pin with an invalid CIDR on PATCH, and keeps the old pin", async () => {
    const { api, ws } = await agentWorkspace();
    const pin = { cidrs: ["73.15.20.0/24"] };
    const created = await api.post("/v1/accounts", ws.admin, {
      platform: "tiktok_shop",
      ref: uid("s-"),
      pin,
    });
    expect(created.status).toBe(201);
    const res = await api.patch(`/v1/accounts/${created.body.id}`, ws.admin, {
      pin: { cidrs: ["1.2.3.4/99"] },
    });
    expectInvalid(res, "pin.cidrs.0");
    expect((await api.get(`/v1/accounts/${created.body.id}`, ws.viewer)).body.pin).toEqual(pin);
  });

  it.each([
    ["agent", "role"],
    ["owner", "role"],
  ])("answers 400 to a user token with role %s, and issues none", async (role, path) => {
    const { api, ws } = await agentWorkspace();
    const before = await api.get("/v1/tokens", ws.admin);
    const res = await api.post("/v1/tokens", ws.admin, { name: uid("tok-"), role });
    expectInvalid(res, path);
    const after = await api.get("/v1/tokens", ws.admin);
    expect(after.body.tokens).toEqual(before.body.tokens);
  });
});

describe("system routes", () => {
  it("answers GET /healthz without a token", async () => {
    const res = await rawRequest(t.app, "GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("serves the OpenAPI document without a token", async () => {
    const res = await rawRequest(t.app, "GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.paths["/v1/events"].post).toBeDefined();
  });

  it("has a row of the auth table for every /v1 operation of the OpenAPI document, and no other", async () => {
    const doc = (await rawRequest(t.app, "GET", "/openapi.json")).body;
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    const tested = PROTECTED_ROUTES.map(openApiName);
    expect([...documented].sort()).toEqual([...tested].sort());
  });

  it("declares bearer security and the 401 envelope on every protected operation", async () => {
    const doc = (await rawRequest(t.app, "GET", "/openapi.json")).body;
    for (const route of PROTECTED_ROUTES) {
      const [method, path] = openApiName(route).split(" ") as [string, string];
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
      expect(op.responses["401"]?.content?.["application/json"]?.schema, `${method} ${path}`).toEqual({
        $ref: "#/components/schemas/Error",
      });
    }
  });

  it("answers an unknown /v1 route 401 without a token and 404 with one", async () => {
    expectError(await rawRequest(t.app, "GET", "/v1/unknown"), 401, "unauthorized");
    const ws = await newWorkspace(t.database);
    const res = await rawRequest(t.app, "GET", "/v1/unknown", {
      headers: { authorization: `Bearer ${ws.viewer}` },
    });
    expectError(res, 404, "not_found");
  });

  it("answers an unknown route outside /v1 with the 404 envelope", async () => {
    expectError(await rawRequest(t.app, "GET", "/no-such-page"), 404, "not_found");
  });

  it("serves Prometheus metrics without account ids", async () => {
    const { api, ws, agent } = await agentWorkspace();
    const ref = uid("metrics-store-");
    const sent = await api.post("/v1/events", agent, event(PAST, { ref }));
    expect(sent.status).toBe(202);
    const accountId = sent.body.results[0].account_id as string;
    expect((await api.get(`/v1/accounts/${accountId}`, ws.viewer)).status).toBe(200);

    const res = await rawRequest(t.app, "GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const accepted = /^tether_events_accepted_total (\d+)$/m.exec(res.text);
    expect(Number(accepted?.[1])).toBeGreaterThanOrEqual(1);
    expect(res.text).not.toContain(accountId);
    expect(res.text).not.toContain(ref);
    expect(res.text).toContain('route="/v1/accounts/:id"');
  });
});
