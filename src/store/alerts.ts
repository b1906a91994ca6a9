import { and, arrayContains, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { alerts, allowances } from "../../db/schema/alerts.ts";
import { newId } from "../ids.ts";
import type { Db } from "./db.ts";

export type AlertRow = typeof alerts.$inferSelect;
export type AlertStatus = AlertRow["status"];

export interface AlertFilter {
  status?: AlertStatus | undefined;
  severity?: string | undefined;
  rule?: string | undefined;
  accountId?: string | undefined;
  incidentId?: string | undefined;
  since?: Date | undefined;
}

export async function listAlerts(
  db: Db,
  workspaceId: string,
  f: AlertFilter,
  limit: number,
  before: string | null,
) {
  return db
    .select()
    .from(alerts)
    .where(
      and(
        eq(alerts.workspaceId, workspaceId),
        f.status ? eq(alerts.status, f.status) : undefined,
        f.severity ? eq(alerts.severity, f.severity) : undefined,
        f.rule ? eq(alerts.rule, f.rule) : undefined,
        f.accountId ? arrayContains(alerts.accountIds, [f.accountId]) : undefined,
        f.incidentId ? eq(alerts.incidentId, f.incidentId) : undefined,
        f.since ? gte(alerts.lastSeenAt, f.since) : undefined,
        before ? lt(alerts.id, before) : undefined,
      ),
    )
    .orderBy(desc(alerts.id))
    .limit(limit + 1);
}

export async function getAlert(db: Db, workspaceId: string, id: string): Promise<AlertRow | null> {
  const [row] = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.workspaceId, workspaceId), eq(alerts.id, id)))
    .limit(1);
  return row ?? null;
}

/** Moves an alert from one of `from` to `to`; null when it is in no such status (or not the caller's). */
export async function transitionAlert(
  db: Db,
  workspaceId: string,
  id: string,
  from: AlertStatus[],
  to: AlertStatus,
  input: { note?: string | undefined; verdict?: string | undefined },
  now: Date,
): Promise<AlertRow | null> {
  const [row] = await db
    .update(alerts)
    .set({
      status: to,
      updatedAt: now,
      ...(input.note !== undefined ? { note: input.note } : {}),
      ...(input.verdict !== undefined ? { verdict: input.verdict } : {}),
    })
    .where(and(eq(alerts.workspaceId, workspaceId), eq(alerts.id, id), inArray(alerts.status, from)))
    .returning();
  return row ?? null;
}

export async function addAllowance(
  db: Db,
  input: {
    workspaceId: string;
    rule: string;
    accountKey: string;
    key: string;
    alertId: string;
    createdBy: string;
    expiresAt: Date | null;
  },
  now: Date,
): Promise<void> {
  await db
    .insert(allowances)
    .values({ id: newId("alw"), ...input, createdAt: now })
    .onConflictDoUpdate({
      target: [allowances.workspaceId, allowances.rule, allowances.accountKey, allowances.key],
      set: { expiresAt: input.expiresAt, alertId: input.alertId, createdBy: input.createdBy, createdAt: now },
    });
}

/** Locks accounts' rows in id order, the order ingest takes them in, so trust and ingest never deadlock. */
export async function lockAccountRows(db: Db, workspaceId: string, accountIds: string[]): Promise<void> {
  if (accountIds.length === 0) return;
  await db.execute(sql`select id from accounts where workspace_id = ${workspaceId}
    and id in (select jsonb_array_elements_text(${JSON.stringify([...accountIds].sort())}::jsonb)) order by id for update`);
}
