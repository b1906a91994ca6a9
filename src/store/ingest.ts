import { sql } from "drizzle-orm";
import type { Pin } from "../../db/schema/accounts.ts";
import type { BaselineEntry, BaselineKind } from "../domain/baseline.ts";
import type { Severity } from "../domain/model.ts";
import type { HistoryPoint } from "../domain/rules/types.ts";
import { type Db, rows } from "./db.ts";
import { epochMs, iso, jsonParam, SEVERITY_ARRAY } from "./sql.ts";

/**
 * The ingest hot path, set-wise: every function here is one statement for a whole batch, whatever its
 * size, so a batch costs a fixed number of round trips.
 */

export interface LockedAccount {
  id: string;
  platform: string;
  ref: string;
  group: string | null;
  pin: Pin | null;
  state: "learning" | "established";
  eventCount: number;
  firstEventAt: number | null;
  inserted: boolean;
}

/** Registers unknown accounts and locks every account of the batch until commit, in a fixed order. */
export async function upsertAndLockAccounts(
  db: Db,
  workspaceId: string,
  wanted: Array<{ id: string; platform: string; ref: string }>,
  now: Date,
): Promise<LockedAccount[]> {
  if (wanted.length === 0) return [];
  const result = await rows<{
    id: string;
    platform: string;
    ref: string;
    group: string | null;
    pin: Pin | null;
    state: "learning" | "established";
    event_count: number;
    first_event_ms: number | null;
    inserted: boolean;
  }>(
    db,
    sql`insert into accounts (id, workspace_id, platform, ref, state, event_count, created_at, updated_at)
      select x.id, ${workspaceId}, x.platform, x.ref, 'learning', 0, ${iso(now)}::timestamptz, ${iso(now)}::timestamptz
      from jsonb_to_recordset(${jsonParam(wanted)}) as x(id text, platform text, ref text)
      order by x.platform, x.ref
      on conflict (workspace_id, platform, ref) do update set updated_at = accounts.updated_at
      returning id, platform, ref, isolation_group as "group", pin, state, event_count,
        ${epochMs("first_event_at")} as first_event_ms, (xmax = 0) as inserted`,
  );
  return result.map((r) => ({
    id: r.id,
    platform: r.platform,
    ref: r.ref,
    group: r.group,
    pin: r.pin,
    state: r.state,
    eventCount: Number(r.event_count),
    firstEventAt: r.first_event_ms === null ? null : Number(r.first_event_ms),
    inserted: r.inserted === true,
  }));
}

/**
 * Transaction-scoped advisory locks on arbitrary keys, taken in one statement in a fixed (hash) order so
 * concurrent batches cannot deadlock on them. Used for what row locks cannot cover: event ids not stored yet
 * (idempotency across concurrent retries) and shared values (two accounts starting to share a device at once).
 */
export async function lockKeys(db: Db, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.execute(sql`select count(pg_advisory_xact_lock(h)) from (
      select distinct hashtextextended(k, 0) as h from jsonb_array_elements_text(${jsonParam(keys)}) as k order by h
    ) s`);
}

export interface StoredVerdict {
  id: string;
  accountId: string | null;
  risk: number;
  findings: Array<{ rule: string; severity: Severity; message: string }>;
}

export async function findStoredEvents(db: Db, workspaceId: string, ids: string[]): Promise<StoredVerdict[]> {
  if (ids.length === 0) return [];
  const result = await rows<{
    id: string;
    account_id: string | null;
    risk: number;
    findings: StoredVerdict["findings"];
  }>(
    db,
    sql`select id, account_id, risk, findings from events
      where workspace_id = ${workspaceId} and id in (select jsonb_array_elements_text(${jsonParam(ids)}))`,
  );
  return result.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    risk: Number(r.risk),
    findings: r.findings,
  }));
}

export async function boundAccountIds(
  db: Db,
  environmentId: string,
  accountIds: string[],
): Promise<Set<string>> {
  if (accountIds.length === 0) return new Set();
  const result = await rows<{ account_id: string }>(
    db,
    sql`select account_id from environment_accounts
      where environment_id = ${environmentId} and account_id in (select jsonb_array_elements_text(${jsonParam(accountIds)}))`,
  );
  return new Set(result.map((r) => r.account_id));
}

export interface BaselineRow extends BaselineEntry {
  accountId: string;
  kind: BaselineKind;
  value: string;
}

