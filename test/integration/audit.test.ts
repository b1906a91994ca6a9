import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type Database, openPglite, openPostgres, rows } from "../../src/store/db.ts";
import { type Client, client } from "../support/api.ts";
import { event, IP, newEnvironment, newWorkspace, uid, type Workspace } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import { expectError, expectInvalid, fillPath, PROTECTED_ROUTES, type RouteIds } from "../support/routes.ts";
import { BIN, scratchPostgres } from "../support/server.ts";

const t = useTestApp();
const PAST = Date.parse("2026-01-19T12:00:00Z");

/** The audit action each admin or reviewer action writes; agents' telemetry (events, preflight) is not one. */
const ACTIONS: Record<string, string> = {
  "POST /v1/accounts": "account.created",
  "PATCH /v1/accounts/:account": "account.updated",
  "DELETE /v1/accounts/:account": "account.deleted",
  "GET /v1/accounts/:account/export": "account.exported",
  "POST /v1/environments": "environment.created",
  "PUT /v1/environments/:environment/accounts": "environment.accounts_set",
  "POST /v1/environments/:environment/tokens": "token.rotated",
  "POST /v1/tokens": "token.issued",
  "DELETE /v1/tokens/:token": "token.revoked",
  "PATCH /v1/settings": "settings.updated",
  "POST /v1/incidents": "incident.declared",
  "POST /v1/incidents/:incident/close": "incident.closed",
  "POST /v1/drills": "drill.started",
  "POST /v1/drills/:incident/end": "drill.ended",
  "POST /v1/accounts/:account/overrides": "override.granted",
  "POST /v1/channels": "channel.created",
  "PATCH /v1/channels/:channel": "channel.updated",
  "DELETE /v1/channels/:channel": "channel.deleted",
  "POST /v1/channels/:channel/test": "channel.tested",
  "POST /v1/alerts/:alert/acknowledge": "alert.acknowledge",
  "POST /v1/alerts/:alert/resolve": "alert.resolve",
  "POST /v1/alerts/:alert/dismiss": "alert.dismiss",
  "POST /v1/alerts/:alert/trust": "alert.trust",
};
/** Agents' telemetry, and a read that takes its scope in a POST body (a drill verification is saved, not audited). */
const TELEMETRY = ["POST /v1/events", "POST /v1/preflight", "POST /v1/drills/verify"];

/** A workspace with one of everything a route of the table may name, all live and in reach. */
async function world(): Promise<{ api: Client; ws: Workspace; ids: RouteIds }> {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const env = await newEnvironment(api, ws.admin);
  const ingested = await api.post(
    "/v1/events",
    env.token,
    event(PAST, {
      ref: uid("store-"),
      env: { ip: IP.home, device_id: uid("dev-"), timezone: "Asia/Shanghai" },
    }),
  );
  const account = ingested.body.results[0].account_id as string;
  const alert = (await api.get(`/v1/alerts?account_id=${account}&rule=timezone_mismatch`, ws.admin)).body
    .alerts[0];
  const token = await api.post("/v1/tokens", ws.admin, { name: uid("target-"), role: "viewer" });
  // A drill is an incident too: the incident routes and the drill routes all reach it.
  const incident = await api.post("/v1/drills", ws.reviewer, {
    platform: "amazon",
    title: "audit fixture",
    planned_minutes: 60,
  });
  const channel = await api.post("/v1/channels", ws.admin, {
    name: uid("ch-"),
    kind: "slack",
    url: "http://127.0.0.1:9/hook",
  });
  return {
    api,
    ws,
    ids: {
      account,
      alert: alert.id,
      environment: env.id,
      token: token.body.id,
      incident: incident.body.id,
      drill: (await api.get("/v1/drills/verify", ws.viewer)).body.id,
      channel: channel.body.id,
    },
  };
}

const newest = async (api: Client, token: string) => (await api.get("/v1/audit?limit=500", token)).body.audit;

