import type { Clock } from "../clock.ts";
import { ApiError, type ErrorDetail } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Actor } from "../store/audit.ts";
import { writeAudit } from "../store/audit.ts";
import type { Db } from "../store/db.ts";
import {
  type AccountDelta,
  type AlertDelta,
  addFeatureCounts,
  allowanceKey,
  type BaselineDelta,
  bindAccounts,
  boundAccountIds,
  type EventRow,
  findStoredEvents,
  insertEvents,
  type LockedAccount,
  loadAllowances,
  loadBaselines,
  loadFeatureCounts,
  loadHistory,
  touchEnvironment,
  updateAccountsAfterIngest,
  upsertAlerts,
  upsertAndLockAccounts,
  upsertBaselineValues,
} from "../store/ingest.ts";
import { alertIdentity } from "./alerts.ts";
import { Baseline, type BaselineKind, featuresOf } from "./baseline.ts";
import type { Enricher } from "./enrich/types.ts";
import type { EnrichedEvent, EventType, Finding, Settings, Severity } from "./model.ts";
import { severityRank } from "./model.ts";
import { type Counts, eventRisk, populationPaths, statisticalLogRatio } from "./risk.ts";
import { evaluateAccountRules, type HistoryPoint } from "./rules/index.ts";

/** An event as the API accepts it (the HTTP schema's output has this shape). */
export interface EventInput {
  id: string;
  type: EventType;
  occurred_at: string;
  account?: { platform: string; ref: string } | undefined;
  operator?: string | undefined;
  operation?: string | undefined;
  result?:
    | {
        status: "ok" | "error";
        code?: string | undefined;
        http_status?: number | undefined;
        message?: string | undefined;
      }
    | undefined;
  env?:
    | {
        ip?: string | undefined;
        device_id?: string | undefined;
        user_agent?: string | undefined;
        timezone?: string | undefined;
        locale?: string | undefined;
        profile?: string | undefined;
      }
    | undefined;
  attributes?: Record<string, unknown> | undefined;
}

export interface Caller extends Actor {
  workspaceId: string;
  /** set when an agent token reports: the environment it belongs to */
  environmentId: string | null;
}

export interface IngestDeps {
  db: Db;
  enricher: Enricher;
  clock: Clock;
  settings: Settings;
}

export interface EventVerdict {
  id: string;
  account_id: string | null;
  risk: number;
  findings: Array<{ rule: string; severity: Severity; message: string }>;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  results: EventVerdict[];
  /** findings by rule, for metrics */
  findingCounts: Map<string, number>;
  alertsTouched: number;
}

export const MAX_FUTURE_MS = 5 * 60_000;
const HOUR = 3_600_000;
/** No journey on Earth beats 900 km/h for longer than this, so travel never needs older history. */
const TRAVEL_HORIZON_MS = 23 * HOUR;

/** Rejects what a schema cannot judge alone: timestamps from the future, missing account or operation. */
export function checkEvents(inputs: EventInput[], now: Date, pathPrefix: (i: number) => string): void {
  const details: ErrorDetail[] = [];
  inputs.forEach((e, i) => {
    const at = Date.parse(e.occurred_at);
    if (at > now.getTime() + MAX_FUTURE_MS) {
      details.push({ path: `${pathPrefix(i)}occurred_at`, message: "is more than 5 minutes in the future" });
    }
    if (e.type !== "heartbeat" && !e.account) {
      details.push({ path: `${pathPrefix(i)}account`, message: `is required for ${e.type} events` });
    }
    if (e.type === "operation" && !e.operation) {
      details.push({ path: `${pathPrefix(i)}operation`, message: "is required for operation events" });
    }
  });
  if (details.length > 0) throw new ApiError("bad_request", "some events are invalid", details);
}

