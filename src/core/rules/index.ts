import type { Finding } from "../model.ts";
import { datacenterNetwork } from "./datacenter-network.ts";
import { envHopping } from "./env-hopping.ts";
import { impossibleTravel } from "./impossible-travel.ts";
import { incidentNetworkSwitch } from "./incident-network-switch.ts";
import { localeChanged } from "./locale-changed.ts";
import { newCountry } from "./new-country.ts";
import { newDevice } from "./new-device.ts";
import { newIp } from "./new-ip.ts";
import { newNetwork } from "./new-network.ts";
import { newRegion } from "./new-region.ts";
import { pinViolation } from "./pin-violation.ts";
import { retryStorm } from "./retry-storm.ts";
import { sensitiveOpDuringIncident } from "./sensitive-op-during-incident.ts";
import { sharedDevice, sharedIp, sharedSubnet } from "./shared.ts";
import { timezoneMismatch } from "./timezone-mismatch.ts";
import type { Rule, RuleContext } from "./types.ts";
import { uaChanged } from "./ua-changed.ts";
import { unboundEnvironment } from "./unbound-environment.ts";

/** Every rule judged on an event, in the order their findings are reported. */
export const ACCOUNT_RULES: readonly Rule[] = [
  sharedDevice,
  sharedIp,
  sharedSubnet,
  incidentNetworkSwitch,
  sensitiveOpDuringIncident,
  retryStorm,
  pinViolation,
  newDevice,
  newCountry,
  datacenterNetwork,
  newRegion,
  newNetwork,
  newIp,
  uaChanged,
  timezoneMismatch,
  localeChanged,
  impossibleTravel,
  envHopping,
  unboundEnvironment,
];

/** A rule that threw on one event: skipped for that event, reported so it is logged and counted. */
export interface RuleFailure {
  rule: string;
  eventId: string;
  error: unknown;
}

/**
 * Runs every rule on one event. Rules are isolated: one that throws is skipped for this event and reported
 * through `onFailure`; the other rules' findings stand and the batch goes on.
 */
export function evaluateAccountRules(
  ctx: RuleContext,
  onFailure: (failure: RuleFailure) => void,
  rules: readonly Rule[] = ACCOUNT_RULES,
): Finding[] {
  const out: Finding[] = [];
  for (const rule of rules) {
    if (rule.quietWhileLearning && ctx.account.learning) continue;
    try {
      out.push(...rule.evaluate(ctx));
    } catch (error) {
      onFailure({ rule: rule.id, eventId: ctx.event.id, error });
    }
  }
  return out;
}

export type { HistoryPoint, PeerUse, Rule, RuleContext, SharedValue, ShareKind } from "./types.ts";
