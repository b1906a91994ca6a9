import { and, desc, eq, inArray, lt, ne, sql } from "drizzle-orm";
import { accounts } from "../../db/schema/accounts.ts";
import { alerts } from "../../db/schema/alerts.ts";
import { incidents } from "../../db/schema/incidents.ts";
import { channels, notificationDeliveries, notificationOutbox } from "../../db/schema/notifications.ts";
import { workspaces } from "../../db/schema/tenancy.ts";
import { newId } from "../ids.ts";
import { type Db, rows } from "./db.ts";

export type ChannelRow = typeof channels.$inferSelect;
export type NewChannel = Omit<ChannelRow, "createdAt" | "updatedAt">;
export type OutboxRow = typeof notificationOutbox.$inferSelect;
export type DeliveryRow = typeof notificationDeliveries.$inferSelect;

export async function insertChannel(db: Db, row: NewChannel, now: Date): Promise<ChannelRow> {
  const [out] = await db
    .insert(channels)
    .values({ ...row, createdAt: now, updatedAt: now })
    .returning();
  return out!;
}

export async function listChannels(db: Db, workspaceId: string, limit: number, before: string | null) {
  return db
    .select()
    .from(channels)
    .where(and(eq(channels.workspaceId, workspaceId), before ? lt(channels.id, before) : undefined))
    .orderBy(desc(channels.id))
    .limit(limit + 1);
}

export async function getChannel(db: Db, workspaceId: string, id: string): Promise<ChannelRow | null> {
  const [row] = await db
    .select()
    .from(channels)
    .where(and(eq(channels.workspaceId, workspaceId), eq(channels.id, id)));
  return row ?? null;
}

export async function updateChannel(
  db: Db,
  workspaceId: string,
  id: string,
  patch: Partial<Omit<NewChannel, "id" | "workspaceId" | "kind">>,
  now: Date,
): Promise<ChannelRow | null> {
  const [row] = await db
    .update(channels)
    .set({ ...patch, updatedAt: now })
    .where(and(eq(channels.workspaceId, workspaceId), eq(channels.id, id)))
    .returning();
  return row ?? null;
}

/** Deletes a channel and the messages it still owed; its delivery log stays for the audit trail. */
export async function deleteChannel(db: Db, workspaceId: string, id: string): Promise<ChannelRow | null> {
  const [row] = await db
    .delete(channels)
    .where(and(eq(channels.workspaceId, workspaceId), eq(channels.id, id)))
    .returning();
  if (row) {
    await db
      .delete(notificationOutbox)
      .where(and(eq(notificationOutbox.channelId, id), eq(notificationOutbox.status, "pending")));
  }
  return row ?? null;
}

export const SEVERITY_ARRAY = `array['info','low','medium','high','critical']`;

/**
 * The outbox rows for alerts a statement just wrote (`source`: rows with id, workspace_id, rule, severity,
 * account_ids, incident_id): one per enabled channel whose severity and rule filters match, per incident or,
 * outside incidents, per first account — so alerts of one incident or one case make one message.
 */
export const outboxFrom = (source: string, event: string, now: string) =>
  `insert into notification_outbox (id, workspace_id, channel_id, event, alert_ids, group_key, status, attempts,
      due_at, created_at)
    select 'nob_' || replace(gen_random_uuid()::text, '-', ''), s.workspace_id, c.id, ${event},
      array_agg(s.id order by s.id), coalesce(s.incident_id, s.account_ids[1], s.id), 'pending', 0, ${now}, ${now}
    from ${source} s
    join channels c on c.workspace_id = s.workspace_id and c.enabled
      and array_position(${SEVERITY_ARRAY}, s.severity) >= array_position(${SEVERITY_ARRAY}, c.min_severity)
      and (c.rules is null or s.rule = any(c.rules))
    group by s.workspace_id, c.id, coalesce(s.incident_id, s.account_ids[1], s.id)`;

/** Outbox rows for alerts an action moved, in the action's transaction (one statement). */
export async function enqueueAlertNotices(
  db: Db,
  workspaceId: string,
  alertIds: string[],
  event: "alert.acknowledged" | "alert.resolved" | "alert.dismissed",
  now: Date,
): Promise<void> {
  if (alertIds.length === 0) return;
  await db.execute(sql`with s as (
      select id, workspace_id, rule, severity, account_ids, incident_id from alerts
      where workspace_id = ${workspaceId} and id in ${alertIds}
    ), at as (select ${now.toISOString()}::timestamptz as t)
    ${sql.raw(outboxFrom("s", `'${event}'`, "(select t from at)"))}`);
}

/**
 * Claims up to `limit` due messages for `leaseMs`: their due time moves past the lease, so another worker
 * skips them while this one delivers, and a worker that dies mid-delivery leaves them due again when the
 * lease ends. `skip locked` lets several workers and servers claim at once without waiting on each other.
 */
