import { sql } from "drizzle-orm";
import { type Db, rows } from "./db.ts";
import { epochMs, iso, jsonParam } from "./sql.ts";

/** One account's use of a shared value (a device id, IP or subnet), from the environment index. */
export interface PeerUse {
  accountId: string;
  group: string | null;
  kind: string;
  value: string;
  firstSeen: number;
  lastSeen: number;
  lastEventId: string | null;
}

/**
 * Every account that used one of these values within [from, to]: the environment index is `baseline_values`,
 * served by its (workspace_id, kind, value) index, so the cost depends on the values asked, not on history.
 */
export async function loadPeers(
  db: Db,
  workspaceId: string,
  values: Array<{ k: string; v: string }>,
  from: number,
  to: number,
): Promise<PeerUse[]> {
  if (values.length === 0) return [];
  const result = await rows<{
    account_id: string;
    group: string | null;
    kind: string;
    value: string;
    first_ms: number;
    last_ms: number;
    last_event_id: string | null;
  }>(db, peersQuery(workspaceId, values, from, to));
  return result.map((r) => ({
    accountId: r.account_id,
    group: r.group,
    kind: r.kind,
    value: r.value,
    firstSeen: Number(r.first_ms),
    lastSeen: Number(r.last_ms),
    lastEventId: r.last_event_id,
  }));
}

/** The peer lookup's statement (exported so tests can EXPLAIN exactly what runs). */
export function peersQuery(
  workspaceId: string,
  values: Array<{ k: string; v: string }>,
  from: number,
  to: number,
) {
  // LATERAL makes one index lookup per value: planners estimate a JSON set at 100 rows and would rather
  // hash-join it against a sequential scan of the whole workspace's baselines.
  return sql`select b.account_id, (select isolation_group from accounts a where a.id = b.account_id) as "group", b.kind, b.value,
        ${epochMs("b.first_seen_at")} as first_ms, ${epochMs("b.last_seen_at")} as last_ms, b.last_event_id
      from jsonb_to_recordset(${jsonParam(values)}) as x(k text, v text)
      cross join lateral (
        select * from baseline_values b
        where b.workspace_id = ${workspaceId} and b.kind = x.k and b.value = x.v
          and b.last_seen_at >= ${iso(from)}::timestamptz and b.first_seen_at <= ${iso(to)}::timestamptz
      ) b`;
}

export interface LinkDelta {
  kind: "device" | "ip" | "subnet";
  value: string;
  account_a: string;
  account_b: string;
  first: string;
  last: string;
  count: number;
  first_event_id: string;
  last_event_id: string;
}

export async function upsertLinks(db: Db, workspaceId: string, deltas: LinkDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await db.execute(sql`insert into links (workspace_id, kind, value, account_a, account_b, first_seen_at, last_seen_at,
      count, first_event_id, last_event_id)
    select ${workspaceId}, x.kind, x.value, x.account_a, x.account_b, x.first, x.last, x.count, x.first_event_id, x.last_event_id
    from jsonb_to_recordset(${jsonParam(deltas)}) as x(kind text, value text, account_a text, account_b text,
      first timestamptz, last timestamptz, count integer, first_event_id text, last_event_id text)
    order by x.kind, x.value, x.account_a, x.account_b
    on conflict (workspace_id, kind, value, account_a, account_b) do update set
      count = links.count + excluded.count,
      first_event_id = case when excluded.first_seen_at < links.first_seen_at then excluded.first_event_id else links.first_event_id end,
      first_seen_at = least(links.first_seen_at, excluded.first_seen_at),
      last_event_id = case when excluded.last_seen_at >= links.last_seen_at then excluded.last_event_id else links.last_event_id end,
      last_seen_at = greatest(links.last_seen_at, excluded.last_seen_at)`);
}

export interface LinkRow {
  kind: "device" | "ip" | "subnet";
  value: string;
  accountA: string;
  accountB: string;
  groupA: string | null;
  groupB: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  count: number;
  firstEventId: string;
  lastEventId: string;
  allowed: boolean;
}

export interface LinkFilter {
  since: number;
  platform?: string | undefined;
  kind?: string | undefined;
  accountId?: string | undefined;
}

/** The associations listing's statement (exported so tests can EXPLAIN exactly what runs). */
export function linksQuery(workspaceId: string, filter: LinkFilter, limit: number) {
  return sql`select l.kind, l.value, l.account_a, l.account_b,
        (select isolation_group from accounts a where a.id = l.account_a) as group_a,
        (select isolation_group from accounts b where b.id = l.account_b) as group_b,
        ${epochMs("l.first_seen_at")} as first_ms, ${epochMs("l.last_seen_at")} as last_ms, l.count,
        l.first_event_id, l.last_event_id,
        exists (select 1 from allowances w where w.workspace_id = l.workspace_id and w.rule = 'shared_' || l.kind
          and w.account_key = l.account_a || ',' || l.account_b and w.key = l.value) as allowed
      from links l
      where l.workspace_id = ${workspaceId} and l.last_seen_at >= ${iso(filter.since)}::timestamptz
        ${filter.kind ? sql`and l.kind = ${filter.kind}` : sql``}
        ${
          filter.platform
            ? sql`and exists (select 1 from accounts a where a.id = l.account_a and a.platform = ${filter.platform})
                and exists (select 1 from accounts b where b.id = l.account_b and b.platform = ${filter.platform})`
            : sql``
        }
        ${filter.accountId ? sql`and (l.account_a = ${filter.accountId} or l.account_b = ${filter.accountId})` : sql``}
      order by l.last_seen_at desc, l.kind, l.value
      limit ${limit}`;
}

/** Links active since an instant, newest first, with whether a person allowed that sharing (trust). */
export async function listLinks(
  db: Db,
  workspaceId: string,
  filter: {
    since: number;
    platform?: string | undefined;
    kind?: string | undefined;
    accountId?: string | undefined;
  },
  limit: number,
): Promise<LinkRow[]> {
  const result = await rows<{
    kind: LinkRow["kind"];
    value: string;
    account_a: string;
    account_b: string;
    group_a: string | null;
    group_b: string | null;
    first_ms: number;
    last_ms: number;
    count: number;
    first_event_id: string;
    last_event_id: string;
    allowed: boolean;
  }>(db, linksQuery(workspaceId, filter, limit));
  return result.map((r) => ({
    kind: r.kind,
    value: r.value,
    accountA: r.account_a,
    accountB: r.account_b,
    groupA: r.group_a,
    groupB: r.group_b,
    firstSeenAt: Number(r.first_ms),
    lastSeenAt: Number(r.last_ms),
    count: Number(r.count),
    firstEventId: r.first_event_id,
    lastEventId: r.last_event_id,
    allowed: r.allowed,
  }));
}