export async function loadBaselines(db: Db, accountIds: string[]): Promise<BaselineRow[]> {
  if (accountIds.length === 0) return [];
  const result = await rows<{
    account_id: string;
    kind: BaselineKind;
    value: string;
    count: number;
    first_ms: number;
    last_ms: number;
    accepted: boolean;
  }>(
    db,
    sql`select account_id, kind, value, count, ${epochMs("first_seen_at")} as first_ms, ${epochMs("last_seen_at")} as last_ms, accepted
      from baseline_values where account_id in (select jsonb_array_elements_text(${jsonParam(accountIds)}))`,
  );
  return result.map((r) => ({
    accountId: r.account_id,
    kind: r.kind,
    value: r.value,
    count: Number(r.count),
    firstSeen: Number(r.first_ms),
    lastSeen: Number(r.last_ms),
    accepted: r.accepted,
  }));
}

/** Workspace-wide counts of the given (kind, value) pairs; value '' is the kind's total. */
export async function loadFeatureCounts(
  db: Db,
  workspaceId: string,
  pairs: Array<{ k: string; v: string }>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (pairs.length === 0) return out;
  const result = await rows<{ kind: string; value: string; count: number }>(
    db,
    // LATERAL: one primary-key lookup per pair (see loadPeers).
    sql`select f.kind, f.value, f.count from jsonb_to_recordset(${jsonParam(pairs)}) as x(k text, v text)
      cross join lateral (
        select kind, value, count from feature_counts f where f.workspace_id = ${workspaceId} and f.kind = x.k and f.value = x.v
      ) f`,
  );
  for (const r of result) out.set(`${r.kind}\u0000${r.value}`, Number(r.count));
  return out;
}

/** Events of these accounts between two instants (newest first, at most `limit`); `ip` only when public. */
export async function loadHistory(
  db: Db,
  accountIds: string[],
  from: number,
  to: number,
  perAccount = 2_000,
): Promise<Array<HistoryPoint & { accountId: string }>> {
  if (accountIds.length === 0) return [];
  const result = await rows<{
    account_id: string;
    id: string;
    t: number;
    ip: string | null;
    login: boolean;
    failed: boolean;
    asn: number | null;
    lat: number | null;
    lon: number | null;
    accuracy_km: number | null;
    country: string | null;
    region: string | null;
    city: string | null;
  }>(
    db,
    // Each account keeps its own nearest events: one busy account must not crowd out the others' history.
    sql`select * from (
        select account_id, id, ${epochMs("occurred_at")} as t, case when ip_class = 'public' then ip end as ip,
          (type = 'login' or operation = 'login') as login, result_status = 'error' as failed,
          asn, lat, lon, accuracy_km, country, region, city,
          row_number() over (partition by account_id order by occurred_at desc) as nearest
        from events
        where account_id in (select jsonb_array_elements_text(${jsonParam(accountIds)}))
          and occurred_at between ${iso(from)}::timestamptz and ${iso(to)}::timestamptz
      ) h where nearest <= ${perAccount}`,
  );
  return result.map((r) => ({
    accountId: r.account_id,
    id: r.id,
    occurredAt: Number(r.t),
    ip: r.ip,
    login: r.login === true,
    failed: r.failed === true,
    asn: r.asn === null ? null : Number(r.asn),
    lat: r.lat,
    lon: r.lon,
    accuracyKm: r.accuracy_km,
    country: r.country,
    region: r.region,
    city: r.city,
  }));
}

/** Allowances that involve any of these accounts, alone or as a pair (account_key is "a" or "a,b"). */
export async function loadAllowances(
  db: Db,
  workspaceId: string,
  accountIds: string[],
  now: Date,
): Promise<Set<string>> {
  if (accountIds.length === 0) return new Set();
  const result = await rows<{ rule: string; account_key: string; key: string }>(
    db,
    sql`select rule, account_key, key from allowances
      where workspace_id = ${workspaceId}
        and string_to_array(account_key, ',') && array(select jsonb_array_elements_text(${jsonParam(accountIds)}))
        and (expires_at is null or expires_at > ${iso(now)}::timestamptz)`,
  );
  return new Set(result.map((r) => allowanceKey(r.rule, r.account_key, r.key)));
}

export const allowanceKey = (rule: string, accountKey: string, key: string) =>
  `${rule}\u0000${accountKey}\u0000${key}`;

