import { and, desc, eq, getTableColumns, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { accounts, environmentAccounts, type Pin } from "../../db/schema/accounts.ts";
import { baselineValues, events, ipSubnetSql, userAgents } from "../../db/schema/telemetry.ts";
import { newId } from "../ids.ts";
import { type Db, rows } from "./db.ts";
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

export interface ErasedCounts {
  events: number;
  baseline_values: number;
  links: number;
  alerts_deleted: number;
  alerts_tombstoned: number;
  environment_bindings: number;
  allowances: number;
  overrides: number;
  preflights: number;
  other_events_redacted: number;
}

/**
 * Erases one account and everything that is about it alone. What also concerns other accounts stays, with
 * `tombstone` in place of the account's id: alerts that name other accounts, and other accounts' findings
 * that mention it. Population counts (no account ids) and the audit log (append-only) stay as they are.
 */
export async function eraseAccount(
  db: Db,
  workspaceId: string,
  accountId: string,
  tombstone: string,
): Promise<ErasedCounts> {
  const n = async (statement: SQL) => {
    const [row] = await rows<{ n: number }>(
      db,
      sql`with touched as (${statement} returning 1) select count(*)::int as n from touched`,
    );
    return Number(row?.n ?? 0);
  };
  const ws = workspaceId;
  const id = accountId;
  const counts: ErasedCounts = {
    events: await n(sql`delete from events where workspace_id = ${ws} and account_id = ${id}`),
    baseline_values: await n(
      sql`delete from baseline_values where workspace_id = ${ws} and account_id = ${id}`,
    ),
    links: await n(
      sql`delete from links where workspace_id = ${ws} and (account_a = ${id} or account_b = ${id})`,
    ),
    alerts_deleted: await n(
      sql`delete from alerts where workspace_id = ${ws} and account_ids <@ array[${id}]::text[]
            and account_ids @> array[${id}]::text[]`,
    ),
    alerts_tombstoned: await n(
      sql`update alerts set account_ids = array_replace(account_ids, ${id}, ${tombstone}),
            dedup_key = replace(dedup_key, ${id}, ${tombstone}),
            summary = replace(summary, ${id}, ${tombstone}),
            evidence = replace(evidence::text, ${id}, ${tombstone})::jsonb
          where workspace_id = ${ws} and account_ids @> array[${id}]::text[]`,
    ),
    environment_bindings: await n(
      sql`delete from environment_accounts where workspace_id = ${ws} and account_id = ${id}`,
    ),
    allowances: await n(
      sql`delete from allowances where workspace_id = ${ws} and ${id} = any(string_to_array(account_key, ','))`,
    ),
    overrides: await n(sql`delete from overrides where workspace_id = ${ws} and account_id = ${id}`),
    preflights: await n(sql`delete from preflights where workspace_id = ${ws} and account_id = ${id}`),
    // A scan of the workspace's events with findings: erasure is rare, and a finding of a sharing rule names
    // the peer account by id.
    other_events_redacted: await n(
      sql`update events set findings = replace(findings::text, ${id}, ${tombstone})::jsonb
          where workspace_id = ${ws} and findings is not null and strpos(findings::text, ${id}) > 0`,
    ),
  };
  // Messages owed or sent for its alerts are grouped under its id (docs/adr/0018).
  await db.execute(
    sql`update notification_outbox set group_key = ${tombstone} where workspace_id = ${ws} and group_key = ${id}`,
  );
  await db.execute(sql`delete from accounts where workspace_id = ${ws} and id = ${id}`);
  return counts;
}