describe("every admin and reviewer action is audited", () => {
  it("names an audit action for every write route of the table", () => {
    const writes = PROTECTED_ROUTES.filter((r) => r.method !== "GET")
      .map((r) => `${r.method} ${r.path}`)
      .filter((r) => !TELEMETRY.includes(r));
    expect(writes.sort()).toEqual(
      Object.keys(ACTIONS)
        .filter((k) => !k.startsWith("GET"))
        .sort(),
    );
  });

  it.each(Object.entries(ACTIONS))("%s writes %s, with its actor and target", async (key, action) => {
    const { api, ws, ids } = await world();
    const [method, path] = key.split(" ") as [string, string];
    const route = PROTECTED_ROUTES.find((r) => r.method === method && r.path === path)!;
    const me = (await api.get("/v1/whoami", ws.admin)).body.token_id;
    const before = (await newest(api, ws.admin)).length;
    const res = await api.call(method, fillPath(path, ids), ws.admin, route.body?.());
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    const entries = await newest(api, ws.admin);
    const written = entries.slice(0, entries.length - before);
    const entry = written.find((e: { action: string }) => e.action === action);
    expect(entry, JSON.stringify(written)).toMatchObject({
      action,
      actor_token_id: me,
      actor_name: "admin test",
      at: t.clock.now().toISOString(),
    });
    const named = /:(\w+)/.exec(path)?.[1] as keyof RouteIds | undefined;
    if (named) expect(entry.target_id).toBe(ids[named]);
  });

  it("writes nothing for a change that was refused", async () => {
    const { api, ws, ids } = await world();
    const before = await newest(api, ws.admin);
    const mine = (await api.get("/v1/whoami", ws.admin)).body.token_id;
    expectError(await api.del(`/v1/tokens/${mine}`, ws.admin), 409, "conflict");
    expectInvalid(await api.patch(`/v1/accounts/${ids.account}`, ws.admin, { group: 7 }), "group");
    expect((await api.post(`/v1/alerts/${ids.alert}/resolve`, ws.reviewer, {})).status).toBe(200);
    expectError(await api.post(`/v1/alerts/${ids.alert}/resolve`, ws.reviewer, {}), 409, "conflict");
    const after = await newest(api, ws.admin);
    expect(after.slice(1)).toEqual(before);
    expect(after[0]).toMatchObject({ action: "alert.resolve", target_id: ids.alert });
  });
});

