import { newId } from "../ids.ts";
import { alertIdentity } from "./alerts.ts";
import { type Baseline, type BaselineEntry, featuresOf } from "./baseline.ts";
import { advanceHealing } from "./heal.ts";
import type { AccountHistory } from "./history.ts";
import {
  type BaselineKind,
  type Caller,
  type EnrichedEvent,
  type EventVerdict,
  type Finding,
  type IncidentState,
  PLATFORM_FAILURES,
  type Settings,
  severityRank,
} from "./model.ts";
import { type Counts, eventRisk, explainRisk, populationPaths, type RiskFactor } from "./risk.ts";
import { ACCOUNT_RULES, evaluateAccountRules, type RuleFailure } from "./rules/index.ts";
import { MAX_PEERS, type PeerUse, type Rule, type RuleContext, type SharedValue } from "./rules/types.ts";
import { type ShareableValue, SharingIndex, shareableValues } from "./sharing.ts";
import type {
  AccountWrite,
  AlertWrite,
  BaselineWrite,
  BindingWrite,
  LinkWrite,
  LockedAccount,
  PopulationWrite,
  WriteSet,
} from "./write-set.ts";

const HOUR = 3_600_000;
const SEP = "\u0000";
/** who heals a value: tether itself, no token */
const SYSTEM = { tokenId: null, name: "system" };
const NO_STREAK = { events: 0, first: null, last: null };
const ACCEPTED = { accepted: true };

export const featureKey = (kind: string, value: string) => `${kind}${SEP}${value}`;
export const accountKey = (workspaceId: string, platform: string, ref: string) =>
  `${workspaceId}${SEP}${platform}${SEP}${ref}`;
export const populationKey = (workspaceId: string, kind: string, value: string) =>
  `${workspaceId}${SEP}${kind}${SEP}${value}`;
export const bindingKey = (environmentId: string, accountId: string) => `${environmentId}${SEP}${accountId}`;
export const allowanceKey = (rule: string, accountKeys: string, key: string) =>
  `${rule}${SEP}${accountKeys}${SEP}${key}`;

/** Learning until both enough events and enough time (on occurred_at) have passed; once established, always. */
export function isLearning(
  account: Pick<LockedAccount, "state" | "eventCount" | "firstEventAt">,
  at: number,
  settings: Settings,
): boolean {
  // A late event from the account's first hours is judged where it belongs in time: as learning.
  if (account.firstEventAt !== null && at - account.firstEventAt < settings.learningHours * HOUR) return true;
  if (account.state === "established") return false;
  return account.eventCount < settings.learningEvents || account.firstEventAt === null;
}

/**
 * One event ready to judge: enriched, with everything derived from it alone computed once (its baseline
 * features, population paths and shareable values), before the transaction that judges it starts.
 */
export interface PreparedEvent {
  event: EnrichedEvent;
  account: { platform: string; ref: string } | null;
  features: Array<[BaselineKind, string]>;
  population: Array<{ kind: BaselineKind; path: string; root: boolean }>;
  shareable: ShareableValue[];
  /** a platform-side failure code: what incident detection counts */
  platformFailure: boolean;
}

export function prepareEvent(
  event: EnrichedEvent,
  account: { platform: string; ref: string } | null,
  settings: Settings,
): PreparedEvent {
  const features = featuresOf(event);
  return {
    event,
    account,
    features,
    population: populationPaths(Object.fromEntries(features)),
    shareable: shareableValues(event, settings),
    platformFailure:
      event.result.code !== null && (PLATFORM_FAILURES as readonly string[]).includes(event.result.code),
  };
}

/** The caller of one request in a batch and the thresholds of its workspace. */
export interface Reporter {
  caller: Caller;
  settings: Settings;
}