export interface EventRow {
  id: string;
  account_id: string | null;
  environment_id: string | null;
  type: string;
  occurred_at: string;
  operator: string | null;
  operation: string | null;
  result_status: string;
  result_code: string | null;
  http_status: number | null;
  result_message: string | null;
  ip: string | null;
  ip_class: string | null;
  subnet: string | null;
  asn: number | null;
  asn_org: string | null;
  country: string | null;
  region: string | null;
  city: string | null;
  geo_timezone: string | null;
  lat: number | null;
  lon: number | null;
  accuracy_km: number | null;
  device_id: string | null;
  user_agent: string | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  device_type: string | null;
  timezone: string | null;
  locale: string | null;
  profile: string | null;
  attributes: Record<string, unknown> | null;
  risk: number;
  findings: Array<{ rule: string; severity: Severity; message: string }>;
}

export async function insertEvents(
  db: Db,
  workspaceId: string,
  receivedAt: Date,
  events: EventRow[],
): Promise<void> {
  if (events.length === 0) return;
  await db.execute(sql`insert into events (workspace_id, id, account_id, environment_id, type, occurred_at, received_at,
      operator, operation, result_status, result_code, http_status, result_message, ip, ip_class, subnet, asn, asn_org,
      country, region, city, geo_timezone, lat, lon, accuracy_km, device_id, user_agent, browser, browser_version, os,
      device_type, timezone, locale, profile, attributes, risk, findings)
    select ${workspaceId}, x.id, x.account_id, x.environment_id, x.type, x.occurred_at, ${iso(receivedAt)}::timestamptz,
      x.operator, x.operation, x.result_status, x.result_code, x.http_status, x.result_message, x.ip, x.ip_class, x.subnet,
      x.asn, x.asn_org, x.country, x.region, x.city, x.geo_timezone, x.lat, x.lon, x.accuracy_km, x.device_id,
      x.user_agent, x.browser, x.browser_version, x.os, x.device_type, x.timezone, x.locale, x.profile, x.attributes,
      x.risk, x.findings
    from jsonb_to_recordset(${jsonParam(events)}) as x(id text, account_id text, environment_id text, type text,
      occurred_at timestamptz, operator text, operation text, result_status text, result_code text, http_status smallint,
      result_message text, ip text, ip_class text, subnet text, asn integer, asn_org text, country text, region text,
      city text, geo_timezone text, lat float8, lon float8, accuracy_km integer, device_id text, user_agent text,
      browser text, browser_version text, os text, device_type text, timezone text, locale text, profile text,
      attributes jsonb, risk smallint, findings jsonb)
    on conflict (workspace_id, id) do nothing`);
}

export interface BaselineDelta {
  account_id: string;
  kind: string;
  value: string;
  count: number;
  first: string;
  last: string;
  accepted: boolean;
  last_event_id: string;
}

export async function upsertBaselineValues(
  db: Db,
  workspaceId: string,
  deltas: BaselineDelta[],
): Promise<void> {
  if (deltas.length === 0) return;
  await db.execute(sql`insert into baseline_values (workspace_id, account_id, kind, value, count, first_seen_at, last_seen_at, accepted,
      last_event_id)
    select ${workspaceId}, x.account_id, x.kind, x.value, x.count, x.first, x.last, x.accepted, x.last_event_id
    from jsonb_to_recordset(${jsonParam(deltas)}) as x(account_id text, kind text, value text, count integer,
      first timestamptz, last timestamptz, accepted boolean, last_event_id text)
    order by x.account_id, x.kind, x.value
    on conflict (account_id, kind, value) do update set
      count = baseline_values.count + excluded.count,
      first_seen_at = least(baseline_values.first_seen_at, excluded.first_seen_at),
      last_event_id = case when excluded.last_seen_at >= baseline_values.last_seen_at
        then excluded.last_event_id else baseline_values.last_event_id end,
      last_seen_at = greatest(baseline_values.last_seen_at, excluded.last_seen_at),
      accepted = baseline_values.accepted or excluded.accepted`);
}