export function enrichEvent(enricher: Enricher, input: EventInput, sourceIp: string | null): EnrichedEvent {
  const env = input.env ?? {};
  const ip = env.ip ?? sourceIp;
  const userAgent = env.user_agent ? env.user_agent.slice(0, 1024) : null;
  const result = input.result ?? { status: "ok" as const };
  return {
    id: input.id,
    type: input.type,
    occurredAt: Date.parse(input.occurred_at),
    operator: input.operator ?? null,
    operation: input.operation ?? (input.type === "login" ? "login" : null),
    result: {
      status: result.status,
      code: result.code ?? (result.status === "ok" ? "ok" : null),
      httpStatus: result.http_status ?? null,
      message: result.message ?? null,
    },
    net: ip ? enricher.net(ip) : null,
    ua: userAgent ? enricher.ua(userAgent) : null,
    userAgent,
    deviceId: env.device_id ?? null,
    timezone: env.timezone ?? null,
    locale: env.locale ?? null,
    profile: env.profile ?? null,
    attributes: input.attributes ?? null,
  };
}

const accountKeyOf = (platform: string, ref: string) => `${platform}\u0000${ref}`;
const featureKey = (kind: string, value: string) => `${kind}\u0000${value}`;

/**
 * Judges a batch and stores it, atomically: the verdict of every event is computed before answering, with
 * each event seeing the baseline as the events before it in the batch left it. A fixed number of statements
 * per batch, whatever its size.
 */
