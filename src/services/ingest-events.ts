import { Baseline } from "../core/baseline.ts";
import type { Enricher } from "../core/enrich/types.ts";
import { cachingEnricher, enrichEvent } from "../core/event.ts";
import { AccountHistory } from "../core/history.ts";
import { decideIncidents } from "../core/incidents.ts";
import {
  accountKey,
  allowanceKey,
  BatchJudge,
  bindingKey,
  type JudgeContext,
  type PreparedEvent,
  populationKey,
  prepareEvent,
  type Reporter,
} from "../core/judge.ts";
import { type EventInput, type EventVerdict, PLATFORM_FAILURES, type Settings } from "../core/model.ts";
import type { LockedAccount } from "../core/write-set.ts";
import { newId } from "../ids.ts";
import type { Db } from "../store/db.ts";
import {
  extendIncidents,
  failureRows,
  failureStats,
  fillBaselines,
  findStoredEvents,
  genericPlans,
  historyPoints,
  incidentStates,
  insertAccounts,
  insertAudit,
  insertIncidents,
  loadAllowances,
  loadBaselines,
  loadBindings,
  loadHistory,
  loadIncidents,
  loadPeers,
  loadPopulation,
  lockAccounts,
  lockedAccounts,
  lockKeys,
  peerUses,
  storedVerdicts,
  upsertAlerts,
  type WantedAccount,
  writeStatements,
} from "../store/ingest.ts";
import { ensureEventPartitions, weekStart } from "../store/partitions.ts";
import type { Pipeline, Statement, TxPipeline } from "../store/runner.ts";
import { iso } from "../store/sql.ts";
import type { IngestOptions, ServiceContext } from "./context.ts";
import { IngestPipeline, type PipelineLimits } from "./ingest-pipeline.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;
const SEP = "\u001f";
/** The longest window a rule looks at around an event (env_hopping's hour); travel reads nearest neighbours. */
const WINDOW_REACH = HOUR;
/** Half the Earth's circumference: beyond distance / max speed, no two events can imply impossible travel. */
const MAX_DISTANCE_KM = 20_040;
export const travelHorizon = (settings: Settings) =>
  Math.max(2, Math.ceil(MAX_DISTANCE_KM / settings.maxKmh)) * HOUR;

/** One request's events, enriched and prepared, waiting to be judged with others in one transaction. */
export interface BatchRequest extends Reporter {
  events: PreparedEvent[];
}

export interface BatchOutcome {
  accepted: number;
  duplicates: number;
  results: EventVerdict[];
}

/**
 * Judges and stores the requests of one group commit in one transaction, in at most four round trips
 * whatever their number and size: (1) BEGIN, locks and the stored duplicates; (2) the accounts, locked, and
 * everything the rules read; (3) every write, with COMMIT — or, when platform-side failures arrived, the
 * failure statistics; (4) then only: the incidents opened or extended, with COMMIT.
 * Requests are judged in order, each request's events in its order, each event seeing the baselines as the
 * events before it left them.
 */
export async function commitBatch(
  ctx: Pick<ServiceContext, "runner" | "clock" | "logger" | "metrics">,
  options: IngestOptions,
  requests: BatchRequest[],
): Promise<BatchOutcome[]> {
  const now = ctx.clock.now();
  const outcome = await ctx.runner.transaction(async (tx) => {
    const stored = await claim(tx, requests);
    const fresh = freshEvents(requests, stored);
    if (fresh.size === 0) return { stored, verdicts: new Map<string, EventVerdict>(), judge: null };
    const judgeCtx = await loadJudgeContext(tx, options, requests, fresh, now, "ingest");
    const judge = new BatchJudge(judgeCtx, now, options.rules);
    const verdicts = new Map<string, EventVerdict>();
    for (const request of requests) {
      for (const prepared of request.events) {
        const key = `${request.caller.workspaceId}${SEP}${prepared.event.id}`;
        if (fresh.get(key) === prepared) verdicts.set(key, judge.judge(request, prepared));
      }
    }
    await write(tx, requests, judge, now, options.shard);
    return { stored, verdicts, judge };
  });
  const { judge } = outcome;
  for (const [rule, n] of judge?.findingCounts ?? []) ctx.metrics.findings.inc({ rule }, n);
  for (const failure of judge?.ruleFailures ?? []) {
    ctx.metrics.ruleErrors.inc({ rule: failure.rule });
    ctx.logger.error(
      { err: failure.error, rule: failure.rule, eventId: failure.eventId },
      "rule failed; skipped",
    );
  }
  const counted = new Set<string>();
  return requests.map((request) => {
    let accepted = 0;
    const results = request.events.map(({ event }) => {
      const key = `${request.caller.workspaceId}${SEP}${event.id}`;
      const verdict = outcome.verdicts.get(key);
      if (verdict && !counted.has(key)) {
        counted.add(key);
        accepted += 1;
        return verdict;
      }
      if (verdict) return verdict;
      const s = outcome.stored.get(key)!;
      return { id: s.id, account_id: s.accountId, risk: s.risk, findings: s.findings, risk_factors: null };
    });
    ctx.metrics.eventsAccepted.inc(accepted);
    ctx.metrics.eventsDuplicate.inc(request.events.length - accepted);
    return { accepted, duplicates: request.events.length - accepted, results };
  });
}

