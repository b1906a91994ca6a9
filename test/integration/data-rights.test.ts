import type { Logger } from "drizzle-orm";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { rows } from "../../src/store/db.ts";
import { type Client, client } from "../support/api.ts";
import {
  event,
  IP,
  MINUTE,
  newEnvironment,
  newWorkspace,
  uid,
  type Workspace,
} from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import { expectError } from "../support/routes.ts";

/** Statements drizzle sends, so a test can see the export read events page by page. */
const statements: string[] = [];
const logger: Logger = { logQuery: (query) => statements.push(query) };
const t = useTestApp({}, { logger });

const START = Date.parse("2026-01-18T00:00:00Z");
const EVENTS_OF_X = 1_200;

/** Tables that hold account data; after a deletion none may name the account (the audit log may). */
const ACCOUNT_TABLES = [
  "accounts",
  "events",
  "baseline_values",
  "links",
  "alerts",
  "environment_accounts",
  "allowances",
  "overrides",
  "preflights",
] as const;

async function rowsNaming(id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ACCOUNT_TABLES) {
    const [row] = await rows<{ n: number }>(
      t.database.db,
      sql`select count(*)::int as n from ${sql.identifier(table)} r where strpos(r::text, ${id}) > 0`,
    );
    out[table] = Number(row!.n);
  }
  return out;
}

interface Fixture {
  api: Client;
  ws: Workspace;
  agent: string;
  environmentId: string;
  x: string;
  y: string;
  refX: string;
  sharedAlert: string;
  /** alerts naming X alone: a timezone mismatch among them */
  ownAlerts: string[];
}

/**
 * Account X with 1,200 events (with attributes), a timezone alert of its own, an override, and a device shared
 * with account Y (another isolation group): a `shared_device` alert and a link naming both.
 */
async function fixture(): Promise<Fixture> {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const env = await newEnvironment(api, ws.admin);
  const refX = uid("x-");
  const refY = uid("y-");
  const device = uid("dev-shared-");
  const ofX = Array.from({ length: EVENTS_OF_X }, (_, i) =>
    event(START + i * MINUTE, {
      ref: refX,
      env: { ip: IP.home, device_id: device, timezone: "Asia/Shanghai" },
      attributes: { seq: i, note: `x-${i}` },
    }),
  );
  let x = "";
  for (let i = 0; i < ofX.length; i += 1_000) {
    const res = await api.post("/v1/events", env.token, { events: ofX.slice(i, i + 1_000) });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    x = res.body.results[0].account_id;
  }
  const ofY = await api.post("/v1/events", env.token, {
    events: [
      event(START + EVENTS_OF_X * MINUTE, { ref: refY, env: { ip: IP.otherNetwork, device_id: device } }),
    ],
  });
  expect(ofY.status).toBe(202);
  const y = ofY.body.results[0].account_id as string;
  const alerts = (await api.get(`/v1/alerts?account_id=${x}`, ws.admin)).body.alerts as Array<{
    id: string;
    rule: string;
    account_ids: string[];
  }>;
  const shared = alerts.find((a) => a.rule === "shared_device");
  const own = alerts.filter((a) => a.account_ids.length === 1);
  expect(shared?.account_ids.sort()).toEqual([x, y].sort());
  expect(own.map((a) => a.rule)).toContain("timezone_mismatch");
  expect(alerts).toHaveLength(own.length + 1);
  const override = await api.post(`/v1/accounts/${x}/overrides`, ws.reviewer, {
    operation: "binding_change",
    minutes: 30,
    reason: "support ticket 7",
  });
  expect(override.status).toBe(201);
  return {
    api,
    ws,
    agent: env.token,
    environmentId: env.id,
    x,
    y,
    refX,
    sharedAlert: shared!.id,
    ownAlerts: own.map((a) => a.id),
  };
}

async function exportOf(token: string, id: string) {
  const res = await t.app.request(`/v1/accounts/${id}/export`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

describe("account export", () => {
  const f = {} as Fixture;
  beforeAll(async () => Object.assign(f, await fixture()), 120_000);

  it("gives every event, the baseline, the alerts and the links of the account as one JSON document", async () => {
    statements.length = 0;
    const res = await exportOf(f.ws.admin, f.x);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${f.x}.json"`);
    const doc = res.body;
    expect(Object.keys(doc)).toEqual(["account", "exported_at", "baseline", "alerts", "links", "events"]);
    expect(doc.account).toMatchObject({ id: f.x, ref: f.refX, environment_ids: [f.environmentId] });
    expect(doc.events).toHaveLength(EVENTS_OF_X);
    expect(new Set(doc.events.map((e: { id: string }) => e.id)).size).toBe(EVENTS_OF_X);
    // Newest first, each with what the agent sent in attributes.
    expect(doc.events[0].attributes).toEqual({ seq: EVENTS_OF_X - 1, note: `x-${EVENTS_OF_X - 1}` });
    expect(doc.events.at(-1).attributes).toEqual({ seq: 0, note: "x-0" });
    expect(doc.events[0].env).toMatchObject({ ip: IP.home, timezone: "Asia/Shanghai" });
    expect(doc.baseline).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: "ip", value: IP.home, count: EVENTS_OF_X })]),
    );
    expect(doc.alerts.map((a: { id: string }) => a.id).sort()).toEqual(
      [f.sharedAlert, ...f.ownAlerts].sort(),
    );
    expect(doc.links).toEqual([expect.objectContaining({ kind: "device", account_ids: [f.x, f.y].sort() })]);
    // Read page by page: a large account never sits in memory whole.
    const eventPages = statements.filter((s) => /from "events"/.test(s) && /order by/i.test(s));
    expect(eventPages.length).toBeGreaterThanOrEqual(3);
  });

  it("is audited", async () => {
    const audit = await f.api.get(`/v1/audit?action=account.exported&target_id=${f.x}`, f.ws.admin);
    expect(audit.body.audit.length).toBeGreaterThanOrEqual(1);
    expect(audit.body.audit[0]).toMatchObject({ target_type: "account", actor_name: "admin test" });
  });

  it("answers 404 to another workspace's account, and to a reviewer 403", async () => {
    const other = await newWorkspace(t.database);
    expectError(await f.api.get(`/v1/accounts/${f.x}/export`, other.admin), 404, "not_found");
    expectError(await f.api.get(`/v1/accounts/${f.x}/export`, f.ws.reviewer), 403, "forbidden");
  });
});

