import type { Actor } from "../core/model.ts";
import { ApiError, say } from "../errors.ts";
import { writeAudit } from "../store/audit.ts";
import { createDrill, type DrillScope, scopeAccountIds } from "../store/drills-rehearsal.ts";
import type { IncidentRow } from "../store/incidents.ts";
import type { ServiceContext } from "./context.ts";

export interface StartDrillInput {
  workspaceId: string;
  platform: string;
  scope: DrillScope | null;
  title: string | null;
  plannedMinutes: number;
  actor: Actor;
  now: Date;
}

/**
 * A reviewer starts a drill now: a declared incident marked `drill` on the platform, so preflight and the
 * incident rules behave exactly as in a real outage until it is ended or its planned end passes. Audited in
 * the same transaction.
 */
export async function startDrill({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: StartDrillInput;
}): Promise<IncidentRow> {
  const { workspaceId, platform, scope, plannedMinutes, actor, now } = input;
  const title = input.title ?? `${platform} drill`;
  return ctx.db.transaction(async (tx) => {
    const listed = scope?.account_ids;
    if (listed) {
      const found = new Set(await scopeAccountIds(tx, workspaceId, platform, { account_ids: listed }));
      const missing = listed.filter((id) => !found.has(id));
      if (missing.length > 0) {
        throw new ApiError(
          "bad_request",
          say("api.schema_mismatch"),
          missing
            .slice(0, 20)
            .map((id) => ({ path: "scope.account_ids", message: `account ${id} not found` })),
        );
      }
    }
    const drill = await createDrill(
      tx,
      { workspaceId, platform, title, scope, plannedMinutes, startedAt: now, createdBy: actor.name },
      now,
    );
    await writeAudit(tx, workspaceId, actor, now, [
      {
        action: "drill.started",
        targetType: "incident",
        targetId: drill.id,
        details: { platform, title, planned_minutes: plannedMinutes, ...(scope ? { scope } : {}) },
      },
    ]);
    return drill;
  });
}