export async function claimDue(db: Db, now: Date, leaseMs: number, limit: number): Promise<OutboxRow[]> {
  const claimed = await rows<{ id: string }>(
    db,
    sql`update notification_outbox set due_at = ${new Date(now.getTime() + leaseMs).toISOString()}::timestamptz
      where id in (
        select id from notification_outbox
        where status = 'pending' and due_at <= ${now.toISOString()}::timestamptz
        order by due_at limit ${limit} for update skip locked
      ) returning id`,
  );
  if (claimed.length === 0) return [];
  return db
    .select()
    .from(notificationOutbox)
    .where(
      inArray(
        notificationOutbox.id,
        claimed.map((r) => r.id),
      ),
    )
    .orderBy(notificationOutbox.createdAt);
}

export interface Attempt {
  workspaceId: string;
  channelId: string;
  outboxId: string | null;
  event: string;
  attempt: number;
  outcome: DeliveryRow["outcome"];
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export async function insertDelivery(db: Db, a: Attempt, now: Date): Promise<DeliveryRow> {
  const [row] = await db
    .insert(notificationDeliveries)
    .values({ id: newId("dlv"), ...a, at: now })
    .returning();
  return row!;
}

/** Logs an attempt at an outbox message and moves the message: done, dead, or due again at `retryAt`. */
export async function recordAttempt(db: Db, a: Attempt, retryAt: Date | null, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    await insertDelivery(tx, a, now);
    await tx
      .update(notificationOutbox)
      .set(
        a.outcome === "retry" && retryAt
          ? { attempts: a.attempt, dueAt: retryAt }
          : { attempts: a.attempt, status: a.outcome === "delivered" ? "delivered" : "dead", doneAt: now },
      )
      .where(eq(notificationOutbox.id, a.outboxId!));
  });
}

/** A message whose channel or alerts are gone (deleted, erased) is closed without an attempt. */
export async function dropMessage(db: Db, id: string, now: Date): Promise<void> {
  await db
    .update(notificationOutbox)
    .set({ status: "dead", doneAt: now })
    .where(eq(notificationOutbox.id, id));
}

export async function listDeliveries(
  db: Db,
  workspaceId: string,
  channelId: string,
  limit: number,
  before: string | null,
) {
  return db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.workspaceId, workspaceId),
        eq(notificationDeliveries.channelId, channelId),
        before ? lt(notificationDeliveries.id, before) : undefined,
      ),
    )
    .orderBy(desc(notificationDeliveries.id))
    .limit(limit + 1);
}

/** What a message says about its alerts: the alerts, their accounts' platform/ref and incidents' titles. */
export async function noticeSubjects(db: Db, workspaceId: string, alertIds: string[]) {
  const found = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.workspaceId, workspaceId), inArray(alerts.id, alertIds)))
    .orderBy(alerts.id);
  const accountIds = [...new Set(found.flatMap((a) => a.accountIds))];
  const incidentIds = [...new Set(found.flatMap((a) => (a.incidentId ? [a.incidentId] : [])))];
  const names =
    accountIds.length > 0
      ? await db
          .select({ id: accounts.id, platform: accounts.platform, ref: accounts.ref })
          .from(accounts)
          .where(and(eq(accounts.workspaceId, workspaceId), inArray(accounts.id, accountIds)))
      : [];
  const titles =
    incidentIds.length > 0
      ? await db
          .select({ id: incidents.id, title: incidents.title })
          .from(incidents)
          .where(and(eq(incidents.workspaceId, workspaceId), inArray(incidents.id, incidentIds)))
      : [];
  return {
    alerts: found,
    names: new Map(names.map((n) => [n.id, { platform: n.platform, ref: n.ref }])),
    titles: new Map(titles.map((i) => [i.id, i.title])),
  };
}

export async function workspaceSlug(db: Db, workspaceId: string): Promise<string> {
  const [row] = await db
    .select({ slug: workspaces.slug })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  return row?.slug ?? workspaceId;
}

/** Forgets messages done (delivered or dead) and delivery attempts logged before `before`. */
export async function pruneNotifications(
  db: Db,
  before: Date,
): Promise<{ messages: number; attempts: number }> {
  const messages = await db
    .delete(notificationOutbox)
    .where(and(ne(notificationOutbox.status, "pending"), lt(notificationOutbox.doneAt, before)))
    .returning({ id: notificationOutbox.id });
  const attempts = await db
    .delete(notificationDeliveries)
    .where(lt(notificationDeliveries.at, before))
    .returning({ id: notificationDeliveries.id });
  return { messages: messages.length, attempts: attempts.length };
}
