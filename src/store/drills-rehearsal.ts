import { and, desc, eq, lt, sql } from "drizzle-orm";
import { incidents } from "../../db/schema/incidents.ts";
import type { DrillOperation, ParticipantAccount, ParticipantEnvironment } from "../core/drill-report.ts";
import type { Span } from "../core/review.ts";
import { type Db, rows } from "./db.ts";
import { createIncident, type IncidentRow } from "./incidents.ts";
import { epochMs, iso, jsonParam } from "./sql.ts";

export interface DrillScope {
  group?: string;
  account_ids?: string[];
}

export async function createDrill(
  db: Db,
  input: {
    workspaceId: string;
    platform: string;
    title: string;
    scope: DrillScope | null;
    plannedMinutes: number;
    startedAt: Date;
    createdBy: string;
  },
  now: Date,
): Promise<IncidentRow> {
  return createIncident(
    db,
    {
      workspaceId: input.workspaceId,
      platform: input.platform,
      region: null,
      title: input.title,
      source: "declared",
      kind: "drill",
      startedAt: input.startedAt,
      plannedMinutes: input.plannedMinutes,
      plannedEndAt: new Date(input.startedAt.getTime() + input.plannedMinutes * 60_000),
      scope: input.scope,
      evidence: { declared_by: input.createdBy, drill: true },
      createdBy: input.createdBy,
    },
    now,
  );
}

export async function getDrill(db: Db, workspaceId: string, id: string): Promise<IncidentRow | null> {
  const [row] = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.workspaceId, workspaceId), eq(incidents.id, id), eq(incidents.kind, "drill")))
    .limit(1);
  return row ?? null;
}

export async function listDrills(db: Db, workspaceId: string, limit: number, before: string | null) {
  return db
    .select()
    .from(incidents)
    .where(
      and(
        eq(incidents.workspaceId, workspaceId),
        eq(incidents.kind, "drill"),
        before ? lt(incidents.id, before) : undefined,
      ),
    )
    .orderBy(desc(incidents.id))
    .limit(limit + 1);
}

/** Drills of a platform that started before an instant, newest first: where the previous drill is found. */
export async function earlierDrills(db: Db, workspaceId: string, platform: string, before: Date) {
  return db
    .select()
    .from(incidents)
    .where(
      and(
        eq(incidents.workspaceId, workspaceId),
        eq(incidents.kind, "drill"),
        eq(incidents.platform, platform),
        sql`${incidents.startedAt} < ${iso(before)}::timestamptz`,
      ),
    )
    .orderBy(desc(incidents.startedAt), desc(incidents.id));
}

/** Which of these incident ids are drills: alerts and preflight answers name the drill they happened in. */
export async function drillIdsAmong(
  db: Db,
  workspaceId: string,
  ids: Array<string | null>,
): Promise<Set<string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Set();
  const result = await rows<{ id: string }>(
    db,
    sql`select i.id from incidents i where i.workspace_id = ${workspaceId} and i.kind = 'drill'
      and i.id in (select jsonb_array_elements_text(${jsonParam(wanted)}))`,
  );
  return new Set(result.map((r) => r.id));
}

/** Drills past their planned end close at that end; run wherever "now" matters, so no background job is needed. */
export async function endDueDrills(db: Db, workspaceId: string, now: Date) {
  return rows<{ id: string }>(
    db,
    sql`update incidents set status = 'closed', ended_at = planned_end_at, updated_at = ${iso(now)}::timestamptz
      where workspace_id = ${workspaceId} and kind = 'drill' and status = 'active'
        and planned_end_at <= ${iso(now)}::timestamptz
      returning id`,
  );
}

export async function endDrill(db: Db, workspaceId: string, id: string, now: Date) {
  const [row] = await db
    .update(incidents)
    .set({ status: "closed", endedAt: now, updatedAt: now })
    .where(
      and(
        eq(incidents.workspaceId, workspaceId),
        eq(incidents.id, id),
        eq(incidents.kind, "drill"),
        eq(incidents.status, "active"),
      ),
    )
    .returning();
  return row ?? null;
}

/** The accounts of a platform a drill's scope names: its group's accounts, or the listed ones; null: all. */
export async function scopeAccountIds(
  db: Db,
  workspaceId: string,
  platform: string,
  scope: DrillScope | null,
): Promise<string[] | null> {
  if (!scope || (!scope.group && !scope.account_ids)) return null;
  const result = await rows<{ id: string }>(
    db,
    sql`select a.id from accounts a where a.workspace_id = ${workspaceId} and a.platform = ${platform}
      and ${
        scope.group
          ? sql`a.isolation_group = ${scope.group}`
          : sql`a.id in (select jsonb_array_elements_text(${jsonParam(scope.account_ids ?? [])}))`
      }
      order by a.id`,
  );
  return result.map((r) => r.id);
}