/** Round trip 1: BEGIN, the batch's locks, and which of its events are stored already. */
async function claim(tx: TxPipeline, requests: BatchRequest[]) {
  const keys = new Set<string>();
  const ids: Array<{ w: string; i: string }> = [];
  for (const { caller, events } of requests) {
    const w = caller.workspaceId;
    for (const p of events) {
      const eventKey = `event${SEP}${w}${SEP}${p.event.id}`;
      if (!keys.has(eventKey)) ids.push({ w, i: p.event.id });
      keys.add(eventKey);
      for (const { indexKind, value } of p.shareable)
        keys.add(`share${SEP}${w}${SEP}${indexKind}${SEP}${value}`);
      // One batch at a time decides whether a platform's failures open an incident: two must not open two.
      if (p.platformFailure && p.account) keys.add(`incident${SEP}${w}${SEP}${p.account.platform}`);
    }
  }
  const [, , rows] = await tx.send([genericPlans, lockKeys([...keys]), findStoredEvents(ids)]);
  return new Map(storedVerdicts(rows!).map((s) => [`${s.workspaceId}${SEP}${s.id}`, s]));
}

/** The first occurrence of each event id not stored yet, by workspace and id. */
function freshEvents(requests: BatchRequest[], stored: Map<string, unknown>): Map<string, PreparedEvent> {
  const fresh = new Map<string, PreparedEvent>();
  for (const { caller, events } of requests) {
    for (const p of events) {
      const key = `${caller.workspaceId}${SEP}${p.event.id}`;
      if (!stored.has(key) && !fresh.has(key)) fresh.set(key, p);
    }
  }
  return fresh;
}

/**
 * Round trip 2: registers and locks the accounts, and reads everything the rules need. A dry run (preflight)
 * reads the same without registering or locking anything.
 */
