import {
  ASK_WINDOW_MINUTES,
  assembleDrillReport,
  compareFigures,
  type DrillIncident,
  type DrillReport,
  drillSpan,
  sameScope,
} from "../core/drill-report.ts";
import type { Settings } from "../core/model.ts";
import { assembleReview, incidentView } from "../core/review.ts";
import { ApiError } from "../errors.ts";
import {
  drillOperations,
  drillParticipants,
  earlierDrills,
  firstAlertAnswer,
  realIncidentsDuring,
  scopeAccountIds,
} from "../store/drills-rehearsal.ts";
import type { IncidentRow } from "../store/incidents.ts";
import {
  type ReviewScope,
  reviewAlerts,
  reviewNetworkUse,
  reviewOverrides,
  reviewPreflights,
  reviewSensitiveEvents,
} from "../store/review.ts";
import type { ServiceContext } from "./context.ts";

export const drillNotFound = () =>
  new ApiError("not_found", (t) => t("api.not_found", { thing: t("api.thing.drill") }));

interface Input {
  workspaceId: string;
  drill: IncidentRow;
  settings: Settings;
  now: Date;
}

/**
 * One drill's report without its comparison. The improvised actions are the recovery review's own
 * assembly (src/core/review.ts) over the drill's window, narrowed to the accounts of the drill's scope.
 */
async function reportOf(ctx: Pick<ServiceContext, "db">, input: Input): Promise<DrillReport> {
  const { db } = ctx;
  const { workspaceId, settings, now } = input;
  const drill: DrillIncident = input.drill;
  const span = drillSpan(drill, now);
  const scope: ReviewScope = { platform: drill.platform, region: null, ...span };
  const accountIds = await scopeAccountIds(db, workspaceId, drill.platform, drill.scope);
  const inScope = (id: string | null) => id !== null && (accountIds === null || accountIds.includes(id));
  const [participants, operations, alerts, preflights, overrides, networks, sensitive, real] =
    await Promise.all([
      drillParticipants(db, workspaceId, drill.platform, accountIds, span),
      drillOperations(db, workspaceId, drill.platform, accountIds, span, ASK_WINDOW_MINUTES),
      reviewAlerts(db, workspaceId, drill.id, scope),
      reviewPreflights(db, workspaceId, scope),
      reviewOverrides(db, workspaceId, scope),
      reviewNetworkUse(db, workspaceId, scope),
      reviewSensitiveEvents(db, workspaceId, scope, settings.sensitiveOperations),
      realIncidentsDuring(db, workspaceId, drill.platform, span),
    ]);
  const scopedAlerts = alerts.filter((a) => a.accountIds.length === 0 || a.accountIds.some(inScope));
  const scopedPreflights = preflights.filter((p) => inScope(p.accountId));
  const review = assembleReview(
    drill,
    { before: span, during: span, after: null },
    {
      counts: [],
      operations: [],
      failures: { activeAccounts: 0, codes: [], sides: {} },
      sensitive: sensitive.filter((s) => inScope(s.accountId)),
      alerts: scopedAlerts,
      preflights: scopedPreflights,
      overrides: overrides.filter((o) => inScope(o.accountId)),
      networks: networks.filter((n) => inScope(n.accountId)),
    },
  );
  const own = scopedAlerts.filter((a) => a.incidentId === drill.id);
  return assembleDrillReport(drill, span, {
    participants,
    improvised: review.improvised_actions,
    preflights: scopedPreflights,
    sensitiveOperations: settings.sensitiveOperations,
    operations,
    alerts: own.map((a) => ({ id: a.id, firstSeenAt: a.firstSeenAt })),
    firstAnswerAt: await firstAlertAnswer(
      db,
      workspaceId,
      own.map((a) => a.id),
    ),
    realIncidents: real.map(incidentView),
  });
}

/**
 * The report of one drill (src/core/drill-report.ts), compared figure by figure with the previous drill of
 * the same platform and scope, if there was one.
 */
export async function buildDrillReport({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: Input & { compare?: boolean };
}): Promise<DrillReport> {
  const report = await reportOf(ctx, input);
  if (input.compare === false) return report;
  const drill: DrillIncident = input.drill;
  const earlier = await earlierDrills(ctx.db, input.workspaceId, drill.platform, drill.startedAt);
  const previous = earlier.find((d) => sameScope(d, drill));
  if (!previous) return report;
  const before = await reportOf(ctx, { ...input, drill: previous });
  report.comparison = {
    previous_drill_id: previous.id,
    previous_started_at: previous.startedAt.toISOString(),
    changes: compareFigures(report.figures, before.figures),
  };
  return report;
}
