import { sql } from "drizzle-orm";
import type { LinkRow } from "../core/clusters.ts";
import { type Db, rows } from "./db.ts";

export type { LinkRow };

import { epochMs, iso } from "./sql.ts";

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

/** One account's links, any age, in a stable order: a page after `after` (kind, value, other account). */
export async function accountLinksPage(
  db: Db,
  workspaceId: string,
  accountId: string,
  after: { kind: string; value: string; other: string } | null,
  limit: number,
) {
  const result = await rows<{
    kind: LinkRow["kind"];
    value: string;
    account_a: string;
    account_b: string;
    other: string;
    first_ms: number;
    last_ms: number;
    count: number;
  }>(
    db,
    sql`select kind, value, account_a, account_b,
          case when account_a = ${accountId} then account_b else account_a end as other,
          ${epochMs("first_seen_at")} as first_ms, ${epochMs("last_seen_at")} as last_ms, count
        from links
        where workspace_id = ${workspaceId} and (account_a = ${accountId} or account_b = ${accountId})
          ${
            after
              ? sql`and (kind, value, case when account_a = ${accountId} then account_b else account_a end)
                  > (${after.kind}, ${after.value}, ${after.other})`
              : sql``
          }
        order by 1, 2, 5
        limit ${limit}`,
  );
  return result.map((r) => ({
    kind: r.kind,
    value: r.value,
    accountIds: [r.account_a, r.account_b],
    other: r.other,
    firstSeenAt: Number(r.first_ms),
    lastSeenAt: Number(r.last_ms),
    count: Number(r.count),
  }));
}