export async function ingestEvents(
  deps: IngestDeps,
  caller: Caller,
  sourceIp: string | null,
  inputs: EventInput[],
): Promise<IngestResult> {
  const { db, settings } = deps;
  const now = deps.clock.now();
  const events = inputs.map((input) => ({ input, event: enrichEvent(deps.enricher, input, sourceIp) }));

  const outcome = await db.transaction(async (tx) => {
    const wanted = new Map<string, { id: string; platform: string; ref: string }>();
    for (const { input } of events) {
      if (!input.account) continue;
      const k = accountKeyOf(input.account.platform, input.account.ref);
      if (!wanted.has(k)) wanted.set(k, { id: newId("acc"), ...input.account });
    }
    const locked = await upsertAndLockAccounts(tx, caller.workspaceId, [...wanted.values()], now);
    const accounts = new Map<string, LockedAccount>(locked.map((a) => [accountKeyOf(a.platform, a.ref), a]));
    const accountIds = locked.map((a) => a.id);

    const stored = new Map(
      (await findStoredEvents(tx, caller.workspaceId, [...new Set(inputs.map((e) => e.id))])).map((s) => [
        s.id,
        s,
      ]),
    );
    const seenIds = new Set<string>(stored.keys());
    const fresh = events.filter(({ input }) => !seenIds.has(input.id) && seenIds.add(input.id) !== undefined);

    const bound = caller.environmentId ? await boundAccountIds(tx, caller.environmentId, accountIds) : null;
    const baselines = new Map<string, Baseline>(accountIds.map((id) => [id, new Baseline()]));
    for (const row of await loadBaselines(tx, accountIds))
      baselines.get(row.accountId)?.load(row.kind, row.value, row);

    const wantedCounts = new Map<string, { k: string; v: string }>();
    for (const { event } of fresh) {
      for (const { kind, path, root } of populationPaths(featureMap(event))) {
        wantedCounts.set(featureKey(kind, path), { k: kind, v: path });
        if (root) wantedCounts.set(featureKey(kind, ""), { k: kind, v: "" });
      }
    }
    const population = await loadFeatureCounts(tx, caller.workspaceId, [...wantedCounts.values()]);

    const history = new Map<string, HistoryPoint[]>(accountIds.map((id) => [id, []]));
    if (fresh.length > 0 && accountIds.length > 0) {
      const times = fresh.map(({ event }) => event.occurredAt);
      const from = Math.min(...times) - TRAVEL_HORIZON_MS;
      const to = Math.max(...times) + TRAVEL_HORIZON_MS;
      for (const p of await loadHistory(tx, accountIds, from, to)) history.get(p.accountId)?.push(p);
    }
    const allowed = await loadAllowances(tx, caller.workspaceId, accountIds);

    const verdicts = new Map<string, EventVerdict>();
    const eventRows: EventRow[] = [];
    const baselineDeltas = new Map<string, BaselineDelta>();
    const populationDeltas = new Map<string, { k: string; v: string; n: number }>();
    const accountDeltas = new Map<string, AccountDelta>();
    const alertDeltas = new Map<string, AlertDelta>();
    const findingCounts = new Map<string, number>();
    let lastSeen = 0;

    for (const { input, event } of fresh) {
      lastSeen = Math.max(lastSeen, Math.min(event.occurredAt, now.getTime()));
      const account = input.account
        ? accounts.get(accountKeyOf(input.account.platform, input.account.ref))
        : undefined;
      let findings: Finding[] = [];
      let risk = 0;
      if (account) {
        const baseline = baselines.get(account.id)!;
        const learning = isLearning(account, event.occurredAt, settings);
        const ctx = {
          event,
          account: {
            id: account.id,
            platform: account.platform,
            ref: account.ref,
            group: account.group,
            pin: account.pin,
            learning,
          },
          baseline,
          history: history.get(account.id)!,
          environmentId: caller.environmentId,
          bound: bound ? bound.has(account.id) || account.inserted : null,
          settings,
        };
        findings = evaluateAccountRules(ctx).filter(
          (f) => !allowed.has(allowanceKey(f.rule, f.accountIds.join(","), f.key)),
        );
        risk = eventRisk(statisticalLogRatio(featureMap(event), countsFor(baseline, population)), findings);

        const alerting = findings.filter(
          (f) => severityRank(f.severity) >= severityRank(settings.alertMinSeverity),
        );
        const quarantined = new Set(
          alerting.flatMap((f) => (f.about ?? []).map(([k, v]) => featureKey(k, v))),
        );
        const features = featuresOf(event);
        for (const [kind, value] of features) {
          const accepted = !quarantined.has(featureKey(kind, value));
          baseline.observe(kind, value, event.occurredAt, accepted);
          const k = `${account.id}\u0000${kind}\u0000${value}`;
          const d = baselineDeltas.get(k);
          const at = new Date(event.occurredAt).toISOString();
          if (d) {
            d.count += 1;
            d.accepted ||= accepted;
            if (at < d.first) d.first = at;
            if (at > d.last) d.last = at;
          } else {
            baselineDeltas.set(k, {
              account_id: account.id,
              kind,
              value,
              count: 1,
              first: at,
              last: at,
              accepted,
            });
          }
        }
        for (const { kind, path, root } of populationPaths(featureMap(event))) {
          for (const v of root ? [path, ""] : [path]) {
            const key = featureKey(kind, v);
            population.set(key, (population.get(key) ?? 0) + 1);
            const d = populationDeltas.get(key) ?? { k: kind, v, n: 0 };
            d.n += 1;
            populationDeltas.set(key, d);
          }
        }
        if (event.net?.ipClass === "public") {
          history.get(account.id)!.push({
            id: event.id,
            occurredAt: event.occurredAt,
            ip: event.net.ip,
            asn: event.net.asn,
            lat: event.net.lat,
            lon: event.net.lon,
            accuracyKm: event.net.accuracyKm,
            country: event.net.country,
            region: event.net.region,
            city: event.net.city,
          });
        }

        const wasLearning = account.state === "learning";
        account.eventCount += 1;
        account.firstEventAt = Math.min(account.firstEventAt ?? event.occurredAt, event.occurredAt);
        const at = new Date(event.occurredAt).toISOString();
        const delta = accountDeltas.get(account.id) ?? {
          id: account.id,
          state: account.state,
          added: 0,
          first: at,
          last: at,
          established_at: null,
        };
        delta.added += 1;
        if (at < delta.first) delta.first = at;
        if (at > delta.last) delta.last = at;
        if (wasLearning && !isLearning(account, event.occurredAt, settings)) {
          account.state = "established";
          delta.state = "established";
          delta.established_at = now.toISOString();
        }
        accountDeltas.set(account.id, delta);

        for (const f of findings) findingCounts.set(f.rule, (findingCounts.get(f.rule) ?? 0) + 1);
        for (const f of alerting) addAlert(alertDeltas, f, event.occurredAt);
      }

      const verdict: EventVerdict = {
        id: event.id,
        account_id: account?.id ?? null,
        risk,
        findings: findings.map((f) => ({ rule: f.rule, severity: f.severity, message: f.message })),
      };
      verdicts.set(event.id, verdict);
      eventRows.push(toRow(event, verdict, caller.environmentId));
    }

    await insertEvents(tx, caller.workspaceId, now, eventRows);
    await upsertBaselineValues(tx, caller.workspaceId, [...baselineDeltas.values()]);
    await updateAccountsAfterIngest(tx, [...accountDeltas.values()], now);
    const registered = locked.filter((a) => a.inserted);
    if (caller.environmentId) {
      await bindAccounts(
        tx,
        caller.workspaceId,
        caller.environmentId,
        registered.map((a) => a.id),
        now,
      );
      if (lastSeen > 0) await touchEnvironment(tx, caller.environmentId, lastSeen);
    }
    await upsertAlerts(tx, caller.workspaceId, [...alertDeltas.values()], now);
    await writeAudit(
      tx,
      caller.workspaceId,
      caller,
      now,
      registered.map((a) => ({
        action: "account.registered",
        targetType: "account",
        targetId: a.id,
        details: { platform: a.platform, ref: a.ref, environment_id: caller.environmentId },
      })),
    );

    const results = inputs.map((input) => {
      const s = stored.get(input.id);
      if (s) return { id: s.id, account_id: s.accountId, risk: s.risk, findings: s.findings };
      return verdicts.get(input.id)!;
    });
    return {
      accepted: fresh.length,
      duplicates: inputs.length - fresh.length,
      results,
      findingCounts,
      alertsTouched: alertDeltas.size,
      populationDeltas: [...populationDeltas.values()],
    };
  });

  await addFeatureCounts(db, caller.workspaceId, outcome.populationDeltas);
  const { populationDeltas: _, ...result } = outcome;
  return result;
}

