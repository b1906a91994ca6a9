import { and, desc, eq, lt, sql } from "drizzle-orm";
import { incidents, overrides, preflights } from "../../db/schema/incidents.ts";
import { ipSubnetSql } from "../../db/schema/telemetry.ts";
import { PLATFORM_FAILURES } from "../core/model.ts";
import { newId } from "../ids.ts";
import { type Db, rows } from "./db.ts";
import { epochMs, iso, jsonParam } from "./sql.ts";

export type IncidentRow = typeof incidents.$inferSelect;

export async function createIncident(
  db: Db,
  input: {
    workspaceId: string;
    platform: string;
    region: string | null;
    title: string;
    source: "declared" | "detected";
    startedAt: Date;
    lastFailureAt?: Date | null;
    evidence: Record<string, unknown>;
    createdBy: string;
  },
  now: Date,
): Promise<IncidentRow> {
  const [row] = await db
    .insert(incidents)
    .values({
      id: newId("inc"),
      ...input,
      lastFailureAt: input.lastFailureAt ?? null,
      status: "active",
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row!;
}

export async function getIncident(db: Db, workspaceId: string, id: string): Promise<IncidentRow | null> {
  const [row] = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.workspaceId, workspaceId), eq(incidents.id, id)))
    .limit(1);
  return row ?? null;
}

export async function listIncidents(
  db: Db,
  workspaceId: string,
  status: "active" | "closed" | undefined,
  limit: number,
  before: string | null,
) {
  return db
    .select()
    .from(incidents)
    .where(
      and(
        eq(incidents.workspaceId, workspaceId),
        status ? eq(incidents.status, status) : undefined,
        before ? lt(incidents.id, before) : undefined,
      ),
    )
    .orderBy(desc(incidents.id))
    .limit(limit + 1);
}

export async function closeIncident(db: Db, workspaceId: string, id: string, endedAt: Date, now: Date) {
  const [row] = await db
    .update(incidents)
    .set({ status: "closed", endedAt, updatedAt: now })
    .where(and(eq(incidents.workspaceId, workspaceId), eq(incidents.id, id), eq(incidents.status, "active")))
    .returning();
  return row ?? null;
}

/**
 * Detected incidents whose failures stopped for the hold period end, at the end of that period. Run wherever
 * "now" matters (ingest, preflight, incident reads), so closing needs no background job.
 */
export async function closeQuietIncidents(db: Db, workspaceId: string, now: Date, holdMinutes: number) {
  const hold = `${holdMinutes} minutes`;
  return rows<{ id: string }>(
    db,
    sql`update incidents set status = 'closed', ended_at = last_failure_at + ${hold}::interval, updated_at = ${iso(now)}::timestamptz
      where workspace_id = ${workspaceId} and status = 'active' and source = 'detected'
        and last_failure_at + ${hold}::interval <= ${iso(now)}::timestamptz
      returning id`,
  );
}

/**
 * Incidents of these platforms that overlap [from, to]: what a batch's events may fall into. A detected
 * incident whose failures stopped for the hold period ends at `last failure + hold` here even before a read
 * settles its stored status, so the hot path needs no write to know it.
 */
export async function incidentsOverlapping(
  db: Db,
  workspaceId: string,
  platforms: string[],
  from: number,
  to: number,
  quiet: { now: Date; holdMinutes: number },
) {
  if (platforms.length === 0) return [];
  const hold = `${quiet.holdMinutes} minutes`;
  const endedAt = sql`coalesce(ended_at, case when source = 'detected'
    and last_failure_at + ${hold}::interval <= ${iso(quiet.now)}::timestamptz then last_failure_at + ${hold}::interval end)`;
  const result = await rows<{
    id: string;
    platform: string;
    region: string | null;
    source: "declared" | "detected";
    title: string;
    started_ms: number;
    ended_ms: number | null;
  }>(
    db,
    sql`select id, platform, region, source, title, ${epochMs("started_at")} as started_ms, ${epochMs(endedAt)} as ended_ms
      from incidents
      where workspace_id = ${workspaceId} and platform in (select jsonb_array_elements_text(${jsonParam(platforms)}))
        and started_at <= ${iso(to)}::timestamptz and (${endedAt} is null or ${endedAt} >= ${iso(from)}::timestamptz)
      order by started_at`,
  );
  return result.map((r) => ({
    id: r.id,
    platform: r.platform,
    region: r.region,
    source: r.source,
    title: r.title,
    startedAt: Number(r.started_ms),
    endedAt: r.ended_ms === null ? null : Number(r.ended_ms),
  }));
}

export interface FailureStats {
  platform: string;
  /** accounts of the platform with a platform-side failure in the window */
  failing: number;
  /** distinct networks (ASN, or /24 when unknown) those failures came from */
  networks: number;
  /** accounts of the platform seen in the last day: the denominator */
  active: number;
  firstFailure: number;
  lastFailure: number;
  accountIds: string[];
  codes: Record<string, number>;
}

