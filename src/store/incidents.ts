import { and, desc, eq, lt, sql } from "drizzle-orm";
import { incidents, overrides, preflights } from "../../db/schema/incidents.ts";
import { newId } from "../ids.ts";
import { type Db, rows } from "./db.ts";
import { iso } from "./sql.ts";

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
    /** a drill: its planned length and scope (src/store/drills-rehearsal.ts) */
    kind?: "incident" | "drill";
    plannedMinutes?: number | null;
    plannedEndAt?: Date | null;
    scope?: IncidentRow["scope"];
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
