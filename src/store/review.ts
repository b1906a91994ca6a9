import { type SQL, sql } from "drizzle-orm";
import { ipSubnetSql } from "../../db/schema/telemetry.ts";
import { PLATFORM_FAILURES } from "../core/model.ts";
import type {
  FailureCodes,
  NetworkUse,
  OperationCount,
  ReviewAlert,
  ReviewOverride,
  ReviewPreflight,
  SensitiveEvent,
  Span,
  SuccessCount,
} from "../core/review.ts";
import { type Db, rows } from "./db.ts";
import { epochMs, iso, jsonParam } from "./sql.ts";

/** Result codes that point at the account rather than the platform. */
export const ACCOUNT_FAILURES = ["auth_failed", "captcha", "risk_control", "rate_limited"] as const;

/** The incident rules whose alerts belong in a review even when raised outside the incident's own id. */
export const INCIDENT_RULES = [
  "incident_network_switch",
  "retry_storm",
  "sensitive_op_during_incident",
] as const;

/** What the review reads about: one platform (optionally one region) during the incident, in epoch ms. */
export interface ReviewScope extends Span {
  platform: string;
  region: string | null;
}

const between = (column: string, span: Span): SQL =>
  sql`${sql.raw(column)} between ${iso(span.from)}::timestamptz and ${iso(span.to)}::timestamptz`;

/** The same region test the incident rules apply: an event without a known country is in every region. */
const inRegion = (alias: string, region: string | null): SQL =>
  region === null
    ? sql`true`
    : sql`(${sql.raw(`${alias}.country`)} is null or ${sql.raw(`${alias}.country`)} = ${region} or ${sql.raw(`${alias}.region`)} = ${region})`;

/** The scope's events: the platform's accounts, the incident's region, the window (bounds included). */
const scoped = (alias: string, account: string, workspaceId: string, scope: ReviewScope): SQL =>
  sql`${sql.raw(`${alias}.workspace_id`)} = ${workspaceId} and ${sql.raw(`${account}.platform`)} = ${scope.platform}
    and ${between(`${alias}.occurred_at`, scope)} and ${inRegion(alias, scope.region)}`;

/**
 * Ok and total events per platform, category and phase. `before` is [from, during.from), `during` is
 * [from, to] (an event at the very start or end belongs to the incident, as the rules judge it), `after` is
 * (during.to, to].
 */
export async function reviewSuccessCounts(
  db: Db,
  workspaceId: string,
  windows: { before: Span; during: Span; after: Span | null },
): Promise<SuccessCount[]> {
  const last = windows.after?.to ?? windows.during.to;
  const result = await rows<SuccessCount>(
    db,
    sql`select a.platform, x.category, x.phase,
        count(*) filter (where e.result_status = 'ok')::int as ok, count(*)::int as total
      from events e
      join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
      cross join lateral (select
          case when e.type = 'login' or e.operation = 'login' then 'logins'
            when e.operation = 'publish_listing' then 'publishing'
            when e.operation in ('inventory_sync', 'order_sync') then 'syncs' end as category,
          case when e.occurred_at < ${iso(windows.during.from)}::timestamptz then 'before'
            when e.occurred_at <= ${iso(windows.during.to)}::timestamptz then 'during'
            else 'after' end as phase) x
      where e.workspace_id = ${workspaceId}
        and e.occurred_at >= ${iso(windows.before.from)}::timestamptz and e.occurred_at <= ${iso(last)}::timestamptz
        and x.category is not null
      group by a.platform, x.category, x.phase
      order by a.platform, x.category, x.phase`,
  );
  return result.map((r) => ({ ...r, ok: Number(r.ok), total: Number(r.total) }));
}

/** Events of the scope whose operation is one of the workspace's sensitive operations, oldest first. */
export async function reviewSensitiveEvents(
  db: Db,
  workspaceId: string,
  scope: ReviewScope,
  operations: string[],
): Promise<SensitiveEvent[]> {
  if (operations.length === 0) return [];
  const result = await rows<{
    event_id: string;
    account_id: string;
    platform: string;
    ref: string;
    operator: string | null;
    operation: string;
    at_ms: number;
    ip: string | null;
    asn: number | null;
  }>(
    db,
    sql`select e.id as event_id, e.account_id, a.platform, a.ref, e.operator, e.operation,
        ${epochMs("e.occurred_at")} as at_ms, e.ip, e.asn
      from events e join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
      where ${scoped("e", "a", workspaceId, scope)}
        and e.operation in (select jsonb_array_elements_text(${jsonParam(operations)}))
      order by e.occurred_at, e.id`,
  );
  return result.map((r) => ({
    eventId: r.event_id,
    accountId: r.account_id,
    platform: r.platform,
    ref: r.ref,
    operator: r.operator,
    operation: r.operation,
    at: Number(r.at_ms),
    ip: r.ip,
    asn: r.asn === null ? null : Number(r.asn),
  }));
}