/** What was read for a batch before judging it; keys carry the workspace where ids alone would not. */
export interface JudgeContext {
  /** by accountKey(workspace, platform, ref); locked for the transaction when ingesting */
  accounts: Map<string, LockedAccount>;
  /** bindingKey(environment, account) of the reporting environments' bindings */
  bound: Set<string>;
  baselines: Map<string, Baseline>;
  /** workspace counts by populationKey(workspace, kind, path) */
  population: Map<string, number>;
  history: Map<string, AccountHistory>;
  /** allowanceKey(rule, "a" or "a,b", key) of unexpired allowances */
  allowed: Set<string>;
  /** per workspace, who used the batch's devices, IPs and subnets */
  peers: Map<string, PeerUse[]>;
  /** per workspace, incidents of the batch's platforms overlapping its time range */
  incidents: Map<string, IncidentState[]>;
}

/** The incident an event of this platform falls into: started by then, not ended, and covering its region. */
export function incidentAt(
  incidents: IncidentState[],
  platform: string,
  event: EnrichedEvent,
): IncidentState | null {
  const t = event.occurredAt;
  const net = event.net;
  for (const i of incidents) {
    if (i.platform !== platform || i.startedAt > t || (i.endedAt !== null && i.endedAt < t)) continue;
    if (!i.region || !net?.country) return i;
    if (net.country === i.region || net.region === i.region) return i;
  }
  return null;
}

/** The latest platform-side failure of one platform in a batch. */
export interface PlatformFailure {
  workspaceId: string;
  platform: string;
  last: number;
}

/**
 * Judges the events of a batch in order, in memory, and gathers what must be written: each event sees the
 * baselines, history, sharing and population counts as the events before it left them. Pure: what it reads
 * is in the context, what it decides is in the verdicts and the write-set.
 */
export class BatchJudge {
  readonly findingCounts = new Map<string, number>();
  readonly ruleFailures: RuleFailure[] = [];
  readonly platformFailures = new Map<string, PlatformFailure>();
  private readonly sharing = new Map<string, SharingIndex>();
  private readonly claimed = new Map<string, string | null>();
  private readonly writes: {
    baseline: Map<string, BaselineWrite>;
    population: Map<string, PopulationWrite>;
    accounts: Map<string, AccountWrite>;
    alerts: Map<string, AlertWrite>;
    links: Map<string, LinkWrite>;
    environments: Map<string, number>;
  } = {
    baseline: new Map(),
    population: new Map(),
    accounts: new Map(),
    alerts: new Map(),
    links: new Map(),
    environments: new Map(),
  };
  private readonly set: WriteSet = {
    events: [],
    baseline: [],
    population: [],
    accounts: [],
    links: [],
    alerts: [],
    bindings: [],
    environments: [],
    audit: [],
    healed: [],
  };

  constructor(
    private readonly ctx: JudgeContext,
    private readonly now: Date,
    private readonly rules: readonly Rule[] = ACCOUNT_RULES,
  ) {}