/** Platform-side failures per platform in each platform's window, from the partial index of failed events. */
export async function failureStats(
  db: Db,
  workspaceId: string,
  windows: Array<{ platform: string; from: number; to: number }>,
  activeSince: number,
): Promise<FailureStats[]> {
  if (windows.length === 0) return [];
  const result = await rows<{
    platform: string;
    failing: number;
    networks: number;
    active: number;
    first_ms: number;
    last_ms: number;
    account_ids: string[];
    codes: Record<string, number>;
  }>(
    db,
    sql`select w.platform, count(distinct e.account_id)::int as failing,
        count(distinct coalesce('AS' || e.asn, ${sql.raw(ipSubnetSql("e.ip"))}, e.ip))::int as networks,
        (select count(*) from accounts x where x.workspace_id = ${workspaceId} and x.platform = w.platform
          and x.last_event_at >= ${iso(activeSince)}::timestamptz)::int as active,
        ${epochMs("min(e.occurred_at)")} as first_ms, ${epochMs("max(e.occurred_at)")} as last_ms,
        (array_agg(distinct e.account_id))[1:50] as account_ids,
        (select jsonb_object_agg(code, n) from (
          select e2.result_code as code, count(*) as n from events e2 join accounts a2 on a2.id = e2.account_id
          where e2.workspace_id = ${workspaceId} and e2.result_status = 'error' and a2.platform = w.platform
            and e2.result_code in (select jsonb_array_elements_text(${jsonParam(PLATFORM_FAILURES)}))
            and e2.occurred_at between w.from_at and w.to_at
          group by e2.result_code) c) as codes
      from jsonb_to_recordset(${jsonParam(windows.map((w) => ({ platform: w.platform, from_at: iso(w.from), to_at: iso(w.to) })))})
        as w(platform text, from_at timestamptz, to_at timestamptz)
      join events e on e.workspace_id = ${workspaceId} and e.result_status = 'error'
        and e.occurred_at between w.from_at and w.to_at
        and e.result_code in (select jsonb_array_elements_text(${jsonParam(PLATFORM_FAILURES)}))
      join accounts a on a.id = e.account_id and a.platform = w.platform
      group by w.platform, w.from_at, w.to_at`,
  );
  return result.map((r) => ({
    platform: r.platform,
    failing: Number(r.failing),
    networks: Number(r.networks),
    active: Number(r.active),
    firstFailure: Number(r.first_ms),
    lastFailure: Number(r.last_ms),
    accountIds: r.account_ids,
    codes: r.codes ?? {},
  }));
}

/**
 * More failures of a detected incident, possibly replayed late: its start moves to the earliest failure and,
 * if the quiet rule already closed it, its end moves to the hold period after the latest one.
 */
export async function extendDetectedIncident(
  db: Db,
  id: string,
  firstFailure: number,
  lastFailure: number,
  holdMinutes: number,
  now: Date,
) {
  await db.execute(sql`update incidents set
      started_at = least(started_at, ${iso(firstFailure)}::timestamptz),
      last_failure_at = greatest(last_failure_at, ${iso(lastFailure)}::timestamptz),
      ended_at = case when status = 'closed'
        then greatest(ended_at, greatest(last_failure_at, ${iso(lastFailure)}::timestamptz) + ${`${holdMinutes} minutes`}::interval)
        else ended_at end,
      updated_at = ${iso(now)}::timestamptz
    where id = ${id} and source = 'detected'`);
}

export type PreflightRow = typeof preflights.$inferInsert;

export async function recordPreflight(db: Db, row: Omit<PreflightRow, "id">): Promise<string> {
  const id = newId("pre");
  await db.insert(preflights).values({ id, ...row });
  return id;
}

export type OverrideRow = typeof overrides.$inferSelect;

export async function createOverride(
  db: Db,
  row: Omit<OverrideRow, "id" | "revokedAt">,
): Promise<OverrideRow> {
  const [created] = await db
    .insert(overrides)
    .values({ id: newId("ovr"), ...row })
    .returning();
  return created!;
}

export async function listOverrides(db: Db, workspaceId: string, accountId: string) {
  return db
    .select()
    .from(overrides)
    .where(and(eq(overrides.workspaceId, workspaceId), eq(overrides.accountId, accountId)))
    .orderBy(desc(overrides.id));
}

/** The override in force for an account and operation at an instant, if any. */
export async function activeOverride(
  db: Db,
  workspaceId: string,
  accountId: string,
  operation: string,
  at: Date,
) {
  const [row] = await db
    .select()
    .from(overrides)
    .where(
      and(
        eq(overrides.workspaceId, workspaceId),
        eq(overrides.accountId, accountId),
        eq(overrides.operation, operation),
        sql`${overrides.expiresAt} > ${iso(at)}::timestamptz`,
        sql`${overrides.revokedAt} is null`,
      ),
    )
    .orderBy(desc(overrides.expiresAt))
    .limit(1);
  return row ?? null;
}
