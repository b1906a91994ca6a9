import { and, desc, eq, lt, sql } from "drizzle-orm";
import { drillVerifications } from "../../db/schema/drills.ts";
import type { DrillAccount, DrillFacts } from "../core/drill-verify.ts";
import { type Db, rows } from "./db.ts";
import { epochMs, iso, jsonParam } from "./sql.ts";

export interface DrillScope {
  platform?: string | undefined;
  group?: string | undefined;
  accountIds?: string[] | undefined;
}

const idArray = (ids: string[]) => sql`array(select jsonb_array_elements_text(${jsonParam(ids)}))`;

/** The workspace's accounts in scope (every filter given must hold), by platform and ref. */
export async function scopeAccounts(db: Db, workspaceId: string, scope: DrillScope): Promise<DrillAccount[]> {
  const found = await rows<{
    id: string;
    platform: string;
    ref: string;
    state: DrillAccount["state"];
    pinned: boolean;
    event_count: number;
  }>(
    db,
    sql`select id, platform, ref, state, pin is not null as pinned, event_count from accounts
      where workspace_id = ${workspaceId}
        ${scope.platform ? sql`and platform = ${scope.platform}` : sql``}
        ${scope.group ? sql`and isolation_group = ${scope.group}` : sql``}
        ${scope.accountIds ? sql`and id = any(${idArray(scope.accountIds)})` : sql``}
      order by platform, ref`,
  );
  return found.map((r) => ({
    id: r.id,
    platform: r.platform,
    ref: r.ref,
    state: r.state,
    pinned: r.pinned,
    eventCount: Number(r.event_count),
  }));
}

/** Of these ids, the ones that name an account of the workspace. */
export async function existingAccountIds(db: Db, workspaceId: string, ids: string[]): Promise<Set<string>> {
  const found = await rows<{ id: string }>(
    db,
    sql`select id from accounts where workspace_id = ${workspaceId} and id = any(${idArray(ids)})`,
  );
  return new Set(found.map((r) => r.id));
}

/**
 * What the checks read about these accounts, a statement per fact for all of them at once: open or
 * acknowledged alerts, values shared with another group since `since` (minus sharing a person trusted),
 * the latest heartbeat of their environments and the workspace's active incidents.
 */
export async function drillFacts(
  db: Db,
  workspaceId: string,
  ids: string[],
  opts: { since: Date; subnets: { v4: string; v6: string } | null },
): Promise<Omit<DrillFacts, "now" | "shareDays" | "accounts">> {
  const inScope = idArray(ids);
  const alertRows = await rows<{ id: string; rule: string; account_ids: string[] }>(
    db,
    sql`select id, rule, account_ids from alerts
      where workspace_id = ${workspaceId} and status in ('open', 'acknowledged') and account_ids && ${inScope}
      order by id`,
  );
  const subnet = opts.subnets
    ? sql`or (s.kind = ${opts.subnets.v4} and strpos(s.value, ':') = 0)
          or (s.kind = ${opts.subnets.v6} and strpos(s.value, ':') > 0)`
    : sql``;
  const shareRows = await rows<{
    account_id: string;
    kind: string;
    value: string;
    peer_id: string;
    peer_group: string | null;
  }>(
    db,
    sql`select s.account_id, s.kind, s.value, o.account_id as peer_id, oa.isolation_group as peer_group
      from baseline_values s
      join accounts sa on sa.id = s.account_id
      join baseline_values o on o.workspace_id = s.workspace_id and o.kind = s.kind and o.value = s.value
        and o.account_id <> s.account_id and o.last_seen_at >= ${iso(opts.since)}::timestamptz
      join accounts oa on oa.id = o.account_id
      where s.workspace_id = ${workspaceId} and s.account_id = any(${inScope})
        and s.last_seen_at >= ${iso(opts.since)}::timestamptz
        and (s.kind in ('device', 'ip') ${subnet})
        and (sa.isolation_group is null or oa.isolation_group is distinct from sa.isolation_group)
        and not exists (select 1 from allowances w where w.workspace_id = s.workspace_id
          and w.rule = 'shared_' || split_part(s.kind, '/', 1)
          and w.account_key = least(s.account_id, o.account_id) || ',' || greatest(s.account_id, o.account_id)
          and w.key = s.value)
      order by s.account_id, s.kind, s.value, o.account_id`,
  );
  const beatRows = await rows<{ account_id: string; last_ms: number | null }>(
    db,
    sql`select ea.account_id, max(${epochMs("e.last_heartbeat_at")}) as last_ms
      from environment_accounts ea join environments e on e.id = ea.environment_id
      where ea.workspace_id = ${workspaceId} and ea.account_id = any(${inScope})
      group by ea.account_id`,
  );
  const incidentRows = await rows<{ id: string; platform: string; title: string; started_ms: number }>(
    db,
    sql`select id, platform, title, ${epochMs("started_at")} as started_ms from incidents
      where workspace_id = ${workspaceId} and status = 'active' order by started_at`,
  );
  return {
    alerts: alertRows.map((r) => ({ id: r.id, rule: r.rule, accountIds: r.account_ids })),
    shares: shareRows.map((r) => ({
      accountId: r.account_id,
      kind: r.kind,
      value: r.value,
      peerId: r.peer_id,
      peerGroup: r.peer_group,
    })),
    heartbeats: new Map(beatRows.map((r) => [r.account_id, r.last_ms === null ? null : Number(r.last_ms)])),
    incidents: incidentRows.map((r) => ({
      id: r.id,
      platform: r.platform,
      title: r.title,
      startedAt: Number(r.started_ms),
    })),
  };
}

export type DrillVerificationRow = typeof drillVerifications.$inferSelect;

export async function saveDrillVerification(db: Db, row: typeof drillVerifications.$inferInsert) {
  await db.insert(drillVerifications).values(row);
}

export async function listDrillVerifications(
  db: Db,
  workspaceId: string,
  limit: number,
  before: string | null,
): Promise<DrillVerificationRow[]> {
  return db
    .select()
    .from(drillVerifications)
    .where(
      and(
        eq(drillVerifications.workspaceId, workspaceId),
        before ? lt(drillVerifications.id, before) : undefined,
      ),
    )
    .orderBy(desc(drillVerifications.id))
    .limit(limit + 1);
}

export async function getDrillVerification(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<DrillVerificationRow | null> {
  const [row] = await db
    .select()
    .from(drillVerifications)
    .where(and(eq(drillVerifications.workspaceId, workspaceId), eq(drillVerifications.id, id)))
    .limit(1);
  return row ?? null;
}