  judge(reporter: Reporter, prepared: PreparedEvent): EventVerdict {
    const { caller, settings } = reporter;
    const { event } = prepared;
    if (caller.environmentId) {
      const seen = Math.min(event.occurredAt, this.now.getTime());
      this.writes.environments.set(
        caller.environmentId,
        Math.max(this.writes.environments.get(caller.environmentId) ?? 0, seen),
      );
    }
    const account = prepared.account
      ? this.ctx.accounts.get(accountKey(caller.workspaceId, prepared.account.platform, prepared.account.ref))
      : undefined;
    let findings: Finding[] = [];
    let risk = 0;
    let factors: RiskFactor[] | null = null;
    if (account) {
      const bound = this.bound(caller, account);
      const baseline = this.ctx.baselines.get(account.id)!;
      const sharing = this.sharingOf(caller.workspaceId);
      const shared = sharing.shared(
        account.id,
        account.group,
        event.occurredAt,
        prepared.shareable,
        settings,
      );
      this.recordLinks(caller.workspaceId, account.id, event, shared);
      const incident = incidentAt(this.ctx.incidents.get(caller.workspaceId) ?? [], account.platform, event);
      if (prepared.platformFailure)
        this.recordFailure(caller.workspaceId, account.platform, event.occurredAt);
      const ctx: RuleContext = {
        event,
        account: {
          id: account.id,
          platform: account.platform,
          ref: account.ref,
          group: account.group,
          pin: account.pin,
          learning: isLearning(account, event.occurredAt, settings),
        },
        baseline,
        history: this.ctx.history.get(account.id)!,
        environmentId: caller.environmentId,
        bound,
        shared,
        incident,
        settings,
      };
      findings = evaluateAccountRules(ctx, (failure) => this.ruleFailures.push(failure), this.rules).filter(
        (f) =>
          !this.ctx.allowed.has(
            allowanceKey(f.rule, alertIdentity(f.rule, f.accountIds, f.key).accountIds.join(","), f.key),
          ),
      );
      const features = Object.fromEntries(prepared.features);
      const counts = this.counts(caller.workspaceId, baseline);
      // The score and what a reviewer needs to weigh it: each feature's likelihood before this event.
      const explained = explainRisk(features, counts);
      risk = eventRisk(explained.logRatio, findings);
      factors = explained.factors;
      let alerting = findings.filter(
        (f) => severityRank(f.severity) >= severityRank(settings.alertMinSeverity),
      );
      if (alerting.length > 0) {
        const evidence = { event_id: event.id, score: risk, factors };
        alerting = alerting.map((f) => ({ ...f, evidence: { ...f.evidence, risk: evidence } }));
      }
      this.observe(reporter, account, baseline, prepared, alerting, findings);
      for (const f of findings) this.findingCounts.set(f.rule, (this.findingCounts.get(f.rule) ?? 0) + 1);
      for (const f of alerting) this.addAlert(caller.workspaceId, f, event.occurredAt, incident?.id ?? null);
    }
    const verdict: EventVerdict = {
      id: event.id,
      account_id: account?.id ?? null,
      risk,
      findings: findings.map((f) => ({
        rule: f.rule,
        severity: f.severity,
        message: f.message,
        text: f.text,
      })),
      risk_factors: factors,
    };
    this.set.events.push({
      workspaceId: caller.workspaceId,
      event,
      environmentId: caller.environmentId,
      verdict,
    });
    return verdict;
  }

  /** Everything the batch decided to write. */
  writeSet(): WriteSet {
    return {
      ...this.set,
      baseline: [...this.writes.baseline.values()],
      population: [...this.writes.population.values()],
      accounts: [...this.writes.accounts.values()],
      links: [...this.writes.links.values()],
      alerts: [...this.writes.alerts.values()],
      environments: [...this.writes.environments].map(([environmentId, at]) => ({ environmentId, at })),
    };
  }

  /**
   * Whether the reporting agent's environment may operate the account; null when no agent reports. An
   * account this batch registers is bound to the first environment that reported it, as if the batch's
   * requests had been handled one after the other.
   */
  private bound(reporter: Caller, account: LockedAccount): boolean | null {
    if (account.inserted && !this.claimed.has(account.id)) {
      this.claimed.set(account.id, reporter.environmentId);
      if (reporter.environmentId) {
        const binding: BindingWrite = {
          workspaceId: reporter.workspaceId,
          environmentId: reporter.environmentId,
          accountId: account.id,
        };
        this.set.bindings.push(binding);
      }
      this.set.audit.push({
        workspaceId: reporter.workspaceId,
        actor: { tokenId: reporter.tokenId, name: reporter.name },
        action: "account.registered",
        targetType: "account",
        targetId: account.id,
        details: { platform: account.platform, ref: account.ref, environment_id: reporter.environmentId },
      });
    }
    if (!reporter.environmentId) return null;
    return (
      this.ctx.bound.has(bindingKey(reporter.environmentId, account.id)) ||
      (account.inserted && this.claimed.get(account.id) === reporter.environmentId)
    );
  }

  private sharingOf(workspaceId: string): SharingIndex {
    let index = this.sharing.get(workspaceId);
    if (!index) {
      index = new SharingIndex(this.ctx.peers.get(workspaceId) ?? []);
      this.sharing.set(workspaceId, index);
    }
    return index;
  }

  private recordFailure(workspaceId: string, platform: string, at: number): void {
    const key = `${workspaceId}${SEP}${platform}`;
    const f = this.platformFailures.get(key);
    if (f) f.last = Math.max(f.last, at);
    else this.platformFailures.set(key, { workspaceId, platform, last: at });
  }