/** How often each operation ran in the scope and on how many accounts, most frequent first. */
export async function reviewOperationCounts(
  db: Db,
  workspaceId: string,
  scope: ReviewScope,
): Promise<OperationCount[]> {
  const result = await rows<OperationCount>(
    db,
    sql`select e.operation, count(*)::int as count, count(distinct e.account_id)::int as accounts
      from events e join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
      where ${scoped("e", "a", workspaceId, scope)} and e.operation is not null
      group by e.operation
      order by count(*) desc, e.operation`,
  );
  return result.map((r) => ({
    operation: r.operation,
    count: Number(r.count),
    accounts: Number(r.accounts),
  }));
}

/** Failed events of the scope split into platform-side and account-side codes, with per-side totals. */
export async function reviewFailureCodes(
  db: Db,
  workspaceId: string,
  scope: ReviewScope,
): Promise<FailureCodes> {
  const result = await rows<{
    side: "platform" | "account";
    code: string | null;
    n: number;
    accounts: number;
    networks: number;
    active_accounts: number;
  }>(
    db,
    sql`select x.side, x.code, count(*)::int as n, count(distinct x.account_id)::int as accounts,
        count(distinct x.network)::int as networks,
        (select count(distinct e2.account_id) from events e2
          join accounts a2 on a2.id = e2.account_id and a2.workspace_id = ${workspaceId}
          where ${scoped("e2", "a2", workspaceId, scope)})::int as active_accounts
      from (select e.account_id, e.result_code as code, coalesce('AS' || e.asn, ${sql.raw(ipSubnetSql("e.ip"))}, e.ip) as network,
          case when e.result_code in (select jsonb_array_elements_text(${jsonParam(PLATFORM_FAILURES)}))
            then 'platform' else 'account' end as side
        from events e join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
        where ${scoped("e", "a", workspaceId, scope)} and e.result_status = 'error'
          and e.result_code in (select jsonb_array_elements_text(${jsonParam([...PLATFORM_FAILURES, ...ACCOUNT_FAILURES])}))) x
      group by grouping sets ((x.side, x.code), (x.side))
      order by x.side, count(*) desc, x.code`,
  );
  const out: FailureCodes = { activeAccounts: 0, codes: [], sides: {} };
  for (const r of result) {
    out.activeAccounts = Number(r.active_accounts);
    if (r.code === null) {
      out.sides[r.side] = { count: Number(r.n), accounts: Number(r.accounts), networks: Number(r.networks) };
    } else {
      out.codes.push({ side: r.side, code: r.code, count: Number(r.n) });
    }
  }
  return out;
}

/**
 * Alerts raised under the incident, and the incident rules' alerts last seen in its window on its platform
 * (an alert opened under another, overlapping incident, or before this one was declared).
 */
export async function reviewAlerts(
  db: Db,
  workspaceId: string,
  incidentId: string,
  scope: ReviewScope,
): Promise<ReviewAlert[]> {
  const result = await rows<{
    id: string;
    rule: string;
    severity: string;
    status: string;
    verdict: string | null;
    note: string | null;
    summary: string;
    account_ids: string[];
    accounts: Array<{ id: string; platform: string; ref: string }> | null;
    incident_id: string | null;
    count: number;
    first_ms: number;
    last_ms: number;
    operator: string | null;
  }>(
    db,
    sql`select al.id, al.rule, al.severity, al.status, al.verdict, al.note, al.summary, al.account_ids,
        (select jsonb_agg(jsonb_build_object('id', x.id, 'platform', x.platform, 'ref', x.ref))
          from accounts x where x.workspace_id = ${workspaceId} and x.id = any(al.account_ids)) as accounts,
        al.incident_id, al.count, ${epochMs("al.first_seen_at")} as first_ms, ${epochMs("al.last_seen_at")} as last_ms,
        coalesce(al.evidence->>'operator', (select e.operator from events e
          where e.workspace_id = ${workspaceId} and e.id = al.evidence->>'event_id')) as operator
      from alerts al
      where al.workspace_id = ${workspaceId} and (al.incident_id = ${incidentId} or (
        al.rule in (select jsonb_array_elements_text(${jsonParam(INCIDENT_RULES)}))
        and ${between("al.last_seen_at", scope)}
        and exists (select 1 from accounts p where p.workspace_id = ${workspaceId} and p.id = any(al.account_ids)
          and p.platform = ${scope.platform})))
      order by al.first_seen_at, al.id`,
  );
  return result.map((r) => ({
    id: r.id,
    rule: r.rule,
    severity: r.severity,
    status: r.status,
    verdict: r.verdict,
    note: r.note,
    summary: r.summary,
    accountIds: r.account_ids,
    accounts: r.accounts ?? [],
    incidentId: r.incident_id,
    count: Number(r.count),
    firstSeenAt: Number(r.first_ms),
    lastSeenAt: Number(r.last_ms),
    operator: r.operator,
  }));
}