export async function loadJudgeContext(
  pipe: Pipeline,
  options: Pick<IngestOptions, "baselineDays" | "historyPerAccount">,
  requests: BatchRequest[],
  fresh: Map<string, PreparedEvent>,
  now: Date,
  mode: "ingest" | "dry-run",
): Promise<JudgeContext> {
  const settingsOf = new Map<string, Settings>();
  const accounts = new Map<string, WantedAccount & { from: number; to: number; horizon: number }>();
  const bindings = new Map<string, { e: string; w: string; p: string; r: string }>();
  const population = new Map<string, { w: string; k: string; v: string }>();
  const peers = new Map<string, { w: string; k: string; v: string; f: number; t: number }>();
  const platforms = new Map<string, { w: string; p: string; f: number; t: number; h: number }>();
  for (const { caller, settings, events } of requests) {
    const w = caller.workspaceId;
    if (!settingsOf.has(w)) settingsOf.set(w, settings);
    for (const p of events) {
      if (fresh.get(`${w}${SEP}${p.event.id}`) !== p || !p.account) continue;
      const t = p.event.occurredAt;
      const { platform, ref } = p.account;
      const key = accountKey(w, platform, ref);
      const a = accounts.get(key);
      if (a) [a.from, a.to] = [Math.min(a.from, t), Math.max(a.to, t)];
      else {
        const horizon = travelHorizon(settings);
        accounts.set(key, { id: newId("acc"), w, p: platform, r: ref, from: t, to: t, horizon });
      }
      if (caller.environmentId) {
        bindings.set(`${caller.environmentId}${SEP}${key}`, {
          e: caller.environmentId,
          w,
          p: platform,
          r: ref,
        });
      }
      for (const { kind, path, root } of p.population) {
        population.set(populationKey(w, kind, path), { w, k: kind, v: path });
        if (root) population.set(populationKey(w, kind, ""), { w, k: kind, v: "" });
      }
      const shareWindow = settings.shareDays * DAY;
      for (const { indexKind, value } of p.shareable) {
        const k = populationKey(w, indexKind, value);
        const v = peers.get(k);
        if (v) [v.f, v.t] = [Math.min(v.f, t - shareWindow), Math.max(v.t, t + shareWindow)];
        else peers.set(k, { w, k: indexKind, v: value, f: t - shareWindow, t: t + shareWindow });
      }
      const pk = `${w}${SEP}${platform}`;
      const pw = platforms.get(pk);
      if (pw) [pw.f, pw.t] = [Math.min(pw.f, t), Math.max(pw.t, t)];
      else platforms.set(pk, { w, p: platform, f: t, t, h: settings.incident.holdMinutes });
    }
  }
  const wanted = [...accounts.values()];
  const refs = wanted.map(({ w, p, r }) => ({ w, p, r }));
  if (wanted.length === 0) {
    return {
      accounts: new Map(),
      bound: new Set(),
      baselines: new Map(),
      population: new Map(),
      history: new Map(),
      allowed: new Set(),
      peers: new Map(),
      incidents: new Map(),
    };
  }
  const registering = mode === "ingest";
  const results = await pipe.send([
    ...(registering
      ? [
          insertAccounts(
            wanted.map(({ id, w, p, r }) => ({ id, w, p, r })),
            now,
          ),
        ]
      : []),
    lockAccounts(refs, registering),
    loadBindings([...bindings.values()]),
    loadBaselines(refs, now.getTime() - options.baselineDays * DAY),
    loadPopulation([...population.values()]),
    loadHistory(
      wanted.map(({ w, p, r, from, to, horizon }) => ({
        w,
        p,
        r,
        f: iso(from - WINDOW_REACH),
        t: iso(to + WINDOW_REACH),
        tf: iso(from - horizon),
        tt: iso(to + horizon),
      })),
      options.historyPerAccount,
    ),
    loadAllowances(refs, now),
    loadIncidents(
      [...platforms.values()].map(({ w, p, f, t, h }) => ({ w, p, f: iso(f), t: iso(t), h })),
      now,
    ),
    loadPeers([...peers.values()].map(({ w, k, v, f, t }) => ({ w, k, v, f: iso(f), t: iso(t) }))),
  ]);
  const inserted = registering ? results.shift()! : [];
  const [locked, bound, baselineRows, populationRows, historyRows, allowanceRows, incidentRows, peerRows] =
    results;
  const lockedList: LockedAccount[] = lockedAccounts(locked!, new Set(inserted.map((r) => r.id as string)));
  const baselines = new Map(lockedList.map((a) => [a.id, new Baseline()]));
  fillBaselines(baselineRows!, baselines);
  const history = new Map<string, AccountHistory>();
  const points = new Map<string, ReturnType<typeof historyPoints>>();
  for (const p of historyPoints(historyRows!)) {
    const list = points.get(p.accountId) ?? [];
    list.push(p);
    points.set(p.accountId, list);
  }
  for (const a of lockedList) history.set(a.id, new AccountHistory(points.get(a.id) ?? []));
  const incidents = new Map<string, ReturnType<typeof incidentStates>>();
  for (const i of incidentStates(incidentRows!)) {
    const list = incidents.get(i.workspaceId) ?? [];
    list.push(i);
    incidents.set(i.workspaceId, list);
  }
  return {
    accounts: new Map(lockedList.map((a) => [accountKey(a.workspaceId, a.platform, a.ref), a])),
    bound: new Set(bound!.map((r) => bindingKey(r.e as string, r.a as string))),
    baselines,
    population: new Map(
      populationRows!.map((r) => [populationKey(r.w as string, r.k as string, r.v as string), Number(r.n)]),
    ),
    history,
    allowed: new Set(
      allowanceRows!.map((r) => allowanceKey(r.rule as string, r.account_key as string, r.key as string)),
    ),
    peers: peerUses(peerRows!),
    incidents,
  };
}

