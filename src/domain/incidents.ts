import { newId } from "../ids.ts";
import type { Actor } from "../store/audit.ts";
import { writeAudit } from "../store/audit.ts";
import type { Db } from "../store/db.ts";
import {
  createIncident,
  extendDetectedIncident,
  failureStats,
  type IncidentRow,
  incidentsOverlapping,
} from "../store/incidents.ts";
import { lockKeys, upsertAlerts } from "../store/ingest.ts";
import { alertIdentity } from "./alerts.ts";
import type { Settings } from "./model.ts";

const MINUTE = 60_000;
/** Accounts seen within this long count as a platform's active accounts. */
const ACTIVE_HORIZON = 24 * 60 * MINUTE;

/**
 * Tells a platform outage from account trouble: when, within the sliding window, enough of a platform's
 * active accounts fail with platform-side errors from enough distinct networks, an incident opens (one
 * `platform_incident` alert); further failures keep it open. Account-level codes (auth_failed, captcha,
 * risk_control) never count: they stay each account's own signal.
 */
export async function detectIncidents(
  tx: Db,
  workspaceId: string,
  actor: Actor,
  settings: Settings,
  lastFailures: Map<string, number>,
  now: Date,
): Promise<IncidentRow[]> {
  if (lastFailures.size === 0) return [];
  const window = settings.incident.windowMinutes * MINUTE;
  const latest = Math.max(...lastFailures.values());
  const windows = [...lastFailures].map(([platform, t]) => ({ platform, from: t - window, to: t }));
  // One batch at a time decides whether a platform's failures open an incident: two must not open two.
  await lockKeys(
    tx,
    [...lastFailures.keys()].map((p) => `incident\u001f${workspaceId}\u001f${p}`),
  );
  const [stats, current] = await Promise.all([
    failureStats(tx, workspaceId, windows, latest - ACTIVE_HORIZON),
    incidentsOverlapping(tx, workspaceId, [...lastFailures.keys()], latest - window, latest, {
      now,
      holdMinutes: settings.incident.holdMinutes,
    }),
  ]);
  const opened: IncidentRow[] = [];
  for (const s of stats) {
    // Failures inside an incident's span (active, or already closed while late events were still arriving)
    // belong to it: agents replay spooled events, and one outage must stay one incident.
    const covering = current.find(
      (i) =>
        i.platform === s.platform &&
        i.region === null &&
        i.startedAt <= s.lastFailure + window &&
        (i.endedAt === null || i.endedAt >= s.firstFailure),
    );
    if (covering) {
      if (covering.source === "detected") {
        await extendDetectedIncident(
          tx,
          covering.id,
          s.firstFailure,
          s.lastFailure,
          settings.incident.holdMinutes,
          now,
        );
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
      window: {
        from: new Date(s.lastFailure - window).toISOString(),
        to: new Date(s.lastFailure).toISOString(),
      },
      thresholds: settings.incident,
    };
    const incident = await createIncident(
      tx,
      {
        workspaceId,
        platform: s.platform,
        region: null,
        title: `${s.platform}: ${s.failing} of ${s.active} accounts failing (${Object.keys(s.codes).join(", ")})`,
        source: "detected",
        startedAt: new Date(s.firstFailure),
        lastFailureAt: new Date(s.lastFailure),
        evidence,
        createdBy: "tether",
      },
      now,
    );
    const { dedupKey } = alertIdentity("platform_incident", [], incident.id);
    await upsertAlerts(
      tx,
      workspaceId,
      [
        {
          id: newId("alr"),
          rule: "platform_incident",
          severity: "high",
          account_ids: [],
          incident_id: incident.id,
          key: incident.id,
          dedup_key: dedupKey,
          summary: `platform incident detected: ${incident.title}. Do not switch networks, retry logins or edit profiles.`,
          evidence,
          count: 1,
          first: new Date(s.firstFailure).toISOString(),
          last: new Date(s.lastFailure).toISOString(),
        },
      ],
      now,
    );
    await writeAudit(tx, workspaceId, actor, now, [
      { action: "incident.detected", targetType: "incident", targetId: incident.id, details: evidence },
    ]);
    opened.push(incident);
  }
  return opened;
}
