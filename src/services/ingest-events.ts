import type { Clock } from "../clock.ts";
import { ApiError, type ErrorDetail } from "../errors.ts";
import { newId } from "../ids.ts";
import { loadPeers, upsertLinks } from "../store/associations.ts";
import type { Actor } from "../store/audit.ts";
import { writeAudit } from "../store/audit.ts";
import type { Db } from "../store/db.ts";
import { incidentsOverlapping } from "../store/incidents.ts";
import {
  addFeatureCounts,
  bindAccounts,
  boundAccountIds,
  findStoredEvents,
  insertEvents,
  type LockedAccount,
  loadAllowances,
  loadBaselines,
  loadFeatureCounts,
  loadHistory,
  lockKeys,
  touchEnvironment,
  updateAccountsAfterIngest,
  upsertAlerts,
  upsertAndLockAccounts,
  upsertBaselineValues,
} from "../store/ingest.ts";
import { Baseline } from "./baseline.ts";
import { type BatchContext, BatchJudge, featureKey, featureMap } from "./batch.ts";
import type { Enricher } from "./enrich/types.ts";
import { detectIncidents } from "./incidents.ts";
import type { EnrichedEvent, EventType, Settings, Severity } from "./model.ts";
import { populationPaths } from "./risk.ts";
import type { HistoryPoint } from "./rules/index.ts";
import { SharingIndex, shareableValues } from "./sharing.ts";

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
}

export const MAX_FUTURE_MS = 5 * 60_000;
const HOUR = 3_600_000;
/** Half the Earth's circumference: beyond distance / max speed, no two events can imply impossible travel. */
const MAX_DISTANCE_KM = 20_040;
const travelHorizon = (settings: Settings) =>
  Math.max(2, Math.ceil(MAX_DISTANCE_KM / settings.maxKmh)) * HOUR;