/** Population counts are shared by the whole workspace: written in sorted order, outside the batch's lock. */
export async function addFeatureCounts(
  db: Db,
  workspaceId: string,
  deltas: Array<{ k: string; v: string; n: number }>,
): Promise<void> {
  if (deltas.length === 0) return;
  await db.execute(sql`insert into feature_counts (workspace_id, kind, value, count)
    select ${workspaceId}, x.k, x.v, x.n from jsonb_to_recordset(${jsonParam(deltas)}) as x(k text, v text, n bigint)
    order by x.k, x.v
    on conflict (workspace_id, kind, value) do update set count = feature_counts.count + excluded.count`);
}

export interface AccountDelta {
  id: string;
  state: "learning" | "established";
  added: number;
  first: string;
  last: string;
  established_at: string | null;
}

export async function updateAccountsAfterIngest(db: Db, deltas: AccountDelta[], now: Date): Promise<void> {
  if (deltas.length === 0) return;
  await db.execute(sql`update accounts a set
      state = x.state,
      event_count = a.event_count + x.added,
      first_event_at = least(a.first_event_at, x.first),
      last_event_at = greatest(a.last_event_at, x.last),
      established_at = coalesce(a.established_at, x.established_at),
      updated_at = ${iso(now)}::timestamptz
    from jsonb_to_recordset(${jsonParam(deltas)}) as x(id text, state text, added integer, first timestamptz, last timestamptz, established_at timestamptz)
    where a.id = x.id`);
}

export async function bindAccounts(
  db: Db,
  workspaceId: string,
  environmentId: string,
  accountIds: string[],
  now: Date,
): Promise<void> {
  if (accountIds.length === 0) return;
  await db.execute(sql`insert into environment_accounts (workspace_id, environment_id, account_id, created_at)
    select ${workspaceId}, ${environmentId}, x, ${iso(now)}::timestamptz from jsonb_array_elements_text(${jsonParam(accountIds)}) as x
    on conflict do nothing`);
}

export async function touchEnvironment(db: Db, environmentId: string, seenAt: number): Promise<void> {
  await db.execute(sql`update environments set last_heartbeat_at = greatest(last_heartbeat_at, ${iso(seenAt)}::timestamptz)
    where id = ${environmentId}`);
}

export interface AlertDelta {
  id: string;
  rule: string;
  severity: string;
  account_ids: string[];
  incident_id: string | null;
  key: string;
  dedup_key: string;
  summary: string;
  evidence: Record<string, unknown>;
  count: number;
  first: string;
  last: string;
}

/** Opens alerts or, for a live alert with the same identity, adds to its count: one statement per batch. */
export async function upsertAlerts(
  db: Db,
  workspaceId: string,
  alerts: AlertDelta[],
  now: Date,
): Promise<void> {
  if (alerts.length === 0) return;
  const sorted = [...alerts].sort((a, b) => (a.dedup_key < b.dedup_key ? -1 : 1));
  await db.execute(
    sql`insert into alerts (id, workspace_id, rule, severity, status, account_ids, incident_id, key, dedup_key, summary,
        evidence, count, first_seen_at, last_seen_at, created_at, updated_at)
      select x.id, ${workspaceId}, x.rule, x.severity, 'open', array(select jsonb_array_elements_text(x.account_ids)),
        x.incident_id, x.key, x.dedup_key, x.summary, x.evidence, x.count, x.first, x.last,
        ${iso(now)}::timestamptz, ${iso(now)}::timestamptz
      from jsonb_to_recordset(${jsonParam(sorted)}) as x(id text, rule text, severity text, account_ids jsonb,
        incident_id text, key text, dedup_key text, summary text, evidence jsonb, count integer, first timestamptz, last timestamptz)
      on conflict (workspace_id, dedup_key) where status in ('open', 'acknowledged') do update set
        count = alerts.count + excluded.count,
        first_seen_at = least(alerts.first_seen_at, excluded.first_seen_at),
        last_seen_at = greatest(alerts.last_seen_at, excluded.last_seen_at),
        severity = case when array_position(${SEVERITY_ARRAY}, excluded.severity) > array_position(${SEVERITY_ARRAY}, alerts.severity)
          then excluded.severity else alerts.severity end,
        incident_id = coalesce(alerts.incident_id, excluded.incident_id),
        -- a late, replayed event adds to the count but does not replace the latest evidence
        summary = case when excluded.last_seen_at >= alerts.last_seen_at then excluded.summary else alerts.summary end,
        evidence = case when excluded.last_seen_at >= alerts.last_seen_at then excluded.evidence else alerts.evidence end,
        updated_at = excluded.updated_at`,
  );
}
