import { ipSubnetSql } from "../../db/schema/telemetry.ts";
import type { Baseline } from "../core/baseline.ts";
import type { FailureStats, NewIncident } from "../core/incidents.ts";
import type { BaselineKind, IncidentState, Pin, Severity } from "../core/model.ts";
import type { HistoryPoint, PeerUse } from "../core/rules/types.ts";
import type { LockedAccount, WriteSet } from "../core/write-set.ts";
import { newId } from "../ids.ts";
import { outboxFrom } from "./notifications.ts";
import type { Row, Statement } from "./runner.ts";
import { iso } from "./sql.ts";

/**
 * The ingest hot path as prepared statements: every statement takes a whole set as one jsonb parameter, so
 * its text never changes, it is prepared once per connection, and a batch costs the same number of round
 * trips whatever its size or the number of requests and workspaces in it. Nothing here talks to the database;
 * the service sends these statements in pipelines (src/store/runner.ts).
 */

const json = (value: unknown) => JSON.stringify(value);
const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Rows of every set travel as jsonb and are unpacked with jsonb_to_recordset. */
const ACCOUNTS = `jsonb_to_recordset($1::jsonb) as x(w text, p text, r text)`;
const JOIN_ACCOUNT = `join accounts a on a.workspace_id = x.w and a.platform = x.p and a.ref = x.r`;

// ——— claim: locks and the stored duplicates ———

/**
 * Every hot-path statement takes its sets as one opaque jsonb parameter, so a plan made for its values is
 * no better than the generic one, while replanning a join over events' partitions cost milliseconds a bind.
 * JIT is off for the transaction too (the sessions start with it off, but a pooler may drop startup
 * parameters): a generic plan over every partition is costed high enough to be compiled at every execution.
 */
export const genericPlans: Statement = {
  name: "generic_plans",
  text: `select set_config('plan_cache_mode', 'force_generic_plan', true), set_config('jit', 'off', true)`,
  params: [],
};

/**
 * Transaction-scoped advisory locks on arbitrary keys, in one statement and a fixed (hash) order so
 * concurrent batches cannot deadlock on them: event ids not stored yet (idempotency across concurrent
 * retries), shared values (two accounts starting to share a device at once), platforms whose failures may
 * open an incident.
 */
export const lockKeys = (keys: string[]): Statement => ({
  name: "lock_keys",
  text: `select count(pg_advisory_xact_lock(h))::int as n from (
      select distinct hashtextextended(k, 0) as h from jsonb_array_elements_text($1::jsonb) as k order by h) s`,
  params: [json(keys)],
});

export interface StoredVerdict {
  workspaceId: string;
  id: string;
  accountId: string | null;
  risk: number;
  findings: Array<{ rule: string; severity: Severity; message: string }>;
}

export const findStoredEvents = (events: Array<{ w: string; i: string }>): Statement => ({
  name: "find_stored_events",
  // One hash-index probe per id and partition: a JSON set is estimated at 100 rows, and with a young
  // partition's missing statistics a plain join is hash-joined against a scan of every partition. OFFSET 0
  // keeps the subquery from being flattened into such a join. An event without findings stores NULL.
  text: `select x.w, e.id, e.account_id, e.risk, coalesce(e.findings, '[]'::jsonb) as findings
    from jsonb_to_recordset($1::jsonb) as x(w text, i text)
    cross join lateral (
      select e.id, e.account_id, e.risk, e.findings from events e where e.workspace_id = x.w and e.id = x.i offset 0
    ) e`,
  params: [json(events)],
});

export const storedVerdicts = (rows: Row[]): StoredVerdict[] =>
  rows.map((r) => ({
    workspaceId: r.w as string,
    id: r.id as string,
    accountId: r.account_id as string | null,
    risk: Number(r.risk),
    findings: r.findings as StoredVerdict["findings"],
  }));

// ——— load: accounts (locked) and everything the rules read ———

export interface WantedAccount {
  id: string;
  w: string;
  p: string;
  r: string;
}

/** Registers unknown accounts; an account that exists is left untouched (no new row version per batch). */
export const insertAccounts = (wanted: WantedAccount[], now: Date): Statement => ({
  name: "insert_accounts",
  text: `insert into accounts (id, workspace_id, platform, ref, state, event_count, created_at, updated_at)
    select x.id, x.w, x.p, x.r, 'learning', 0, $2::timestamptz, $2::timestamptz
    from jsonb_to_recordset($1::jsonb) as x(id text, w text, p text, r text)
    order by x.w, x.p, x.r
    on conflict (workspace_id, platform, ref) do nothing
    returning id`,
  params: [json(wanted), iso(now)],
});