describe("account deletion", () => {
  const f = {} as Fixture;
  beforeAll(async () => Object.assign(f, await fixture()), 120_000);

  it("answers 404 to another workspace's account and deletes nothing", async () => {
    const other = await newWorkspace(t.database);
    expectError(await f.api.del(`/v1/accounts/${f.x}`, other.admin), 404, "not_found");
    expect((await f.api.get(`/v1/accounts/${f.x}`, f.ws.admin)).status).toBe(200);
    // Its own events, and Y's event whose shared_device finding names it.
    expect((await rowsNaming(f.x)).events).toBe(EVENTS_OF_X + 1);
  });

  it("erases the account's events, baseline, bindings, links and own alerts; shared alerts keep a tombstone", async () => {
    const eventsOfY = (await f.api.get(`/v1/accounts/${f.y}/events`, f.ws.admin)).body.events;
    const res = await f.api.del(`/v1/accounts/${f.x}`, f.ws.admin);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      deleted: f.x,
      tombstone: expect.stringMatching(/^del_/),
      erased: expect.objectContaining({
        events: EVENTS_OF_X,
        links: 1,
        alerts_deleted: f.ownAlerts.length,
        alerts_tombstoned: 1,
        other_events_redacted: 1,
        environment_bindings: 1,
        overrides: 1,
      }),
    });
    const tombstone = res.body.tombstone as string;

    expect(await rowsNaming(f.x)).toEqual(Object.fromEntries(ACCOUNT_TABLES.map((table) => [table, 0])));
    expectError(await f.api.get(`/v1/accounts/${f.x}`, f.ws.admin), 404, "not_found");
    expectError(await f.api.get(`/v1/accounts/${f.x}/export`, f.ws.admin), 404, "not_found");
    for (const own of f.ownAlerts)
      expectError(await f.api.get(`/v1/alerts/${own}`, f.ws.admin), 404, "not_found");

    const shared = await f.api.get(`/v1/alerts/${f.sharedAlert}`, f.ws.admin);
    expect(shared.body.account_ids.sort()).toEqual([tombstone, f.y].sort());
    expect(JSON.stringify(shared.body)).not.toContain(f.x);

    const links = await f.api.get("/v1/associations", f.ws.admin);
    expect(JSON.stringify(links.body)).not.toContain(f.x);
    const envs = await f.api.get("/v1/environments", f.ws.admin);
    expect(envs.body.environments[0].account_ids).toEqual([f.y]);

    // The other account keeps its data; only the deleted account's id in its findings is replaced.
    const after = (await f.api.get(`/v1/accounts/${f.y}/events`, f.ws.admin)).body.events;
    expect(after.map((e: { id: string }) => e.id)).toEqual(eventsOfY.map((e: { id: string }) => e.id));
    expect(JSON.stringify(eventsOfY)).toContain(f.x);
    expect(JSON.stringify(after)).not.toContain(f.x);
    expect((await f.api.get(`/v1/accounts/${f.y}/baseline`, f.ws.admin)).body.values.device).toHaveLength(1);

    const audit = await f.api.get(`/v1/audit?action=account.deleted&target_id=${f.x}`, f.ws.admin);
    expect(audit.body.audit).toEqual([
      expect.objectContaining({
        actor_name: "admin test",
        target_type: "account",
        details: { erased: res.body.erased },
      }),
    ]);
    // The audit log does not tie the tombstone back to the account.
    expect(JSON.stringify((await f.api.get("/v1/audit?limit=500", f.ws.admin)).body)).not.toContain(
      tombstone,
    );
  });

  it("answers 404 to a second deletion, and a later event registers the account anew", async () => {
    expectError(await f.api.del(`/v1/accounts/${f.x}`, f.ws.admin), 404, "not_found");
    const again = await f.api.post(
      "/v1/events",
      f.agent,
      event(START + 2 * EVENTS_OF_X * MINUTE, { ref: f.refX, env: { ip: IP.home, device_id: uid("dev-") } }),
    );
    expect(again.status).toBe(202);
    expect(again.body.results[0].account_id).not.toBe(f.x);
  });
});