  /** Every cross-group use of a value is kept as a link, whatever alerts or trust decide. */
  private recordLinks(workspaceId: string, accountId: string, event: EnrichedEvent, shared: SharedValue[]) {
    const at = event.occurredAt;
    for (const { kind, value, peers } of shared) {
      for (const peer of peers.slice(0, MAX_PEERS)) {
        const [a, b] = [accountId, peer.accountId].sort() as [string, string];
        const key = `${workspaceId}${SEP}${kind}${SEP}${value}${SEP}${a}${SEP}${b}`;
        const d = this.writes.links.get(key);
        if (d) {
          d.count += 1;
          if (at < d.firstAt) [d.firstAt, d.firstEventId] = [at, event.id];
          if (at >= d.lastAt) [d.lastAt, d.lastEventId] = [at, event.id];
        } else {
          this.writes.links.set(key, {
            workspaceId,
            kind,
            value,
            accountA: a,
            accountB: b,
            firstAt: at,
            lastAt: at,
            count: 1,
            firstEventId: event.id,
            lastEventId: event.id,
          });
        }
      }
    }
  }

  private counts(workspaceId: string, baseline: Baseline): Counts {
    const population = this.ctx.population;
    return {
      account: (kind, value) => baseline.count(kind, value),
      accountTotal: (kind) => baseline.total(kind),
      workspace: (kind, path) => population.get(populationKey(workspaceId, kind, path)) ?? 0,
      workspaceTotal: (kind) => population.get(populationKey(workspaceId, kind, "")) ?? 0,
    };
  }

  /** Feeds the event into the account's baseline, the population, the history and the account's state. */
  private observe(
    { caller, settings }: Reporter,
    account: LockedAccount,
    baseline: Baseline,
    prepared: PreparedEvent,
    alerting: Finding[],
    findings: Finding[],
  ): void {
    const { event } = prepared;
    const workspaceId = caller.workspaceId;
    // Values an alert is about stay seen-but-not-normal until trusted or healed (docs/adr/0003).
    const quarantined = new Set(alerting.flatMap((f) => (f.about ?? []).map(([k, v]) => featureKey(k, v))));
    // What was quarantined before this event: one the event observes without an alert about it has healed too.
    const quarantinedBefore = new Set<BaselineEntry>();
    for (const [kind, value] of prepared.features) {
      const entry = baseline.get(kind, value);
      if (entry && !entry.accepted) quarantinedBefore.add(entry);
      baseline.observe(kind, value, event.occurredAt, !quarantined.has(featureKey(kind, value)));
    }
    const healed = advanceHealing(
      baseline,
      event,
      prepared.features,
      findings,
      settings.heal,
      quarantinedBefore,
    );
    for (const [kind, value] of prepared.features) {
      this.writeBaseline(workspaceId, account.id, kind, value, event, baseline.get(kind, value)!);
    }
    for (const h of healed) {
      this.set.healed.push({ workspaceId, accountId: account.id, kind: h.kind, value: h.value });
      this.set.audit.push({
        workspaceId,
        actor: SYSTEM,
        action: "baseline.auto_learned",
        targetType: "account",
        targetId: account.id,
        details: {
          kind: h.kind,
          value: h.value,
          reason: h.reason,
          count: h.count,
          ...(h.reason === "clean_streak"
            ? {
                clean_events: h.events,
                first_seen_at: new Date(h.first).toISOString(),
                last_seen_at: new Date(h.last).toISOString(),
              }
            : {}),
          event_id: event.id,
        },
      });
    }
    // A subnet at a prefix of the workspace's choosing is indexed for the sharing rule only.
    for (const { indexKind, value } of prepared.shareable) {
      if (indexKind.startsWith("subnet/"))
        this.writeBaseline(workspaceId, account.id, indexKind, value, event, ACCEPTED);
    }
    this.sharingOf(workspaceId).observe(account.id, account.group, event, prepared.shareable);
    for (const { kind, path, root } of prepared.population) {
      for (const value of root ? [path, ""] : [path]) {
        const key = populationKey(workspaceId, kind, value);
        this.ctx.population.set(key, (this.ctx.population.get(key) ?? 0) + 1);
        const d = this.writes.population.get(key);
        if (d) d.count += 1;
        else this.writes.population.set(key, { workspaceId, kind, value, count: 1 });
      }
    }
    const net = event.net;
    const isPublic = net?.ipClass === "public";
    this.ctx.history.get(account.id)!.add({
      id: event.id,
      occurredAt: event.occurredAt,
      ip: isPublic ? net.ip : null,
      login: event.type === "login" || event.operation === "login",
      failed: event.result.status === "error",
      asn: isPublic ? net.asn : null,
      lat: isPublic ? net.lat : null,
      lon: isPublic ? net.lon : null,
      accuracyKm: isPublic ? net.accuracyKm : null,
      country: isPublic ? net.country : null,
      region: isPublic ? net.region : null,
      city: isPublic ? net.city : null,
    });
    account.eventCount += 1;
    account.firstEventAt = Math.min(account.firstEventAt ?? event.occurredAt, event.occurredAt);
    const at = event.occurredAt;
    let delta = this.writes.accounts.get(account.id);
    if (!delta) {
      delta = {
        id: account.id,
        state: account.state,
        added: 0,
        firstAt: at,
        lastAt: at,
        establishedAt: null,
      };
      this.writes.accounts.set(account.id, delta);
    }
    delta.added += 1;
    delta.firstAt = Math.min(delta.firstAt, at);
    delta.lastAt = Math.max(delta.lastAt, at);
    if (account.state === "learning" && !isLearning(account, at, settings)) {
      account.state = "established";
      delta.state = "established";
      delta.establishedAt = this.now.getTime();
    }
  }

