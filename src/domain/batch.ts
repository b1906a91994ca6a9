import { newId } from "../ids.ts";
import type { LinkDelta } from "../store/associations.ts";
import type { AccountDelta, AlertDelta, BaselineDelta, EventRow, LockedAccount } from "../store/ingest.ts";
import { allowanceKey } from "../store/ingest.ts";
import { alertIdentity } from "./alerts.ts";
import { type Baseline, type BaselineKind, featuresOf } from "./baseline.ts";
import type { Caller, EventInput, EventVerdict } from "./ingest.ts";
import {
  type EnrichedEvent,
  type Finding,
  type IncidentState,
  PLATFORM_FAILURES,
  type Settings,
  severityRank,
} from "./model.ts";
import { type Counts, eventRisk, populationPaths, statisticalLogRatio } from "./risk.ts";
import {
  evaluateAccountRules,
  type HistoryPoint,
  type RuleContext,
  type SharedValue,
} from "./rules/index.ts";
import { MAX_PEERS } from "./rules/shared.ts";
import { type SharingIndex, shareableValues } from "./sharing.ts";

const HOUR = 3_600_000;

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

export const featureKey = (kind: string, value: string) => `${kind}\u0000${value}`;
const accountKeyOf = (platform: string, ref: string) => `${platform}\u0000${ref}`;

export function featureMap(event: EnrichedEvent): Partial<Record<BaselineKind, string>> {
  return Object.fromEntries(featuresOf(event));
}

/** What was read for a batch before judging it. */
export interface BatchContext {
  /** the batch's accounts by platform/ref, locked for the transaction */
  accounts: Map<string, LockedAccount>;
  /** accounts bound to the reporting agent's environment; null when no agent reports */
  bound: Set<string> | null;
  baselines: Map<string, Baseline>;
  /** workspace counts by featureKey(kind, path) */
  population: Map<string, number>;
  history: Map<string, HistoryPoint[]>;
  allowed: Set<string>;
  sharing: SharingIndex;
  /** incidents of the batch's platforms overlapping its time range */
  incidents: IncidentState[];
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

/**
 * Judges the events of one batch in order, in memory, and gathers what must be written: each event sees the
 * baseline, history and population counts as the events before it left them.
 */
export class BatchJudge {
  readonly eventRows: EventRow[] = [];
  readonly findingCounts = new Map<string, number>();
  /** latest occurred_at seen (never later than now): the environment's sign of life */
  lastSeen = 0;
  private readonly baselineWrites = new Map<string, BaselineDelta>();
  private readonly populationWrites = new Map<string, { k: string; v: string; n: number }>();
  private readonly accountWrites = new Map<string, AccountDelta>();
  private readonly alertWrites = new Map<string, AlertDelta>();
  private readonly linkWrites = new Map<string, LinkDelta>();
  /** per platform, the latest platform-side failure in this batch: what incident detection looks at */
  readonly platformFailures = new Map<string, number>();

  constructor(
    private readonly ctx: BatchContext,
    private readonly caller: Caller,
    private readonly settings: Settings,
    private readonly now: Date,
  ) {}

  judge(input: EventInput, event: EnrichedEvent): EventVerdict {
    this.lastSeen = Math.max(this.lastSeen, Math.min(event.occurredAt, this.now.getTime()));
    const account = input.account
      ? this.ctx.accounts.get(accountKeyOf(input.account.platform, input.account.ref))
      : undefined;
    let findings: Finding[] = [];
    let risk = 0;
    if (account) {
      const baseline = this.ctx.baselines.get(account.id)!;
      const shared = this.ctx.sharing.shared(account.id, account.group, event, this.settings);
      this.recordLinks(account.id, event, shared);
      const incident = incidentAt(this.ctx.incidents, account.platform, event);
      if (event.result.code && (PLATFORM_FAILURES as readonly string[]).includes(event.result.code)) {
        this.platformFailures.set(
          account.platform,
          Math.max(this.platformFailures.get(account.platform) ?? 0, event.occurredAt),
        );
      }
      findings = evaluateAccountRules(this.ruleContext(account, baseline, event, shared, incident)).filter(
        (f) =>
          !this.ctx.allowed.has(
            allowanceKey(f.rule, alertIdentity(f.rule, f.accountIds, f.key).accountIds.join(","), f.key),
          ),
      );
      risk = eventRisk(statisticalLogRatio(featureMap(event), this.counts(baseline)), findings);
      const alerting = findings.filter(
        (f) => severityRank(f.severity) >= severityRank(this.settings.alertMinSeverity),
      );
      this.observe(account, baseline, event, alerting);
      for (const f of findings) this.findingCounts.set(f.rule, (this.findingCounts.get(f.rule) ?? 0) + 1);
      for (const f of alerting) this.addAlert(f, event.occurredAt, incident?.id ?? null);
    }
    const verdict: EventVerdict = {
      id: event.id,
      account_id: account?.id ?? null,
      risk,
      findings: findings.map((f) => ({ rule: f.rule, severity: f.severity, message: f.message })),
    };
    this.eventRows.push(toRow(event, verdict, this.caller.environmentId));
    return verdict;
  }

  baselineDeltas(): BaselineDelta[] {
    return [...this.baselineWrites.values()];
  }

  populationDeltas(): Array<{ k: string; v: string; n: number }> {
    return [...this.populationWrites.values()];
  }

  accountDeltas(): AccountDelta[] {
    return [...this.accountWrites.values()];
  }

  alertDeltas(): AlertDelta[] {
    return [...this.alertWrites.values()];
  }

  linkDeltas(): LinkDelta[] {
    return [...this.linkWrites.values()];
  }

