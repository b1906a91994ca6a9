import type { Baseline } from "../baseline.ts";
import { describeFinding } from "../finding-text.ts";
import type { AccountHistory } from "../history.ts";
import type {
  AccountState,
  BaselineKind,
  EnrichedEvent,
  Finding,
  IncidentState,
  Settings,
  Severity,
} from "../model.ts";

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

export type ShareKind = "device" | "ip" | "subnet";

/** One of the event's shareable values and the accounts of other isolation groups that used it in the window. */
export interface SharedValue {
  kind: ShareKind;
  value: string;
  /** when this account first used the value (this event, if never before) */
  firstSeen: number;
  peers: PeerUse[];
}

/** At most this many peers are named per value and event; a value shared wider is a cluster, not a pair. */
export const MAX_PEERS = 20;

/** One earlier or later event of the same account, as the time-window rules need it. */
export interface HistoryPoint {
  id: string;
  occurredAt: number;
  /** the public IP; null when the event had none (private or no address) */
  ip: string | null;
  /** a login attempt, and whether it failed: what a retry storm is made of */
  login: boolean;
  failed: boolean;
  asn: number | null;
  lat: number | null;
  lon: number | null;
  accuracyKm: number | null;
  country: string | null;
  region: string | null;
  city: string | null;
}

export interface RuleContext {
  event: EnrichedEvent;
  account: AccountState;
  /** the account's baseline before this event */
  baseline: Baseline;
  /** the account's other events around this one, sorted by time */
  history: AccountHistory;
  environmentId: string | null;
  /** whether the reporting agent's environment is bound to the account; null when no agent reported it */
  bound: boolean | null;
  /** the event's device, IP and subnet with the accounts of other groups that used them within the sharing window */
  shared: SharedValue[];
  /** the incident on the account's platform (and region) at the event's time, if any */
  incident: IncidentState | null;
  settings: Settings;
}

export interface Rule {
  id: string;
  severity: Severity;
  /** deviations from a learned baseline mean nothing while the baseline is still forming */
  quietWhileLearning: boolean;
  evaluate(ctx: RuleContext): Finding[];
}

/**
 * A finding of `rule` on the context's event. Its message is not written here: the sentence comes from the
 * evidence (src/core/finding-text.ts), so the evidence must hold what the rule's sentence names.
 */
export function finding(
  rule: Pick<Rule, "id" | "severity">,
  ctx: RuleContext,
  key: string,
  evidence: Record<string, unknown>,
  options: { severity?: Severity; about?: Array<[BaselineKind, string]>; accountIds?: string[] } = {},
): Finding {
  const full = {
    event_id: ctx.event.id,
    occurred_at: new Date(ctx.event.occurredAt).toISOString(),
    ...evidence,
  };
  return {
    rule: rule.id,
    severity: options.severity ?? rule.severity,
    ...describeFinding(rule.id, full),
    key,
    accountIds: options.accountIds ?? [ctx.account.id],
    evidence: full,
    ...(options.about ? { about: options.about } : {}),
  };
}

/** Where the event's IP is, as evidence: what a sentence needs to name the network and place. */
export function netEvidence(ctx: RuleContext) {
  const net = ctx.event.net;
  return net
    ? {
        ip: net.ip,
        asn: net.asn,
        asn_org: net.asnOrg,
        country: net.country,
        region: net.region,
        city: net.city,
      }
    : {};
}

export function publicNet(ctx: RuleContext) {
  const net = ctx.event.net;
  return net && net.ipClass === "public" ? net : null;
}