/** Preflight questions asked for the platform's accounts in the window, oldest first. */
export async function reviewPreflights(
  db: Db,
  workspaceId: string,
  scope: ReviewScope,
): Promise<ReviewPreflight[]> {
  const result = await rows<{
    id: string;
    decision: "allow" | "warn" | "deny";
    reasons: ReviewPreflight["reasons"] | null;
    operation: string;
    operator: string | null;
    account_id: string | null;
    platform: string;
    ref: string;
    at_ms: number;
    override_id: string | null;
  }>(
    db,
    sql`select p.id, p.decision, p.reasons, p.operation, p.operator, p.account_id, p.platform, p.ref,
        ${epochMs("p.at")} as at_ms, p.override_id
      from preflights p
      where p.workspace_id = ${workspaceId} and p.platform = ${scope.platform} and ${between("p.at", scope)}
      order by p.at, p.id`,
  );
  return result.map((r) => ({
    id: r.id,
    decision: r.decision,
    reasons: Array.isArray(r.reasons) ? r.reasons : [],
    operation: r.operation,
    operator: r.operator,
    accountId: r.account_id,
    platform: r.platform,
    ref: r.ref,
    at: Number(r.at_ms),
    overrideId: r.override_id,
  }));
}

/** Break-glass overrides granted in the window to the platform's accounts, oldest first. */
export async function reviewOverrides(
  db: Db,
  workspaceId: string,
  scope: ReviewScope,
): Promise<ReviewOverride[]> {
  const result = await rows<{
    id: string;
    account_id: string;
    platform: string;
    ref: string;
    operation: string;
    reason: string;
    created_by: string;
    created_ms: number;
    expires_ms: number;
    revoked_ms: number | null;
  }>(
    db,
    sql`select o.id, o.account_id, a.platform, a.ref, o.operation, o.reason, o.created_by,
        ${epochMs("o.created_at")} as created_ms, ${epochMs("o.expires_at")} as expires_ms,
        ${epochMs("o.revoked_at")} as revoked_ms
      from overrides o join accounts a on a.id = o.account_id and a.workspace_id = ${workspaceId}
      where o.workspace_id = ${workspaceId} and a.platform = ${scope.platform} and ${between("o.created_at", scope)}
      order by o.created_at, o.id`,
  );
  return result.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    platform: r.platform,
    ref: r.ref,
    operation: r.operation,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: Number(r.created_ms),
    expiresAt: Number(r.expires_ms),
    revokedAt: r.revoked_ms === null ? null : Number(r.revoked_ms),
  }));
}

/**
 * Each public IP/ASN an account and operator used in the window, against the account's accepted baseline as
 * it stood when the incident began: a value first seen during the incident is a switch even if it has been
 * learned or trusted since.
 */
export async function reviewNetworkUse(
  db: Db,
  workspaceId: string,
  scope: ReviewScope,
): Promise<NetworkUse[]> {
  const known = (kind: string, value: SQL) =>
    sql`exists (select 1 from baseline_values b where b.workspace_id = ${workspaceId} and b.account_id = u.account_id
      and b.kind = ${kind} and b.value = ${value} and b.accepted
      and b.first_seen_at < ${iso(scope.from)}::timestamptz)`;
  const result = await rows<{
    account_id: string;
    platform: string;
    ref: string;
    operator: string | null;
    ip: string;
    asn: number | null;
    first_ms: number;
    events: number;
    has_baseline: boolean;
    ip_known: boolean;
    asn_known: boolean;
  }>(
    db,
    sql`with u as (
        select e.account_id, a.platform, a.ref, e.operator, e.ip, e.asn, min(e.occurred_at) as first_at,
          count(*)::int as events
        from events e join accounts a on a.id = e.account_id and a.workspace_id = ${workspaceId}
        where ${scoped("e", "a", workspaceId, scope)} and e.ip is not null and e.ip_class = 'public'
        group by e.account_id, a.platform, a.ref, e.operator, e.ip, e.asn)
      select u.account_id, u.platform, u.ref, u.operator, u.ip, u.asn, ${epochMs("u.first_at")} as first_ms, u.events,
        exists (select 1 from baseline_values b where b.workspace_id = ${workspaceId} and b.account_id = u.account_id
          and b.kind = 'ip' and b.accepted and b.first_seen_at < ${iso(scope.from)}::timestamptz) as has_baseline,
        ${known("ip", sql`u.ip`)} as ip_known,
        (u.asn is null or ${known("asn", sql`u.asn::text`)}) as asn_known
      from u
      order by u.first_at, u.account_id, u.ip`,
  );
  return result.map((r) => ({
    accountId: r.account_id,
    platform: r.platform,
    ref: r.ref,
    operator: r.operator,
    ip: r.ip,
    asn: r.asn === null ? null : Number(r.asn),
    firstAt: Number(r.first_ms),
    events: Number(r.events),
    hasBaseline: r.has_baseline,
    ipKnown: r.ip_known,
    asnKnown: r.asn_known,
  }));
}
