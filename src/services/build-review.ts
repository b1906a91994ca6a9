import type { Settings } from "../core/model.ts";
import { assembleReview, type Review, reviewWindows } from "../core/review.ts";
import type { IncidentRow } from "../store/incidents.ts";
import {
  type ReviewScope,
  reviewAlerts,
  reviewFailureCodes,
  reviewNetworkUse,
  reviewOperationCounts,
  reviewOverrides,
  reviewPreflights,
  reviewSensitiveEvents,
  reviewSuccessCounts,
} from "../store/review.ts";
import type { ServiceContext } from "./context.ts";

/**
 * The recovery review of one incident: loads what happened on its platform before, during and after it (all
 * reads at once), and assembles the review from that (src/core/review.ts).
 */
export async function buildReview({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: { workspaceId: string; incident: IncidentRow; settings: Settings; now: Date };
}): Promise<Review> {
  const { db } = ctx;
  const { workspaceId, incident, settings, now } = input;
  const windows = reviewWindows(incident, now);
  const scope: ReviewScope = { platform: incident.platform, region: incident.region, ...windows.during };
  const [counts, sensitive, operations, failures, alerts, preflights, overrides, networks] =
    await Promise.all([
      reviewSuccessCounts(db, workspaceId, windows),
      reviewSensitiveEvents(db, workspaceId, scope, settings.sensitiveOperations),
      reviewOperationCounts(db, workspaceId, scope),
      reviewFailureCodes(db, workspaceId, scope),
      reviewAlerts(db, workspaceId, incident.id, scope),
      reviewPreflights(db, workspaceId, scope),
      reviewOverrides(db, workspaceId, scope),
      reviewNetworkUse(db, workspaceId, scope),
    ]);
  return assembleReview(incident, windows, {
    counts,
    sensitive,
    operations,
    failures,
    alerts,
    preflights,
    overrides,
    networks,
  });
}