/**
 * Reads the batch's accounts; with `lock`, locks each until commit, in a fixed order (ingest), without it
 * only reads them (preflight's dry run).
 */
export const lockAccounts = (wanted: Array<{ w: string; p: string; r: string }>, lock = true): Statement => ({
  name: lock ? "lock_accounts" : "read_accounts",
  text: `select a.id, a.workspace_id, a.platform, a.ref, a.isolation_group as "group", a.pin, a.state, a.event_count,
      ${ms("a.first_event_at")} as first_event_ms
    from ${ACCOUNTS} ${JOIN_ACCOUNT}
    order by a.workspace_id, a.platform, a.ref
    ${lock ? "for update of a" : ""}`,
  params: [json(wanted.map(({ w, p, r }) => ({ w, p, r })))],
});

export function lockedAccounts(rows: Row[], inserted: Set<string>): LockedAccount[] {
  return rows.map((r) => ({
    id: r.id as string,
    workspaceId: r.workspace_id as string,
    platform: r.platform as string,
    ref: r.ref as string,
    group: r.group as string | null,
    pin: r.pin as Pin | null,
    state: r.state as LockedAccount["state"],
    eventCount: Number(r.event_count),
    firstEventAt: num(r.first_event_ms),
    inserted: inserted.has(r.id as string),
  }));
}

/** Which of the reporting environments' (environment, account) pairs are bound. */
export const loadBindings = (pairs: Array<{ e: string; w: string; p: string; r: string }>): Statement => ({
  name: "load_bindings",
  text: `select ea.environment_id as e, ea.account_id as a
    from jsonb_to_recordset($1::jsonb) as x(e text, w text, p text, r text) ${JOIN_ACCOUNT}
    join environment_accounts ea on ea.environment_id = x.e and ea.account_id = a.id`,
  params: [json(pairs)],
});

/** The accounts' baselines: values seen since `since` (older ones have aged out). */
export const loadBaselines = (
  accounts: Array<{ w: string; p: string; r: string }>,
  since: number,
): Statement => ({
  name: "load_baselines",
  text: `select b.account_id, b.kind, b.value, b.count, ${ms("b.first_seen_at")} as first_ms,
      ${ms("b.last_seen_at")} as last_ms, b.accepted, b.heal_events, ${ms("b.heal_first_at")} as heal_first_ms,
      ${ms("b.heal_last_at")} as heal_last_ms, b.heal_blocked, ${ms("b.healed_at")} as healed_ms
    from ${ACCOUNTS} ${JOIN_ACCOUNT}
    join baseline_values b on b.account_id = a.id
    where b.last_seen_at >= $2::timestamptz`,
  params: [json(accounts), iso(since)],
});

export function fillBaselines(rows: Row[], baselines: Map<string, Baseline>): void {
  for (const r of rows) {
    baselines.get(r.account_id as string)?.load(r.kind as BaselineKind, r.value as string, {
      count: Number(r.count),
      firstSeen: Number(r.first_ms),
      lastSeen: Number(r.last_ms),
      accepted: r.accepted === true,
      heal: { events: Number(r.heal_events), first: num(r.heal_first_ms), last: num(r.heal_last_ms) },
      healBlocked: r.heal_blocked === true,
      healedAt: num(r.healed_ms),
    });
  }
}

/** Workspace counts of (kind, value) pairs, summed over the writers' shards; value '' is the kind's total. */
export const loadPopulation = (pairs: Array<{ w: string; k: string; v: string }>): Statement => ({
  name: "load_population",
  // LATERAL: one primary-key range read per pair; a JSON set is estimated at 100 rows and would otherwise be
  // hash-joined against a scan of the workspace's counts.
  text: `select x.w, x.k, x.v, f.n from jsonb_to_recordset($1::jsonb) as x(w text, k text, v text)
    cross join lateral (
      select sum(count)::float8 as n from feature_counts f where f.workspace_id = x.w and f.kind = x.k and f.value = x.v
    ) f where f.n is not null`,
  params: [json(pairs)],
});

/**
 * What the time-window rules read of each account's other events: every event in [f, t] (the batch's span of
 * the account, widened by the longest rule window), nearest first and at most `perAccount`; and for travel,
 * only the nearest located event before f and after t within [tf, tt]. `ip` only when public.
 */