const inScope = (column: string, accountIds: string[] | null) =>
  accountIds === null
    ? sql`true`
    : sql`${sql.raw(column)} in (select jsonb_array_elements_text(${jsonParam(accountIds)}))`;

const within = (column: string, span: Span) =>
  sql`${sql.raw(column)} between ${iso(span.from)}::timestamptz and ${iso(span.to)}::timestamptz`;

/** Accounts and environments that reported events (heartbeats included) during the drill, with their counts. */
export async function drillParticipants(
  db: Db,
  workspaceId: string,
  platform: string,
  accountIds: string[] | null,
  span: Span,
): Promise<{ accounts: ParticipantAccount[]; environments: ParticipantEnvironment[] }> {
  const accounts = await rows<{ id: string; platform: string; ref: string; events: number }>(
    db,
    sql`select a.id, a.platform, a.ref, count(*)::int as events
      from events e join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
      where e.workspace_id = ${workspaceId} and a.platform = ${platform} and ${within("e.occurred_at", span)}
        and ${inScope("a.id", accountIds)}
      group by a.id, a.platform, a.ref
      order by a.ref, a.id`,
  );
  const environments = await rows<{ id: string; name: string; events: number }>(
    db,
    sql`select v.id, v.name, count(*)::int as events
      from events e join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
        join environments v on v.id = e.environment_id and v.workspace_id = ${workspaceId}
      where e.workspace_id = ${workspaceId} and a.platform = ${platform} and ${within("e.occurred_at", span)}
        and ${inScope("a.id", accountIds)}
      group by v.id, v.name
      order by v.name, v.id`,
  );
  return {
    accounts: accounts.map((a) => ({
      account_id: a.id,
      platform: a.platform,
      ref: a.ref,
      events: Number(a.events),
    })),
    environments: environments.map((v) => ({ environment_id: v.id, name: v.name, events: Number(v.events) })),
  };
}

/**
 * Every login and operation reported during the drill, each with whether the same account asked preflight
 * about the same operation in the `askMinutes` before it (or at the same instant).
 */
export async function drillOperations(
  db: Db,
  workspaceId: string,
  platform: string,
  accountIds: string[] | null,
  span: Span,
  askMinutes: number,
): Promise<DrillOperation[]> {
  const result = await rows<{
    account_id: string;
    operation: string;
    at_ms: number;
    asked: boolean;
  }>(
    db,
    sql`select e.account_id, coalesce(e.operation, e.type) as operation, ${epochMs("e.occurred_at")} as at_ms,
        exists (select 1 from preflights p where p.workspace_id = ${workspaceId} and p.account_id = e.account_id
          and p.operation = coalesce(e.operation, e.type)
          and p.at between e.occurred_at - make_interval(mins => ${askMinutes}) and e.occurred_at) as asked
      from events e join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
      where e.workspace_id = ${workspaceId} and a.platform = ${platform} and ${within("e.occurred_at", span)}
        and e.type in ('login', 'operation') and ${inScope("a.id", accountIds)}
      order by e.occurred_at, e.id`,
  );
  return result.map((r) => ({
    accountId: r.account_id,
    operation: r.operation,
    at: Number(r.at_ms),
    askedFirst: r.asked === true,
  }));
}

/** The first person's answer (acknowledge, resolve, dismiss or trust) to any of these alerts, in epoch ms. */
export async function firstAlertAnswer(
  db: Db,
  workspaceId: string,
  alertIds: string[],
): Promise<number | null> {
  if (alertIds.length === 0) return null;
  const [row] = await rows<{ at_ms: number | null }>(
    db,
    sql`select ${epochMs("min(l.at)")} as at_ms from audit_log l
      where l.workspace_id = ${workspaceId} and l.target_type = 'alert'
        and l.action in ('alert.acknowledge', 'alert.resolve', 'alert.dismiss', 'alert.trust')
        and l.target_id in (select jsonb_array_elements_text(${jsonParam(alertIds)}))`,
  );
  return row?.at_ms === null || row?.at_ms === undefined ? null : Number(row.at_ms);
}

/** Real incidents (declared or detected, never drills) on the platform that overlap the drill. */
export async function realIncidentsDuring(
  db: Db,
  workspaceId: string,
  platform: string,
  span: Span,
): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(
      and(
        eq(incidents.workspaceId, workspaceId),
        eq(incidents.kind, "incident"),
        eq(incidents.platform, platform),
        sql`${incidents.startedAt} <= ${iso(span.to)}::timestamptz`,
        sql`(${incidents.endedAt} is null or ${incidents.endedAt} >= ${iso(span.from)}::timestamptz)`,
      ),
    )
    .orderBy(incidents.startedAt, incidents.id);
}