/** Learning until both enough events and enough time (on occurred_at) have passed; once established, always. */
export function isLearning(
  account: Pick<LockedAccount, "state" | "eventCount" | "firstEventAt">,
  at: number,
  settings: Settings,
): boolean {
  if (account.state === "established") return false;
  if (account.eventCount < settings.learningEvents || account.firstEventAt === null) return true;
  return at - account.firstEventAt < settings.learningHours * HOUR;
}

function featureMap(event: EnrichedEvent): Partial<Record<BaselineKind, string>> {
  return Object.fromEntries(featuresOf(event));
}

function countsFor(baseline: Baseline, population: Map<string, number>): Counts {
  return {
    account: (kind, value) => baseline.count(kind, value),
    accountTotal: (kind) => baseline.total(kind),
    workspace: (kind, path) => population.get(featureKey(kind, path)) ?? 0,
    workspaceTotal: (kind) => population.get(featureKey(kind, "")) ?? 0,
  };
}

function addAlert(deltas: Map<string, AlertDelta>, f: Finding, at: number): void {
  const { dedupKey, accountIds } = alertIdentity(f.rule, f.accountIds, f.key);
  const iso = new Date(at).toISOString();
  const existing = deltas.get(dedupKey);
  if (existing) {
    existing.count += 1;
    if (iso < existing.first) existing.first = iso;
    if (iso >= existing.last) {
      existing.last = iso;
      existing.summary = f.message;
      existing.evidence = f.about ? { ...f.evidence, baseline_values: f.about } : f.evidence;
    }
    if (severityRank(f.severity) > severityRank(existing.severity as Finding["severity"]))
      existing.severity = f.severity;
    return;
  }
  deltas.set(dedupKey, {
    id: newId("alr", at),
    rule: f.rule,
    severity: f.severity,
    account_ids: accountIds,
    incident_id: null,
    key: f.key,
    dedup_key: dedupKey,
    summary: f.message,
    evidence: f.about ? { ...f.evidence, baseline_values: f.about } : f.evidence,
    count: 1,
    first: iso,
    last: iso,
  });
}

function toRow(event: EnrichedEvent, verdict: EventVerdict, environmentId: string | null): EventRow {
  const net = event.net;
  return {
    id: event.id,
    account_id: verdict.account_id,
    environment_id: environmentId,
    type: event.type,
    occurred_at: new Date(event.occurredAt).toISOString(),
    operator: event.operator,
    operation: event.operation,
    result_status: event.result.status,
    result_code: event.result.code,
    http_status: event.result.httpStatus,
    result_message: event.result.message,
    ip: net?.ip ?? null,
    ip_class: net?.ipClass ?? null,
    subnet: net?.subnet ?? null,
    asn: net?.asn ?? null,
    asn_org: net?.asnOrg ?? null,
    country: net?.country ?? null,
    region: net?.region ?? null,
    city: net?.city ?? null,
    geo_timezone: net?.timezone ?? null,
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
    findings: verdict.findings,
  };
}