export const loadHistory = (
  windows: Array<{ w: string; p: string; r: string; f: string; t: string; tf: string; tt: string }>,
  perAccount: number,
): Statement => {
  const columns = `e.id, ${ms("e.occurred_at")} as at, case when e.ip_class = 'public' then e.ip end as ip,
        (e.type = 'login' or e.operation = 'login') as login, e.result_status = 'error' as failed,
        e.asn, e.lat, e.lon, e.accuracy_km, e.country, e.region, e.city`;
  return {
    name: "load_history",
    // Index ranges on (account_id, occurred_at) per account: a busy account must not crowd out the others.
    text: `select a.id as account_id, h.*
    from jsonb_to_recordset($1::jsonb) as x(w text, p text, r text, f timestamptz, t timestamptz, tf timestamptz,
      tt timestamptz) ${JOIN_ACCOUNT}
    cross join lateral (
      (select ${columns} from events e
        where e.account_id = a.id and e.occurred_at between x.f and x.t
        order by e.occurred_at desc limit $2::int)
      union all
      (select ${columns} from events e
        where e.account_id = a.id and e.occurred_at >= x.tf and e.occurred_at < x.f and e.lat is not null
        order by e.occurred_at desc limit 1)
      union all
      (select ${columns} from events e
        where e.account_id = a.id and e.occurred_at > x.t and e.occurred_at <= x.tt and e.lat is not null
        order by e.occurred_at limit 1)
    ) h`,
    params: [json(windows), perAccount],
  };
};

export function historyPoints(rows: Row[]): Array<HistoryPoint & { accountId: string }> {
  return rows.map((r) => ({
    accountId: r.account_id as string,
    id: r.id as string,
    occurredAt: Number(r.at),
    ip: r.ip as string | null,
    login: r.login === true,
    failed: r.failed === true,
    asn: num(r.asn),
    lat: num(r.lat),
    lon: num(r.lon),
    accuracyKm: num(r.accuracy_km),
    country: r.country as string | null,
    region: r.region as string | null,
    city: r.city as string | null,
  }));
}

/** Unexpired allowances that involve any of these accounts, alone or as a pair (account_key "a" or "a,b"). */
export const loadAllowances = (
  accounts: Array<{ w: string; p: string; r: string }>,
  now: Date,
): Statement => ({
  name: "load_allowances",
  text: `with acc as (select a.id, a.workspace_id from ${ACCOUNTS} ${JOIN_ACCOUNT})
    select w.rule, w.account_key, w.key from allowances w
    where w.workspace_id in (select workspace_id from acc)
      and string_to_array(w.account_key, ',') && array(select id from acc)
      and (w.expires_at is null or w.expires_at > $2::timestamptz)`,
  params: [json(accounts), iso(now)],
});

/**
 * Incidents of these workspaces' platforms overlapping each window. A detected incident whose failures
 * stopped for the hold period ends at `last failure + hold` here even before a read settles its stored status;
 * a drill ends at its planned end. Detection passes `realOnly`: a real outage never folds into a drill.
 */
export const loadIncidents = (
  windows: Array<{ w: string; p: string; f: string; t: string; h: number }>,
  now: Date,
  name = "load_incidents",
  realOnly = false,
): Statement => {
  const ended = `coalesce(i.ended_at, i.planned_end_at, case when i.source = 'detected'
      and i.last_failure_at + make_interval(mins => x.h) <= $2::timestamptz then i.last_failure_at + make_interval(mins => x.h) end)`;
  return {
    name,
    text: `select distinct on (i.id) i.workspace_id, i.id, i.platform, i.region, i.source, i.title,
        ${ms("i.started_at")} as started_ms, ${ms(ended)} as ended_ms
      from jsonb_to_recordset($1::jsonb) as x(w text, p text, f timestamptz, t timestamptz, h int)
      join incidents i on i.workspace_id = x.w and i.platform = x.p
      where i.started_at <= x.t and (${ended} is null or ${ended} >= x.f)${realOnly ? " and i.kind = 'incident'" : ""}
      order by i.id`,
    params: [json(windows), iso(now)],
  };
};

export function incidentStates(rows: Row[]): Array<IncidentState & { workspaceId: string }> {
  return rows
    .map((r) => ({
      workspaceId: r.workspace_id as string,
      id: r.id as string,
      platform: r.platform as string,
      region: r.region as string | null,
      source: r.source as IncidentState["source"],
      title: r.title as string,
      startedAt: Number(r.started_ms),
      endedAt: num(r.ended_ms),
    }))
    .sort((a, b) => a.startedAt - b.startedAt);
}

