import { newId } from "../ids.ts";
import { alertIdentity } from "./alerts.ts";
import type { Actor, IncidentState, Settings } from "./model.ts";
import type { AlertWrite, AuditWrite } from "./write-set.ts";

const MINUTE = 60_000;

/** Platform-side failures of one platform in one window, as read after the batch's events were written. */
export interface FailureStats {
  workspaceId: string;
  platform: string;
  /** accounts of the platform with a platform-side failure in the window */
  failing: number;
  /** distinct networks (ASN, or /24 when unknown) those failures came from */
  networks: number;
  /** accounts of the platform with any event in the window: the denominator */
  active: number;
  firstFailure: number;
  lastFailure: number;
  accountIds: string[];
  codes: Record<string, number>;
}

export interface NewIncident {
  id: string;
  workspaceId: string;
  platform: string;
  title: string;
  startedAt: number;
  lastFailureAt: number;
  evidence: Record<string, unknown>;
}

export interface IncidentDecisions {
  opened: NewIncident[];
  extended: Array<{ id: string; firstFailure: number; lastFailure: number; holdMinutes: number }>;
  alerts: AlertWrite[];
  audit: AuditWrite[];
}

/** The workspace-level alert an incident detected from telemetry opens; no per-event rule raises it. */
export const PLATFORM_INCIDENT_RULE = { id: "platform_incident", severity: "high" } as const;

/**
 * Tells a platform outage from account trouble: when, within the sliding window, enough of a platform's
 * active accounts fail with platform-side errors from enough distinct networks, an incident opens (one
 * `platform_incident` alert); further failures keep it open. Account-level codes (auth_failed, captcha,
 * risk_control) never count: they stay each account's own signal.
 */
export function decideIncidents(
  stats: FailureStats[],
  current: Array<IncidentState & { workspaceId: string }>,
  settingsOf: (workspaceId: string) => Settings,
  actor: Actor,
): IncidentDecisions {
  const out: IncidentDecisions = { opened: [], extended: [], alerts: [], audit: [] };
  for (const s of stats) {
    const settings = settingsOf(s.workspaceId);
    const window = settings.incident.windowMinutes * MINUTE;
    // Failures inside an incident's span (active, or already closed while late events were still arriving)
    // belong to it: agents replay spooled events, and one outage must stay one incident.
    const covering = current.find(
      (i) =>
        i.workspaceId === s.workspaceId &&
        i.platform === s.platform &&
        i.region === null &&
        i.startedAt <= s.lastFailure + window &&
        (i.endedAt === null || i.endedAt >= s.firstFailure),
    );
    if (covering) {
      if (covering.source === "detected") {
        out.extended.push({
          id: covering.id,
          firstFailure: s.firstFailure,
          lastFailure: s.lastFailure,
          holdMinutes: settings.incident.holdMinutes,
        });
      }
      continue;
    }
    const share = s.active > 0 ? s.failing / s.active : 0;
    const quorum =
      share >= settings.incident.quorum &&
      s.failing >= settings.incident.minAccounts &&
      s.networks >= settings.incident.minNetworks;
    if (!quorum) continue;
    const evidence = {
      failing_accounts: s.failing,
      active_accounts: s.active,
      share: Math.round(share * 1000) / 1000,
      networks: s.networks,
      codes: s.codes,
      account_ids: s.accountIds,
      // Event time from the first platform-side failure to the failure that met the quorum: how late detection was.
      first_failure_at: new Date(s.firstFailure).toISOString(),
      quorum_met_at: new Date(s.lastFailure).toISOString(),
      detection_latency_seconds: Math.round((s.lastFailure - s.firstFailure) / 1000),
      window: {
        from: new Date(s.lastFailure - window).toISOString(),
        to: new Date(s.lastFailure).toISOString(),
      },
      thresholds: settings.incident,
    };
    const incident: NewIncident = {
      id: newId("inc"),
      workspaceId: s.workspaceId,
      platform: s.platform,
      title: `${s.platform}: ${s.failing} of ${s.active} accounts failing (${Object.keys(s.codes).join(", ")})`,
      startedAt: s.firstFailure,
      lastFailureAt: s.lastFailure,
      evidence,
    };
    out.opened.push(incident);
    const { dedupKey } = alertIdentity(PLATFORM_INCIDENT_RULE.id, [], incident.id);
    out.alerts.push({
      id: newId("alr"),
      workspaceId: s.workspaceId,
      rule: PLATFORM_INCIDENT_RULE.id,
      severity: PLATFORM_INCIDENT_RULE.severity,
      accountIds: [],
      incidentId: incident.id,
      key: incident.id,
      dedupKey,
      summary: `platform incident detected: ${incident.title}. Do not switch networks, retry logins or edit profiles.`,
      evidence,
      count: 1,
      firstAt: s.firstFailure,
      lastAt: s.lastFailure,
    });
    out.audit.push({
      workspaceId: s.workspaceId,
      actor,
      action: "incident.detected",
      targetType: "incident",
      targetId: incident.id,
      details: evidence,
    });
  }
  return out;
}