/** Round trips 3 and 4: every write; then, if platform-side failures arrived, incident detection. */
async function write(tx: TxPipeline, requests: BatchRequest[], judge: BatchJudge, now: Date, shard: number) {
  const writes = writeStatements(judge.writeSet(), now, shard);
  const failures = [...judge.platformFailures.values()];
  if (failures.length === 0) {
    await tx.commit(writes);
    return;
  }
  const settingsOf = (w: string) => requests.find((r) => r.caller.workspaceId === w)!.settings;
  const windows = failures.map(({ workspaceId: w, platform: p, last }) => {
    const window = settingsOf(w).incident.windowMinutes * MINUTE;
    return { w, p, f: iso(last - window), t: iso(last), h: 0 };
  });
  const results = await tx.send([
    ...writes,
    failureStats(windows, PLATFORM_FAILURES),
    loadIncidents(
      windows.map(({ w, p, f, t }) => ({ w, p, f, t, h: settingsOf(w).incident.holdMinutes })),
      now,
      "load_incidents_for_detection",
      true,
    ),
  ]);
  const [statsRows, currentRows] = results.slice(-2);
  const decisions = decideIncidents(failureRows(statsRows!), incidentStates(currentRows!), settingsOf, {
    tokenId: null,
    name: "tether",
  });
  const detection: Statement[] = [];
  if (decisions.opened.length > 0) detection.push(insertIncidents(decisions.opened, now));
  if (decisions.extended.length > 0) detection.push(extendIncidents(decisions.extended, now));
  if (decisions.alerts.length > 0) detection.push(upsertAlerts(decisions.alerts, now));
  if (decisions.audit.length > 0) detection.push(insertAudit(decisions.audit, now));
  await tx.commit(detection);
}

/**
 * The population-count shard this process writes: processes of one host have distinct pids, so they never
 * share a shard row; two hosts that collide merely wait on each other (docs/adr/0007-population-counts.md).
 */
export const populationShard = (pid = process.pid) => pid % 16;

/** Ingest's per-process state: the group-commit pipeline and the caching enricher it prepares events with. */
export interface Ingest {
  pipeline: IngestPipeline;
  enricher: Enricher;
}

export function createIngest(
  ctx: Pick<ServiceContext, "db" | "runner" | "clock" | "logger" | "metrics" | "enricher">,
  options: IngestOptions & PipelineLimits,
): Ingest {
  const weeks = new Set<number>();
  const pipeline = new IngestPipeline(
    async (requests) => {
      await ensureWeeks(ctx.db, weeks, requests);
      return commitBatch(ctx, options, requests);
    },
    options,
    {
      group: (requests, events) => {
        ctx.metrics.ingestBatchRequests.observe(requests);
        ctx.metrics.ingestBatchEvents.observe(events);
      },
      queued: (events) => ctx.metrics.ingestQueueEvents.set(events),
      rejected: () => ctx.metrics.ingestRejected.inc(),
      committed: (seconds) => ctx.metrics.ingestCommitSeconds.observe(seconds),
    },
  );
  return { pipeline, enricher: cachingEnricher(ctx.enricher) };
}

/**
 * Every event lands in the weekly partition of its occurred_at. Maintenance creates them ahead; a process
 * also makes sure, once per week it sees, before the transaction (creating a partition locks `events`).
 */
async function ensureWeeks(db: Db, known: Set<number>, requests: BatchRequest[]): Promise<void> {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const { events } of requests) {
    for (const { event } of events) {
      if (known.has(weekStart(event.occurredAt))) continue;
      from = Math.min(from, event.occurredAt);
      to = Math.max(to, event.occurredAt);
    }
  }
  if (from > to) return;
  for (const week of await ensureEventPartitions(db, from, to)) known.add(week);
}

/**
 * Judges and stores one request's events: enriched here, then committed with whatever other requests are
 * waiting (group commit). Resolves after the commit with one verdict per event, in order; throws
 * IngestOverloaded when the queue is full.
 */
export function ingestEvents({
  ctx,
  input,
}: {
  ctx: { ingest: Ingest };
  input: Reporter & { sourceIp: string | null; events: EventInput[] };
}): Promise<BatchOutcome> {
  const { caller, settings, sourceIp } = input;
  const events = input.events.map((e) =>
    prepareEvent(enrichEvent(ctx.ingest.enricher, e, sourceIp), e.account ?? null, settings),
  );
  return ctx.ingest.pipeline.submit({ caller, settings, events });
}