/**
 * Every account that used one of these values within its window: the environment index is
 * `baseline_values`, served by its (workspace_id, kind, value) index, so the cost depends on the values asked,
 * not on history.
 */
export const loadPeers = (
  values: Array<{ w: string; k: string; v: string; f: string; t: string }>,
): Statement => ({
  name: "load_peers",
  // LATERAL makes one index lookup per value (see loadPopulation).
  text: peersText,
  params: [json(values)],
});

/** The peer lookup's text (exported so tests can EXPLAIN exactly what runs). */
export const peersText = `select b.workspace_id as w, b.account_id, (select isolation_group from accounts a where a.id = b.account_id) as "group",
      b.kind, b.value, ${ms("b.first_seen_at")} as first_ms, ${ms("b.last_seen_at")} as last_ms, b.last_event_id
    from jsonb_to_recordset($1::jsonb) as x(w text, k text, v text, f timestamptz, t timestamptz)
    cross join lateral (
      select * from baseline_values b
      where b.workspace_id = x.w and b.kind = x.k and b.value = x.v and b.last_seen_at >= x.f and b.first_seen_at <= x.t
    ) b`;

export function peerUses(rows: Row[]): Map<string, PeerUse[]> {
  const out = new Map<string, PeerUse[]>();
  for (const r of rows) {
    const list = out.get(r.w as string) ?? [];
    list.push({
      accountId: r.account_id as string,
      group: r.group as string | null,
      kind: r.kind as string,
      value: r.value as string,
      firstSeen: Number(r.first_ms),
      lastSeen: Number(r.last_ms),
      lastEventId: r.last_event_id as string | null,
    });
    out.set(r.w as string, list);
  }
  return out;
}

// ——— write: one statement per table ———

/** The statements that write a batch's write-set; sets that are empty send nothing. */
export function writeStatements(set: WriteSet, now: Date, shard: number): Statement[] {
  const out: Statement[] = [];
  if (set.events.some(({ event }) => event.userAgent)) out.push(insertUserAgents(set));
  if (set.events.length > 0) out.push(insertEvents(set, now));
  if (set.baseline.length > 0) out.push(upsertBaseline(set));
  if (set.population.length > 0) out.push(addPopulation(set, shard));
  if (set.accounts.length > 0) out.push(updateAccounts(set, now));
  if (set.bindings.length > 0) out.push(insertBindings(set, now));
  if (set.environments.length > 0) out.push(touchEnvironments(set));
  if (set.links.length > 0) out.push(upsertLinks(set));
  if (set.alerts.length > 0) out.push(upsertAlerts(set.alerts, now));
  if (set.healed.length > 0) out.push(resolveHealedAlerts(set.healed, now));
  if (set.audit.length > 0) out.push(insertAudit(set.audit, now));
  return out;
}

/**
 * The live alerts of one account about a value that healed, once everything they are about is normal, resolve
 * with verdict `auto_learned`, each audited as the system's decision and announced like a person's resolve
 * to the channels that want it. Runs after the baseline and alert
 * writes of its batch, so an alert this batch opened or counted is among them.
 */
const resolveHealedAlerts = (healed: WriteSet["healed"], now: Date): Statement => ({
  name: "resolve_healed_alerts",
  text: `with h as (select * from jsonb_to_recordset($1::jsonb) as x(w text, a text, k text, v text)),
    c as (select distinct al.id, al.status from h join alerts al on al.account_ids @> array[h.a] -- its GIN index
      and cardinality(al.account_ids) = 1 and al.workspace_id = h.w and al.status in ('open', 'acknowledged')
      and al.evidence->'baseline_values' @> jsonb_build_array(jsonb_build_array(h.k, h.v))),
    r as (update alerts al set status = 'resolved', verdict = 'auto_learned', updated_at = $2::timestamptz
      from c where al.id = c.id and al.status in ('open', 'acknowledged')
        and not exists (select 1 from jsonb_array_elements(al.evidence->'baseline_values') bv
          where not exists (select 1 from baseline_values b where b.account_id = al.account_ids[1]
            and b.kind = bv->>0 and b.value = bv->>1 and b.accepted))
      returning al.id, al.workspace_id, al.rule, al.severity, al.key, al.account_ids, al.incident_id,
        al.evidence->'baseline_values' as bv, c.status as was),
    notices as (${outboxFrom("r", "'alert.resolved'", "$2::timestamptz")})
    insert into audit_log (id, workspace_id, actor_token_id, actor_name, action, target_type, target_id, details, at)
    select $3::text || '_' || lpad((row_number() over (order by r.id))::text, 4, '0'), r.workspace_id, null, 'system',
      'alert.auto_learned', 'alert', r.id,
      jsonb_build_object('from', r.was, 'to', 'resolved', 'verdict', 'auto_learned', 'rule', r.rule, 'key', r.key,
        'account_id', r.account_ids[1], 'baseline_values', r.bv), $2::timestamptz
    from r`,
  params: [
    json(healed.map((h) => ({ w: h.workspaceId, a: h.accountId, k: h.kind, v: h.value }))),
    iso(now),
    // one time-ordered id for the statement; its rows number after it
    newId("aud"),
  ],
});