  /** Every cross-group use of a value is kept as a link, whatever alerts or trust decide. */
  private recordLinks(accountId: string, event: EnrichedEvent, shared: SharedValue[]): void {
    const at = new Date(event.occurredAt).toISOString();
    for (const { kind, value, peers } of shared) {
      for (const peer of peers.slice(0, MAX_PEERS)) {
        const [a, b] = [accountId, peer.accountId].sort() as [string, string];
        const key = `${kind}\u0000${value}\u0000${a}\u0000${b}`;
        const d = this.linkWrites.get(key);
        if (d) {
          d.count += 1;
          if (at < d.first) [d.first, d.first_event_id] = [at, event.id];
          if (at >= d.last) [d.last, d.last_event_id] = [at, event.id];
        } else {
          this.linkWrites.set(key, {
            kind,
            value,
            account_a: a,
            account_b: b,
            first: at,
            last: at,
            count: 1,
            first_event_id: event.id,
            last_event_id: event.id,
          });
        }
      }
    }
  }

  private ruleContext(
    account: LockedAccount,
    baseline: Baseline,
    event: EnrichedEvent,
    shared: SharedValue[],
    incident: IncidentState | null,
  ): RuleContext {
    return {
      event,
      account: {
        id: account.id,
        platform: account.platform,
        ref: account.ref,
        group: account.group,
        pin: account.pin,
        learning: isLearning(account, event.occurredAt, this.settings),
      },
      baseline,
      history: this.ctx.history.get(account.id)!,
      environmentId: this.caller.environmentId,
      bound: this.ctx.bound ? this.ctx.bound.has(account.id) || account.inserted : null,
      shared,
      incident,
      settings: this.settings,
    };
  }

  private counts(baseline: Baseline): Counts {
    const population = this.ctx.population;
    return {
      account: (kind, value) => baseline.count(kind, value),
      accountTotal: (kind) => baseline.total(kind),
      workspace: (kind, path) => population.get(featureKey(kind, path)) ?? 0,
      workspaceTotal: (kind) => population.get(featureKey(kind, "")) ?? 0,
    };
  }

  /** Feeds the event into the account's baseline, the population, the history and the account's state. */
  private observe(
    account: LockedAccount,
    baseline: Baseline,
    event: EnrichedEvent,
    alerting: Finding[],
  ): void {
    const at = new Date(event.occurredAt).toISOString();
    // Values an alert is about stay seen-but-not-normal until trusted (docs/adr/0003).
    const quarantined = new Set(alerting.flatMap((f) => (f.about ?? []).map(([k, v]) => featureKey(k, v))));
    for (const [kind, value] of featuresOf(event)) {
      const accepted = !quarantined.has(featureKey(kind, value));
      baseline.observe(kind, value, event.occurredAt, accepted);
      this.writeBaseline(account.id, kind, value, event, accepted);
    }
    // A subnet at a prefix of the workspace's choosing is indexed for the sharing rule only.
    for (const { indexKind, value } of shareableValues(event, this.settings)) {
      if (indexKind.startsWith("subnet/")) this.writeBaseline(account.id, indexKind, value, event, true);
    }
    this.ctx.sharing.observe(account.id, account.group, event, this.settings);
    for (const { kind, path, root } of populationPaths(featureMap(event))) {
      for (const v of root ? [path, ""] : [path]) {
        const key = featureKey(kind, v);
        this.ctx.population.set(key, (this.ctx.population.get(key) ?? 0) + 1);
        const d = this.populationWrites.get(key) ?? { k: kind, v, n: 0 };
        d.n += 1;
        this.populationWrites.set(key, d);
      }
    }
    const net = event.net;
    const isPublic = net?.ipClass === "public";
    this.ctx.history.get(account.id)!.push({
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
    const delta = this.accountWrites.get(account.id) ?? {
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
    if (account.state === "learning" && !isLearning(account, event.occurredAt, this.settings)) {
      account.state = "established";
      delta.state = "established";
      delta.established_at = this.now.toISOString();
    }
    this.accountWrites.set(account.id, delta);
  }

  private writeBaseline(
    accountId: string,
    kind: string,
    value: string,
    event: EnrichedEvent,
    accepted: boolean,
  ): void {
    const at = new Date(event.occurredAt).toISOString();
    const key = `${accountId}\u0000${featureKey(kind, value)}`;
    const d = this.baselineWrites.get(key);
    if (!d) {
      this.baselineWrites.set(key, {
        account_id: accountId,
        kind,
        value,
        count: 1,
        first: at,
        last: at,
        accepted,
        last_event_id: event.id,
      });
      return;
    }
    d.count += 1;
    d.accepted ||= accepted;
    if (at < d.first) d.first = at;
    if (at >= d.last) [d.last, d.last_event_id] = [at, event.id];
  }

  private addAlert(f: Finding, at: number, incidentId: string | null): void {
    const { dedupKey, accountIds } = alertIdentity(f.rule, f.accountIds, f.key);
    const iso = new Date(at).toISOString();
    const evidence = f.about ? { ...f.evidence, baseline_values: f.about } : f.evidence;
    const existing = this.alertWrites.get(dedupKey);
    if (existing) {
      existing.count += 1;
      if (iso < existing.first) existing.first = iso;
      if (iso >= existing.last) {
        existing.last = iso;
        existing.summary = f.message;
        existing.evidence = evidence;
      }
      if (severityRank(f.severity) > severityRank(existing.severity as Finding["severity"]))
        existing.severity = f.severity;
      return;
    }
    this.alertWrites.set(dedupKey, {
      id: newId("alr"),
      rule: f.rule,
      severity: f.severity,
      account_ids: accountIds,
      incident_id: incidentId,
      key: f.key,
      dedup_key: dedupKey,
      summary: f.message,
      evidence,
      count: 1,
      first: iso,
      last: iso,
    });
  }
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