describe("GET /v1/audit", () => {
  it("filters by actor, action, target and time, newest first, page by page", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const reviewer = (await api.get("/v1/whoami", ws.reviewer)).body.token_id;
    const start = t.clock.now().getTime();
    const at = (minutes: number) => t.clock.set(new Date(start + minutes * 60_000));
    at(1);
    const tokens = [];
    for (let i = 0; i < 3; i++)
      tokens.push((await api.post("/v1/tokens", ws.admin, { name: uid("tok-"), role: "viewer" })).body.id);
    at(2);
    const account = (await api.post("/v1/accounts", ws.admin, { platform: "amazon", ref: uid("a-") })).body
      .id;
    at(3);
    await api.patch(`/v1/accounts/${account}`, ws.admin, { label: "renamed" });
    at(4);
    await api.post("/v1/incidents", ws.reviewer, {
      platform: "amazon",
      title: "filters",
      started_at: "2026-01-01T00:00:00Z",
    });
    at(0);

    const all = (await api.get("/v1/audit", ws.admin)).body;
    expect(all.audit.map((e: { action: string }) => e.action)).toEqual([
      "incident.declared",
      "account.updated",
      "account.created",
      "token.issued",
      "token.issued",
      "token.issued",
    ]);
    expect(all.next_cursor).toBeNull();
    const actions = async (query: string) =>
      (await api.get(`/v1/audit?${query}`, ws.reviewer)).body.audit.map((e: { action: string }) => e.action);
    expect(await actions(`actor=${reviewer}`)).toEqual(["incident.declared"]);
    expect(await actions("actor=admin%20test")).toHaveLength(5);
    expect(await actions("action=token.issued")).toHaveLength(3);
    expect(await actions("action=token.*")).toHaveLength(3);
    expect(await actions("action=token")).toEqual([]);
    expect(await actions(`target_type=account&target_id=${account}`)).toEqual([
      "account.updated",
      "account.created",
    ]);
    expect(await actions(`target_id=${tokens[1]}`)).toEqual(["token.issued"]);
    const iso = (minutes: number) => encodeURIComponent(new Date(start + minutes * 60_000).toISOString());
    expect(await actions(`since=${iso(2)}&until=${iso(4)}`)).toEqual(["account.updated", "account.created"]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { audit: Array<{ id: string }>; next_cursor: string | null } } = await api.get(
        `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        ws.admin,
      );
      expect(res.body.audit.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.audit.map((e) => e.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.audit.map((e: { id: string }) => e.id));

    const other = await newWorkspace(t.database);
    expect((await api.get("/v1/audit", other.admin)).body.audit).toEqual([]);
  });

  it.each([
    ["since=yesterday", "since"],
    ["until=2026-13-01T00:00:00Z", "until"],
    ["since=0000-01-01T00:00:00Z", "since"],
    ["until=0000-06-01T00:00:00+02:00", "until"],
    ["limit=501", "limit"],
    ["limit=0", "limit"],
    ["action=%00", "action"],
    ["cursor=bm9wZQ", "cursor"],
  ])("answers 400 to %s", async (query, path) => {
    const ws = await newWorkspace(t.database);
    expectInvalid(await client(t.app).get(`/v1/audit?${query}`, ws.admin), path);
  });
});

describe("the audit log is append-only", () => {
  it.each([
    ["UPDATE", sql`update audit_log set actor_name = 'someone else'`],
    ["DELETE", sql`delete from audit_log`],
    ["TRUNCATE", sql`truncate audit_log`],
  ])("refuses %s to any client of the database", async (op, statement) => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    await api.post("/v1/tokens", ws.admin, { name: uid("tok-"), role: "viewer" });
    const before = await newest(api, ws.admin);
    const refused = await t.database.db.execute(statement).then(
      () => null,
      (err: Error & { cause?: Error }) => err.cause?.message ?? err.message,
    );
    expect(refused).toBe(`audit_log is append-only: ${op} refused`);
    expect(await newest(api, ws.admin)).toEqual(before);
    expect(before).toHaveLength(1);
  });
});

describe("the command line's actions are audited", () => {
  it("records workspace create and token create with the user who ran them", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "tether-cli-audit-"));
    const pg = await scratchPostgres();
    const env = {
      ...process.env,
      DATABASE_URL: pg?.url ?? "",
      TETHER_DATA_DIR: dataDir,
      TETHER_LOG_LEVEL: "warn",
    };
    const run = promisify(execFile);
    let database: Database | null = null;
    try {
      const slug = uid("acme-");
      const created = await run(process.execPath, [BIN, "workspace", "create", slug], { env });
      const issued = await run(
        process.execPath,
        [BIN, "token", "create", "--role", "viewer", "--workspace", slug],
        { env },
      );
      database = pg ? openPostgres(pg.url, { max: 1 }) : await openPglite({ dataDir });
      const audit = await rows<{
        action: string;
        actor_name: string;
        actor_token_id: string | null;
        target_id: string;
      }>(
        database.db,
        sql`select a.action, a.actor_name, a.actor_token_id, a.target_id from audit_log a
              join workspaces w on w.id = a.workspace_id where w.slug = ${slug} order by a.id`,
      );
      const actor = `cli:${userInfo().username}`;
      expect(audit.map((a) => [a.action, a.actor_name, a.actor_token_id])).toEqual([
        ["workspace.created", actor, null],
        ["token.issued", actor, null],
        ["token.issued", actor, null],
      ]);
      // Each token printed is the token audited.
      const ids = await rows<{ id: string }>(database.db, sql`select id from tokens order by id`);
      expect(audit.slice(1).map((a) => a.target_id)).toEqual(ids.map((r) => r.id));
      expect(created.stdout.trim()).toMatch(/^ttu_/);
      expect(issued.stdout.trim()).toMatch(new RegExp(`^ttu_${ids[1]!.id.slice(4)}_`));
    } finally {
      await database?.close();
      await rm(dataDir, { recursive: true, force: true });
      await pg?.drop();
    }
  }, 120_000);
});