/** The batch's user agents, once each: events refer to them by `hashtextextended(value, 0)`. */
const insertUserAgents = (set: WriteSet): Statement => ({
  name: "insert_user_agents",
  text: `insert into user_agents (id, value)
    select hashtextextended(v, 0), v from (select distinct v from jsonb_array_elements_text($1::jsonb) as v) u
    order by 1
    on conflict do nothing`,
  params: [json([...new Set(set.events.flatMap(({ event }) => (event.userAgent ? [event.userAgent] : [])))])],
});

/**
 * Only what the stored ip cannot tell is stored (docs/adr/0008): the subnet, the ASN's organisation and the
 * IP's timezone are derived again when read; an event without findings stores NULL.
 */
const insertEvents = (set: WriteSet, receivedAt: Date): Statement => ({
  name: "insert_events",
  text: `insert into events (workspace_id, id, account_id, environment_id, type, occurred_at, received_at,
      operator, operation, result_status, result_code, http_status, result_message, ip, ip_class, asn,
      country, region, city, lat, lon, accuracy_km, device_id, ua_id, browser, browser_version, os,
      device_type, timezone, locale, profile, attributes, risk, findings)
    select x.w, x.id, x.account_id, x.environment_id, x.type, x.occurred_at, $2::timestamptz,
      x.operator, x.operation, x.result_status, x.result_code, x.http_status, x.result_message, x.ip, x.ip_class,
      x.asn, x.country, x.region, x.city, x.lat, x.lon, x.accuracy_km, x.device_id,
      hashtextextended(x.user_agent, 0), x.browser, x.browser_version, x.os, x.device_type, x.timezone, x.locale,
      x.profile, x.attributes, x.risk, x.findings
    from jsonb_to_recordset($1::jsonb) as x(w text, id text, account_id text, environment_id text, type text,
      occurred_at timestamptz, operator text, operation text, result_status text, result_code text, http_status smallint,
      result_message text, ip text, ip_class text, asn integer, country text, region text,
      city text, lat float8, lon float8, accuracy_km integer, device_id text, user_agent text,
      browser text, browser_version text, os text, device_type text, timezone text, locale text, profile text,
      attributes jsonb, risk smallint, findings jsonb)`,
  params: [
    json(
      set.events.map(({ workspaceId, event, environmentId, verdict }) => {
        const net = event.net;
        return {
          w: workspaceId,
          id: event.id,
          account_id: verdict.account_id,
          environment_id: environmentId,
          type: event.type,
          occurred_at: iso(event.occurredAt),
          operator: event.operator,
          operation: event.operation,
          result_status: event.result.status,
          result_code: event.result.code,
          http_status: event.result.httpStatus,
          result_message: event.result.message,
          ip: net?.ip ?? null,
          ip_class: net?.ipClass ?? null,
          asn: net?.asn ?? null,
          country: net?.country ?? null,
          region: net?.region ?? null,
          city: net?.city ?? null,
          lat: net?.lat ?? null,
          lon: net?.lon ?? null,
          accuracy_km: net?.accuracyKm ?? null,
          device_id: event.deviceId,
          user_agent: event.userAgent,
          browser: event.ua?.browser ?? null,
          browser_version: event.ua?.browserVersion ?? null,
          os: event.ua?.os ?? null,
          device_type: event.ua?.deviceType ?? null,
          timezone: event.timezone,
          locale: event.locale,
          profile: event.profile,
          attributes: event.attributes,
          risk: verdict.risk,
          findings: verdict.findings.length > 0 ? verdict.findings : null,
        };
      }),
    ),
    iso(receivedAt),
  ],
});

