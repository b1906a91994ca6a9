import { and, desc, eq, getTableColumns, inArray, lt, or, sql } from "drizzle-orm";
import { accounts, environmentAccounts, type Pin } from "../../db/schema/accounts.ts";
import { baselineValues, events, ipSubnetSql, userAgents } from "../../db/schema/telemetry.ts";
import { newId } from "../ids.ts";
import type { Db } from "./db.ts";
import { epochMs } from "./sql.ts";

export type AccountRow = typeof accounts.$inferSelect;

/** True when the insert lost to an existing row (PostgreSQL unique_violation, wrapped by drizzle). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === "23505" || e?.cause?.code === "23505";
}

export async function createAccount(
  db: Db,
  workspaceId: string,
  input: { platform: string; ref: string; label?: string | null; group?: string | null; pin?: Pin | null },
  now: Date,
): Promise<AccountRow> {
  const [row] = await db
    .insert(accounts)
    .values({
      id: newId("acc"),
      workspaceId,
      platform: input.platform,
      ref: input.ref,
      label: input.label ?? null,
      group: input.group ?? null,
      pin: input.pin ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row!;
}

export async function getAccount(db: Db, workspaceId: string, id: string): Promise<AccountRow | null> {
  const [row] = await db
    .select()
    .from(accounts)
    .where(and(eq(accounts.workspaceId, workspaceId), eq(accounts.id, id)))
    .limit(1);
  return row ?? null;
}

export async function findAccountByRef(db: Db, workspaceId: string, platform: string, ref: string) {
  const [row] = await db
    .select()
    .from(accounts)
    .where(and(eq(accounts.workspaceId, workspaceId), eq(accounts.platform, platform), eq(accounts.ref, ref)))
    .limit(1);
  return row ?? null;
}

export async function findAccountsByIds(db: Db, workspaceId: string, ids: string[]): Promise<AccountRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(accounts)
    .where(and(eq(accounts.workspaceId, workspaceId), inArray(accounts.id, ids)));
}

export async function listAccounts(
  db: Db,
  workspaceId: string,
  filter: { platform?: string | undefined; group?: string | undefined; state?: string | undefined },
  limit: number,
  before: string | null,
): Promise<AccountRow[]> {
  return db
    .select()
    .from(accounts)
    .where(
      and(
        eq(accounts.workspaceId, workspaceId),
        filter.platform ? eq(accounts.platform, filter.platform) : undefined,
        filter.group ? eq(accounts.group, filter.group) : undefined,
        filter.state ? eq(accounts.state, filter.state as AccountRow["state"]) : undefined,
        before ? lt(accounts.id, before) : undefined,
      ),
    )
    .orderBy(desc(accounts.id))
    .limit(limit + 1);
}

export async function updateAccount(
  db: Db,
  workspaceId: string,
  id: string,
  patch: { label?: string | null; group?: string | null; pin?: Pin | null },
  now: Date,
): Promise<AccountRow | null> {
  const [row] = await db
    .update(accounts)
    .set({ ...patch, updatedAt: now })
    .where(and(eq(accounts.workspaceId, workspaceId), eq(accounts.id, id)))
    .returning();
  return row ?? null;
}

export async function environmentIdsOf(db: Db, accountIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(accountIds.map((id) => [id, []]));
  if (accountIds.length === 0) return out;
  const links = await db
    .select({ accountId: environmentAccounts.accountId, environmentId: environmentAccounts.environmentId })
    .from(environmentAccounts)
    .where(inArray(environmentAccounts.accountId, accountIds))
    .orderBy(environmentAccounts.environmentId);
  for (const l of links) out.get(l.accountId)?.push(l.environmentId);
  return out;
}

export async function baselineOf(db: Db, accountId: string) {
  return db
    .select()
    .from(baselineValues)
    .where(eq(baselineValues.accountId, accountId))
    .orderBy(baselineValues.kind, desc(baselineValues.count), baselineValues.value);
}

/** Marks baseline values normal for the account (trust), creating them if the account never sent them. */
export async function acceptBaselineValues(
  db: Db,
  workspaceId: string,
  accountId: string,
  values: Array<[string, string]>,
  at: Date,
): Promise<void> {
  if (values.length === 0) return;
  await db
    .insert(baselineValues)
    .values(
      values.map(([kind, value]) => ({
        workspaceId,
        accountId,
        kind,
        value,
        count: 0,
        firstSeenAt: at,
        lastSeenAt: at,
        accepted: true,
      })),
    )
    .onConflictDoUpdate({
      target: [baselineValues.accountId, baselineValues.kind, baselineValues.value],
      set: { accepted: true },
    });
}

export interface EventCursor {
  at: number;
  id: string;
}

/** The stored columns of an event a reader sees: the user agent's dictionary id and raw findings are read resolved. */
const { uaId: _uaId, findings: _findings, ...eventColumns } = getTableColumns(events);

/**
 * An account's events, newest first by occurred_at, keyset-paginated on (occurred_at, id), with what migration
 * 0005 stopped storing resolved in SQL: the user agent from its dictionary, the subnet from the ip, findings
 * `[]` when NULL. The ASN organisation and the IP's timezone come from the enricher (src/http/accounts).
 */
export async function accountEvents(
  db: Db,
  workspaceId: string,
  accountId: string,
  limit: number,
  before: EventCursor | null,
) {
  return db
    .select({
      ...eventColumns,
      subnet: sql<string | null>`${sql.raw(ipSubnetSql('"events"."ip"'))}`,
      userAgent: userAgents.value,
      findings: sql<unknown>`coalesce(${events.findings}, '[]'::jsonb)`.mapWith(events.findings),
      at: sql<number>`${epochMs(sql`${events.occurredAt}`)}`.mapWith(Number),
    })
    .from(events)
    .leftJoin(userAgents, eq(userAgents.id, events.uaId))
    .where(
      and(
        eq(events.workspaceId, workspaceId),
        eq(events.accountId, accountId),
        before
          ? or(
              lt(events.occurredAt, new Date(before.at)),
              and(eq(events.occurredAt, new Date(before.at)), lt(events.id, before.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(events.occurredAt), desc(events.id))
    .limit(limit + 1);
}
