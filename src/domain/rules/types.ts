import type { Baseline, BaselineKind } from "../baseline.ts";
import type { AccountState, EnrichedEvent, Finding, IncidentState, Settings, Severity } from "../model.ts";
import type { SharedValue } from "./shared.ts";

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
  /** the account's other events within a day of this one, in any order */
  history: HistoryPoint[];
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

export function finding(
  rule: Pick<Rule, "id" | "severity">,
  ctx: RuleContext,
  key: string,
  message: string,
  evidence: Record<string, unknown>,
  options: { severity?: Severity; about?: Array<[BaselineKind, string]> } = {},
): Finding {
  return {
    rule: rule.id,
    severity: options.severity ?? rule.severity,
    message,
    key,
    accountIds: [ctx.account.id],
    evidence: {
      event_id: ctx.event.id,
      occurred_at: new Date(ctx.event.occurredAt).toISOString(),
      ...evidence,
    },
    ...(options.about ? { about: options.about } : {}),
  };
}

/** "203.0.113.7 (AS64500 Example Net, US-CA)" — how a network shows in messages. */
export function describeNet(ctx: RuleContext): string {
  const net = ctx.event.net;
  if (!net) return "unknown network";
  const parts = [
    net.asn !== null ? `AS${net.asn}${net.asnOrg ? ` ${net.asnOrg}` : ""}` : null,
    net.region ?? net.country,
  ];
  const extra = parts.filter(Boolean).join(", ");
  return extra ? `${net.ip} (${extra})` : net.ip;
}

export function publicNet(ctx: RuleContext) {
  const net = ctx.event.net;
  return net && net.ipClass === "public" ? net : null;
}