const upsertBaseline = (set: WriteSet): Statement => ({
  name: "upsert_baseline",
  // The heal columns are the streak as judged under the account's lock, so they replace what was stored;
  // a block, like acceptance, is never undone here.
  text: `insert into baseline_values (workspace_id, account_id, kind, value, count, first_seen_at, last_seen_at, accepted,
      last_event_id, heal_events, heal_first_at, heal_last_at, heal_blocked, healed_at)
    select x.w, x.a, x.k, x.v, x.n, x.f, x.l, x.ok, x.e, x.he, x.hf, x.hl, x.hb, x.ha
    from jsonb_to_recordset($1::jsonb) as x(w text, a text, k text, v text, n integer, f timestamptz, l timestamptz,
      ok boolean, e text, he integer, hf timestamptz, hl timestamptz, hb boolean, ha timestamptz)
    order by x.a, x.k, x.v
    on conflict (account_id, kind, value) do update set
      count = baseline_values.count + excluded.count,
      first_seen_at = least(baseline_values.first_seen_at, excluded.first_seen_at),
      last_event_id = case when excluded.last_seen_at >= baseline_values.last_seen_at
        then excluded.last_event_id else baseline_values.last_event_id end,
      last_seen_at = greatest(baseline_values.last_seen_at, excluded.last_seen_at),
      accepted = baseline_values.accepted or excluded.accepted,
      heal_events = excluded.heal_events,
      heal_first_at = excluded.heal_first_at,
      heal_last_at = excluded.heal_last_at,
      heal_blocked = baseline_values.heal_blocked or excluded.heal_blocked,
      healed_at = coalesce(baseline_values.healed_at, excluded.healed_at)`,
  params: [
    json(
      set.baseline.map((b) => ({
        w: b.workspaceId,
        a: b.accountId,
        k: b.kind,
        v: b.value,
        n: b.count,
        f: iso(b.firstSeen),
        l: iso(b.lastSeen),
        ok: b.accepted,
        e: b.lastEventId,
        he: b.healEvents,
        hf: b.healFirst === null ? null : iso(b.healFirst),
        hl: b.healLast === null ? null : iso(b.healLast),
        hb: b.healBlocked,
        ha: b.healedAt === null ? null : iso(b.healedAt),
      })),
    ),
  ],
});

/**
 * Population counts go to this writer's own shard (docs/adr/0007-population-counts.md): in the same
 * transaction as their events, yet never contending with another process's transactions.
 */
const addPopulation = (set: WriteSet, shard: number): Statement => ({
  name: "add_population",
  text: `insert into feature_counts (workspace_id, kind, value, shard, count)
    select x.w, x.k, x.v, $2::smallint, x.n from jsonb_to_recordset($1::jsonb) as x(w text, k text, v text, n bigint)
    order by x.w, x.k, x.v
    on conflict (workspace_id, kind, value, shard) do update set count = feature_counts.count + excluded.count`,
  params: [json(set.population.map((p) => ({ w: p.workspaceId, k: p.kind, v: p.value, n: p.count }))), shard],
});

const updateAccounts = (set: WriteSet, now: Date): Statement => ({
  name: "update_accounts",
  text: `update accounts a set
      state = x.state,
      event_count = a.event_count + x.added,
      first_event_at = least(a.first_event_at, x.f),
      last_event_at = greatest(a.last_event_at, x.l),
      established_at = coalesce(a.established_at, x.est),
      updated_at = $2::timestamptz
    from jsonb_to_recordset($1::jsonb) as x(id text, state text, added integer, f timestamptz, l timestamptz,
      est timestamptz)
    where a.id = x.id`,
  params: [
    json(
      set.accounts.map((a) => ({
        id: a.id,
        state: a.state,
        added: a.added,
        f: iso(a.firstAt),
        l: iso(a.lastAt),
        est: a.establishedAt === null ? null : iso(a.establishedAt),
      })),
    ),
    iso(now),
  ],
});

const insertBindings = (set: WriteSet, now: Date): Statement => ({
  name: "insert_bindings",
  text: `insert into environment_accounts (workspace_id, environment_id, account_id, created_at)
    select x.w, x.e, x.a, $2::timestamptz from jsonb_to_recordset($1::jsonb) as x(w text, e text, a text)
    on conflict do nothing`,
  params: [
    json(set.bindings.map((b) => ({ w: b.workspaceId, e: b.environmentId, a: b.accountId }))),
    iso(now),
  ],
});

const touchEnvironments = (set: WriteSet): Statement => ({
  name: "touch_environments",
  text: `update environments e set last_heartbeat_at = greatest(e.last_heartbeat_at, x.t)
    from jsonb_to_recordset($1::jsonb) as x(id text, t timestamptz)
    where e.id = x.id and (e.last_heartbeat_at is null or e.last_heartbeat_at < x.t)`,
  params: [json(set.environments.map((e) => ({ id: e.environmentId, t: iso(e.at) })))],
});