  private writeBaseline(
    workspaceId: string,
    accountId: string,
    kind: string,
    value: string,
    event: EnrichedEvent,
    entry: Pick<BaselineEntry, "accepted" | "heal" | "healBlocked" | "healedAt">,
  ): void {
    const at = event.occurredAt;
    const key = `${accountId}${SEP}${featureKey(kind, value)}`;
    // The streak is written as it stands after the batch: the account's lock serialises its batches.
    const heal = entry.heal ?? NO_STREAK;
    const state = {
      accepted: entry.accepted,
      healEvents: heal.events,
      healFirst: heal.first,
      healLast: heal.last,
      healBlocked: entry.healBlocked === true,
      healedAt: entry.healedAt ?? null,
    };
    const d = this.writes.baseline.get(key);
    if (!d) {
      this.writes.baseline.set(key, {
        workspaceId,
        accountId,
        kind,
        value,
        count: 1,
        firstSeen: at,
        lastSeen: at,
        lastEventId: event.id,
        ...state,
      });
      return;
    }
    d.count += 1;
    Object.assign(d, state, { accepted: d.accepted || state.accepted });
    if (at < d.firstSeen) d.firstSeen = at;
    if (at >= d.lastSeen) [d.lastSeen, d.lastEventId] = [at, event.id];
  }

  private addAlert(workspaceId: string, f: Finding, at: number, incidentId: string | null): void {
    const { dedupKey, accountIds } = alertIdentity(f.rule, f.accountIds, f.key);
    const evidence = f.about ? { ...f.evidence, baseline_values: f.about } : f.evidence;
    const key = `${workspaceId}${SEP}${dedupKey}`;
    const existing = this.writes.alerts.get(key);
    if (existing) {
      existing.count += 1;
      if (at < existing.firstAt) existing.firstAt = at;
      if (at >= existing.lastAt) {
        existing.lastAt = at;
        existing.summary = f.message;
        existing.evidence = evidence;
      }
      if (severityRank(f.severity) > severityRank(existing.severity)) existing.severity = f.severity;
      return;
    }
    this.writes.alerts.set(key, {
      id: newId("alr"),
      workspaceId,
      rule: f.rule,
      severity: f.severity,
      accountIds,
      incidentId,
      key: f.key,
      dedupKey,
      summary: f.message,
      evidence,
      count: 1,
      firstAt: at,
      lastAt: at,
    });
  }
}