/** Rejects what a schema cannot judge alone: timestamps from the future, missing account or operation. */
export function checkEvents(
  inputs: EventInput[],
  now: Date,
  maxAgeDays: number,
  pathPrefix: (i: number) => string,
): void {
  const details: ErrorDetail[] = [];
  inputs.forEach((e, i) => {
    const at = Date.parse(e.occurred_at);
    if (at > now.getTime() + MAX_FUTURE_MS) {
      details.push({ path: `${pathPrefix(i)}occurred_at`, message: "is more than 5 minutes in the future" });
    }
    if (at < now.getTime() - maxAgeDays * 24 * HOUR) {
      details.push({
        path: `${pathPrefix(i)}occurred_at`,
        message: `is more than ${maxAgeDays} days in the past`,
      });
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

/**
 * Judges a batch and stores it, atomically: the verdict of every event is computed before answering, with
 * each event seeing the baseline as the events before it in the batch left it. A fixed number of statements
 * per batch, whatever its size (docs/adr/0002-set-wise-ingest.md).
 */
export async function ingestEvents(
  deps: IngestDeps,
  caller: Caller,
  sourceIp: string | null,
  inputs: EventInput[],
): Promise<IngestResult> {
  const { db } = deps;
  const now = deps.clock.now();
  const events = inputs.map((input) => ({ input, event: enrichEvent(deps.enricher, input, sourceIp) }));

  const outcome = await db.transaction(async (tx) => {
    const locked = await upsertAndLockAccounts(tx, caller.workspaceId, wantedAccounts(inputs), now);
    await lockKeys(tx, batchLockKeys(caller.workspaceId, events, deps.settings));
    const stored = new Map(
      (await findStoredEvents(tx, caller.workspaceId, [...new Set(inputs.map((e) => e.id))])).map((s) => [
        s.id,
        s,
      ]),
    );
    const seen = new Set<string>(stored.keys());
    const fresh = events.filter(({ input }) => !seen.has(input.id) && seen.add(input.id) !== undefined);

    const judge = new BatchJudge(
      await loadBatchContext(tx, caller, deps.settings, locked, fresh, now),
      caller,
      deps.settings,
      now,
    );
    const verdicts = new Map(fresh.map(({ input, event }) => [event.id, judge.judge(input, event)]));
    await persistBatch(tx, caller, judge, locked, now);
    await detectIncidents(tx, caller.workspaceId, caller, deps.settings, judge.platformFailures, now);

    const results = inputs.map((input) => {
      const s = stored.get(input.id);
      return s
        ? { id: s.id, account_id: s.accountId, risk: s.risk, findings: s.findings }
        : verdicts.get(input.id)!;
    });
    return { results, accepted: fresh.length, judge };
  });

  await addFeatureCounts(db, caller.workspaceId, outcome.judge.populationDeltas());
  return {
    accepted: outcome.accepted,
    duplicates: inputs.length - outcome.accepted,
    results: outcome.results,
    findingCounts: outcome.judge.findingCounts,
  };
}

/** The event ids and shareable values a batch must hold while it judges and writes (see lockKeys). */
function batchLockKeys(
  workspaceId: string,
  events: Array<{ event: EnrichedEvent }>,
  settings: Settings,
): string[] {
  const keys = new Set<string>();
  for (const { event } of events) {
    keys.add(`event\u001f${workspaceId}\u001f${event.id}`);
    for (const { indexKind, value } of shareableValues(event, settings)) {
      keys.add(`share\u001f${workspaceId}\u001f${indexKind}\u001f${value}`);
    }
  }
  return [...keys];
}

function wantedAccounts(inputs: EventInput[]) {
  const wanted = new Map<string, { id: string; platform: string; ref: string }>();
  for (const input of inputs) {
    if (!input.account) continue;
    const k = accountKeyOf(input.account.platform, input.account.ref);
    if (!wanted.has(k)) wanted.set(k, { id: newId("acc"), ...input.account });
  }
  return [...wanted.values()];
}

/** Everything the rules need to judge a batch, read in one pipelined burst (the reads are independent). */
export async function loadBatchContext(
  tx: Db,
  caller: Caller,
  settings: Settings,
  locked: LockedAccount[],
  fresh: Array<{ event: EnrichedEvent }>,
  now: Date,
): Promise<BatchContext> {
  const accountIds = locked.map((a) => a.id);
  const wantedCounts = new Map<string, { k: string; v: string }>();
  for (const { event } of fresh) {
    for (const { kind, path, root } of populationPaths(featureMap(event))) {
      wantedCounts.set(featureKey(kind, path), { k: kind, v: path });
      if (root) wantedCounts.set(featureKey(kind, ""), { k: kind, v: "" });
    }
  }
  const times = fresh.map(({ event }) => event.occurredAt);
  const shareable = new Map<string, { k: string; v: string }>();
  for (const { event } of fresh) {
    for (const { indexKind, value } of shareableValues(event, settings)) {
      shareable.set(featureKey(indexKind, value), { k: indexKind, v: value });
    }
  }
  const shareWindow = settings.shareDays * 86_400_000;
  const [bound, baselineRows, population, historyRows, allowed, incidents, peers] = await Promise.all([
    caller.environmentId ? boundAccountIds(tx, caller.environmentId, accountIds) : null,
    loadBaselines(tx, accountIds),
    loadFeatureCounts(tx, caller.workspaceId, [...wantedCounts.values()]),
    times.length > 0
      ? loadHistory(
          tx,
          accountIds,
          Math.min(...times) - travelHorizon(settings),
          Math.max(...times) + travelHorizon(settings),
        )
      : [],
    loadAllowances(tx, caller.workspaceId, accountIds, now),
    times.length > 0
      ? incidentsOverlapping(
          tx,
          caller.workspaceId,
          [...new Set(locked.map((a) => a.platform))],
          Math.min(...times),
          Math.max(...times),
          { now, holdMinutes: settings.incident.holdMinutes },
        )
      : [],
    times.length > 0
      ? loadPeers(
          tx,
          caller.workspaceId,
          [...shareable.values()],
          Math.min(...times) - shareWindow,
          Math.max(...times) + shareWindow,
        )
      : [],
  ]);
  const accounts = new Map(locked.map((a) => [accountKeyOf(a.platform, a.ref), a]));
  const baselines = new Map<string, Baseline>(accountIds.map((id) => [id, new Baseline()]));
  for (const row of baselineRows) baselines.get(row.accountId)?.load(row.kind, row.value, row);
  const history = new Map<string, HistoryPoint[]>(accountIds.map((id) => [id, []]));
  for (const p of historyRows) history.get(p.accountId)?.push(p);
  return {
    accounts,
    bound,
    baselines,
    population,
    history,
    allowed,
    incidents,
    sharing: new SharingIndex(peers),
  };
}

async function persistBatch(tx: Db, caller: Caller, judge: BatchJudge, locked: LockedAccount[], now: Date) {
  const registered = locked.filter((a) => a.inserted);
  await insertEvents(tx, caller.workspaceId, now, judge.eventRows);
  await upsertBaselineValues(tx, caller.workspaceId, judge.baselineDeltas());
  await updateAccountsAfterIngest(tx, judge.accountDeltas(), now);
  if (caller.environmentId) {
    await bindAccounts(
      tx,
      caller.workspaceId,
      caller.environmentId,
      registered.map((a) => a.id),
      now,
    );
    if (judge.lastSeen > 0) await touchEnvironment(tx, caller.environmentId, judge.lastSeen);
  }
  await upsertLinks(tx, caller.workspaceId, judge.linkDeltas());
  await upsertAlerts(tx, caller.workspaceId, judge.alertDeltas(), now);
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
}