const upsertLinks = (set: WriteSet): Statement => ({
  name: "upsert_links",
  text: `insert into links (workspace_id, kind, value, account_a, account_b, first_seen_at, last_seen_at, count,
      first_event_id, last_event_id)
    select x.w, x.k, x.v, x.a, x.b, x.f, x.l, x.n, x.fe, x.le
    from jsonb_to_recordset($1::jsonb) as x(w text, k text, v text, a text, b text, f timestamptz, l timestamptz,
      n integer, fe text, le text)
    order by x.w, x.k, x.v, x.a, x.b
    on conflict (workspace_id, kind, value, account_a, account_b) do update set
      count = links.count + excluded.count,
      first_event_id = case when excluded.first_seen_at < links.first_seen_at then excluded.first_event_id else links.first_event_id end,
      first_seen_at = least(links.first_seen_at, excluded.first_seen_at),
      last_event_id = case when excluded.last_seen_at >= links.last_seen_at then excluded.last_event_id else links.last_event_id end,
      last_seen_at = greatest(links.last_seen_at, excluded.last_seen_at)`,
  params: [
    json(
      set.links.map((l) => ({
        w: l.workspaceId,
        k: l.kind,
        v: l.value,
        a: l.accountA,
        b: l.accountB,
        f: iso(l.firstAt),
        l: iso(l.lastAt),
        n: l.count,
        fe: l.firstEventId,
        le: l.lastEventId,
      })),
    ),
  ],
});

const SEVERITY_ARRAY = `array['info','low','medium','high','critical']`;

/**
 * Opens alerts or, for a live alert with the same identity, adds to its count. Each alert it opens (not the
 * ones it adds to) owes a message to the workspace's matching channels: the outbox rows are written by the
 * same statement, so a batch costs no extra round trip and its alerts and their notices commit together.
 */
export const upsertAlerts = (alerts: WriteSet["alerts"], now: Date): Statement => ({
  name: "upsert_alerts",
  text: `with up as (insert into alerts (id, workspace_id, rule, severity, status, account_ids, incident_id, key, dedup_key, summary,
      evidence, count, first_seen_at, last_seen_at, created_at, updated_at)
    select x.id, x.w, x.rule, x.severity, 'open', array(select jsonb_array_elements_text(x.account_ids)),
      x.incident_id, x.key, x.dedup_key, x.summary, x.evidence, x.count, x.f, x.l, $2::timestamptz, $2::timestamptz
    from jsonb_to_recordset($1::jsonb) as x(id text, w text, rule text, severity text, account_ids jsonb,
      incident_id text, key text, dedup_key text, summary text, evidence jsonb, count integer, f timestamptz, l timestamptz)
    order by x.w, x.dedup_key
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
      updated_at = excluded.updated_at
    returning id, workspace_id, rule, severity, account_ids, incident_id, xmax = 0 as opened
  ), s as (select * from up where opened)
  ${outboxFrom("s", "'alert.created'", "$2::timestamptz")}`,
  params: [
    json(
      alerts.map((a) => ({
        id: a.id,
        w: a.workspaceId,
        rule: a.rule,
        severity: a.severity,
        account_ids: a.accountIds,
        incident_id: a.incidentId,
        key: a.key,
        dedup_key: a.dedupKey,
        summary: a.summary,
        evidence: a.evidence,
        count: a.count,
        f: iso(a.firstAt),
        l: iso(a.lastAt),
      })),
    ),
    iso(now),
  ],
});

export const insertAudit = (entries: WriteSet["audit"], now: Date): Statement => ({
  name: "insert_audit",
  text: `insert into audit_log (id, workspace_id, actor_token_id, actor_name, action, target_type, target_id, details, at)
    select x.id, x.w, x.t, x.n, x.action, x.tt, x.ti, x.details, $2::timestamptz
    from jsonb_to_recordset($1::jsonb) as x(id text, w text, t text, n text, action text, tt text, ti text, details jsonb)`,
  params: [
    json(
      entries.map((e) => ({
        id: newId("aud"),
        w: e.workspaceId,
        t: e.actor.tokenId,
        n: e.actor.name,
        action: e.action,
        tt: e.targetType,
        ti: e.targetId,
        details: e.details,
      })),
    ),
    iso(now),
  ],
});

// ——— incident detection: read after the batch's events are written, then open or extend ———

