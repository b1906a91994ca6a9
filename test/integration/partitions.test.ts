import { sql } from "drizzle-orm";
import pino from "pino";
import { describe, expect, it } from "vitest";
import {
  maintainStorage,
  type StoragePolicy,
  startStorageMaintenance,
} from "../../src/services/maintain-storage.ts";
import { rows } from "../../src/store/db.ts";
import {
  ensureEventPartitions,
  listEventPartitions,
  partitionName,
  weekStart,
  weekStartsCovering,
} from "../../src/store/partitions.ts";
import { client } from "../support/api.ts";
import { event, HOUR, IP, LA, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/**
 * A Monday years before every other test's dates: on PostgreSQL all test files share one database, and this
 * file drops whole partitions (of every workspace) and ages out baseline values (of every workspace).
 */
const START = Date.parse("2001-01-01T00:00:00Z");
const POLICY: StoragePolicy = { retentionDays: 21, baselineDays: 60, maxEventAgeDays: 21, aheadWeeks: 1 };
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

const pass = (input: Partial<StoragePolicy> = {}) =>
  maintainStorage({
    ctx: { db: t.database.db, clock: t.clock, logger },
    input: { ...POLICY, ...input },
  });

/** The partitions of the first test's weeks, whatever other test files created. */
const partitionsOf2001 = async () =>
  (await listEventPartitions(t.database.db)).filter((p) => new Date(p.from).getUTCFullYear() <= 2001);

const count = async (table: "baseline_values" | "links" | "alerts" | "events", workspaceId: string) => {
  const [r] = await rows<{ n: number }>(
    t.database.db,
    sql`select count(*)::int as n from ${sql.identifier(table)} where workspace_id = ${workspaceId}`,
  );
  return Number(r!.n);
};

describe("week arithmetic", () => {
  it("starts weeks on Monday 00:00 UTC", () => {
    const monday = Date.parse("2026-11-30T00:00:00Z");
    expect(weekStart(monday)).toBe(monday);
    expect(weekStart(monday - 1)).toBe(monday - WEEK);
    expect(weekStart(monday + WEEK - 1)).toBe(monday);
    expect(weekStart(Date.parse("1969-12-31T12:00:00Z"))).toBe(Date.parse("1969-12-29T00:00:00Z"));
    expect(partitionName(monday)).toBe("events_w20261130");
  });

  it("lists the week starts a range touches", () => {
    const monday = Date.parse("2026-11-30T00:00:00Z");
    expect(weekStartsCovering(monday + DAY, monday + 2 * DAY)).toEqual([monday]);
    expect(weekStartsCovering(monday - 1, monday)).toEqual([monday - WEEK, monday]);
    expect(weekStartsCovering(monday, monday + 2 * WEEK)).toEqual([monday, monday + WEEK, monday + 2 * WEEK]);
    expect(weekStartsCovering(monday + 1, monday)).toEqual([]);
    expect(() => weekStartsCovering(0, 20 * 365 * DAY)).toThrow(RangeError);
  });
});

describe("event partitions", () => {
  it("drops expired weeks with their events and keeps baselines, links and alerts", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const [a, b] = [uid("store-a-"), uid("store-b-")];

    // Week 0: the maintenance pass at start makes the partitions ingest needs, then two isolated accounts
    // share a laptop (a link and a critical alert).
    t.clock.set(new Date(START + DAY));
    const first = await pass();
    expect(first.created).toEqual(
      weekStartsCovering(START + DAY - 21 * DAY, START + DAY + WEEK).map(partitionName),
    );
    const atHome = await api.post("/v1/events", ws.admin, {
      events: [event(START + HOUR, { ref: a, env: { ip: IP.home, device_id: "old-laptop", ...LA } })],
    });
    expect(atHome.status).toBe(202);
    const shared = await api.post("/v1/events", ws.admin, {
      events: [event(START + 2 * HOUR, { ref: b, env: { ip: IP.tokyo, device_id: "old-laptop", ...LA } })],
    });
    expect(shared.body.results[0].findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "shared_device" })]),
    );

    // Week 2: account a again, from home on another device.
    t.clock.set(new Date(START + 2 * WEEK + DAY));
    await pass();
    const week2 = [
      event(START + 2 * WEEK + HOUR, { ref: a, env: { ip: IP.home, device_id: "new-laptop", ...LA } }),
    ];
    expect((await api.post("/v1/events", ws.admin, { events: week2 })).status).toBe(202);

    const links = await count("links", ws.id);
    const alerts = await count("alerts", ws.id);
    const baselines = await count("baseline_values", ws.id);
    expect(links).toBe(1);
    expect(alerts).toBeGreaterThanOrEqual(1);
    expect(baselines).toBeGreaterThan(0);

    // Four weeks later, with 21 days of retention: every week up to week 0 is gone.
    t.clock.set(new Date(START + 4 * WEEK + DAY));
    const retention = await pass();
    const cutoff = START + 4 * WEEK + DAY - 21 * DAY;
    expect(retention.dropped).toContain(partitionName(START));
    expect(retention.dropped).not.toContain(partitionName(START + 2 * WEEK));
    expect(retention.baselinesAgedOut).toBe(0);
    const left = await partitionsOf2001();
    expect(left.every((p) => p.to > cutoff)).toBe(true);
    expect(left.map((p) => p.name)).toContain(partitionName(START + 2 * WEEK));
    const stored = await rows<{ id: string }>(
      t.database.db,
      sql`select id from events where workspace_id = ${ws.id}`,
    );
    expect(stored.map((r) => r.id)).toEqual([week2[0]!.id]);
    expect(await count("links", ws.id)).toBe(links);
    expect(await count("alerts", ws.id)).toBe(alerts);
    expect(await count("baseline_values", ws.id)).toBe(baselines);
    const sharedAlerts = await api.get("/v1/alerts?rule=shared_device", ws.viewer);
    expect(sharedAlerts.body.alerts).toHaveLength(1);

    // Values not seen for 20 days are forgotten: the old laptop and Tokyo go, home (seen in week 2) stays.
    const aging = await pass({ baselineDays: 20 });
    expect(aging.dropped).toEqual([]);
    expect(aging.baselinesAgedOut).toBeGreaterThan(0);
    const values = await rows<{ kind: string; value: string }>(
      t.database.db,
      sql`select kind, value from baseline_values where workspace_id = ${ws.id}`,
    );
    expect(values).toContainEqual({ kind: "ip", value: IP.home });
    expect(values).toContainEqual({ kind: "device", value: "new-laptop" });
    expect(values).not.toContainEqual({ kind: "device", value: "old-laptop" });
    expect(values).not.toContainEqual({ kind: "ip", value: IP.tokyo });

    // The same pass again has nothing left to do.
    const again = await pass({ baselineDays: 20 });
    expect(again).toMatchObject({ created: [], dropped: [], baselinesAgedOut: 0 });
    expect(await partitionsOf2001()).toEqual(left);
  });

  it("lets concurrent callers ensure the same weeks", async () => {
    const from = Date.parse("2002-03-04T00:00:00Z");
    const to = from + 3 * WEEK;
    const [one, two] = await Promise.all([
      ensureEventPartitions(t.database.db, from, to),
      ensureEventPartitions(t.database.db, from, to),
    ]);
    expect(one).toEqual(weekStartsCovering(from, to));
    expect(two).toEqual(one);
    const made = (await listEventPartitions(t.database.db)).filter((p) => p.from >= from && p.from <= to);
    expect(made).toEqual(one.map((w) => ({ name: partitionName(w), from: w, to: w + WEEK })));
    // An event of one of those weeks can be stored.
    await t.database.db.execute(sql`insert into events (workspace_id, id, type, occurred_at, received_at,
        result_status, risk, findings)
      values (${uid("ws-")}, ${uid("ev-")}, 'login', ${new Date(from + WEEK).toISOString()}::timestamptz, now(), 'ok', 0,
        '[]'::jsonb)`);
  });

  it("runs a pass at start and stops cleanly", async () => {
    t.clock.set(new Date(Date.parse("2003-06-04T00:00:00Z")));
    const maintenance = startStorageMaintenance({
      ctx: { db: t.database.db, clock: t.clock, logger },
      input: POLICY,
    });
    const summary = await maintenance.firstPass;
    expect(summary?.created).toContain(partitionName(Date.parse("2003-06-02T00:00:00Z")));
    await maintenance.stop();
    expect(() =>
      startStorageMaintenance({
        ctx: { db: t.database.db, clock: t.clock, logger },
        input: { ...POLICY, retentionDays: 7 },
      }),
    ).toThrow(/retentionDays/);
  });
});