/** Platform-side failures per (workspace, platform) in each window, from the partial index of failed events. */
export const failureStats = (
  windows: Array<{ w: string; p: string; f: string; t: string }>,
  codes: readonly string[],
): Statement => ({
  name: "failure_stats",
  text: `select x.w, x.p as platform, count(distinct e.account_id)::int as failing,
      count(distinct coalesce('AS' || e.asn, ${ipSubnetSql("e.ip")}, e.ip))::int as networks,
      -- the denominator: the platform's accounts with any event in the window (an account whose newest event
      -- is older than the window has none in it, so last_event_at narrows the index probes)
      (select count(*) from accounts y where y.workspace_id = x.w and y.platform = x.p
        and y.last_event_at >= x.f
        and exists (select 1 from events e3 where e3.workspace_id = x.w and e3.account_id = y.id
          and e3.occurred_at between x.f and x.t))::int as active,
      ${ms("min(e.occurred_at)")} as first_ms, ${ms("max(e.occurred_at)")} as last_ms,
      (array_agg(distinct e.account_id))[1:50] as account_ids,
      (select jsonb_object_agg(code, n) from (
        select e2.result_code as code, count(*) as n from events e2 join accounts a2 on a2.id = e2.account_id
        where e2.workspace_id = x.w and e2.result_status = 'error' and a2.platform = x.p
          and e2.result_code in (select jsonb_array_elements_text($2::jsonb))
          and e2.occurred_at between x.f and x.t
        group by e2.result_code) c) as codes
    from jsonb_to_recordset($1::jsonb) as x(w text, p text, f timestamptz, t timestamptz)
    join events e on e.workspace_id = x.w and e.result_status = 'error' and e.occurred_at between x.f and x.t
      and e.result_code in (select jsonb_array_elements_text($2::jsonb))
    join accounts a on a.id = e.account_id and a.platform = x.p
    group by x.w, x.p, x.f, x.t`,
  params: [json(windows), json(codes)],
});

export function failureRows(rows: Row[]): FailureStats[] {
  return rows.map((r) => ({
    workspaceId: r.w as string,
    platform: r.platform as string,
    failing: Number(r.failing),
    networks: Number(r.networks),
    active: Number(r.active),
    firstFailure: Number(r.first_ms),
    lastFailure: Number(r.last_ms),
    accountIds: (r.account_ids as string[] | null) ?? [],
    codes: (r.codes as Record<string, number> | null) ?? {},
  }));
}

export const insertIncidents = (incidents: NewIncident[], now: Date): Statement => ({
  name: "insert_incidents",
  text: `insert into incidents (id, workspace_id, platform, region, title, source, status, started_at, ended_at,
      last_failure_at, evidence, created_by, created_at, updated_at)
    select x.id, x.w, x.p, null, x.title, 'detected', 'active', x.s, null, x.l, x.evidence, 'tether',
      $2::timestamptz, $2::timestamptz
    from jsonb_to_recordset($1::jsonb) as x(id text, w text, p text, title text, s timestamptz, l timestamptz,
      evidence jsonb)`,
  params: [
    json(
      incidents.map((i) => ({
        id: i.id,
        w: i.workspaceId,
        p: i.platform,
        title: i.title,
        s: iso(i.startedAt),
        l: iso(i.lastFailureAt),
        evidence: i.evidence,
      })),
    ),
    iso(now),
  ],
});

/**
 * More failures of detected incidents, possibly replayed late: a start moves to the earliest failure and, if
 * the quiet rule already closed one, its end moves to the hold period after the latest failure.
 */
export const extendIncidents = (
  extended: Array<{ id: string; firstFailure: number; lastFailure: number; holdMinutes: number }>,
  now: Date,
): Statement => ({
  name: "extend_incidents",
  text: `update incidents i set
      started_at = least(i.started_at, x.f),
      last_failure_at = greatest(i.last_failure_at, x.l),
      ended_at = case when i.status = 'closed'
        then greatest(i.ended_at, greatest(i.last_failure_at, x.l) + make_interval(mins => x.h))
        else i.ended_at end,
      updated_at = $2::timestamptz
    from jsonb_to_recordset($1::jsonb) as x(id text, f timestamptz, l timestamptz, h int)
    where i.id = x.id and i.source = 'detected'`,
  params: [
    json(
      extended.map((e) => ({ id: e.id, f: iso(e.firstFailure), l: iso(e.lastFailure), h: e.holdMinutes })),
    ),
    iso(now),
  ],
});
