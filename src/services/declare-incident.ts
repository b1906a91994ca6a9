import { MAX_FUTURE_MS } from "../core/event.ts";
import type { Actor } from "../core/model.ts";
import { ApiError, say } from "../errors.ts";
import { writeAudit } from "../store/audit.ts";
import { createIncident, type IncidentRow } from "../store/incidents.ts";
import type { ServiceContext } from "./context.ts";

export interface DeclareIncidentInput {
  workspaceId: string;
  platform: string;
  region: string | null;
  title: string;
  /** when the platform began failing; absent: now */
  startedAt: Date | null;
  actor: Actor;
  now: Date;
}

/**
 * A person declares a platform (or one region of it) failing: the incident opens with them as its evidence, and
 * the declaration is audited in the same transaction. The API and the console both declare through here.
 */
export async function declareIncident({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: DeclareIncidentInput;
}): Promise<IncidentRow> {
  const { workspaceId, platform, region, title, actor, now } = input;
  const startedAt = input.startedAt ?? now;
  if (startedAt.getTime() > now.getTime() + MAX_FUTURE_MS) {
    throw new ApiError("bad_request", say("api.started_in_future"), [
      { path: "started_at", message: "is more than 5 minutes in the future" },
    ]);
  }
  return ctx.db.transaction(async (tx) => {
    const incident = await createIncident(
      tx,
      {
        workspaceId,
        platform,
        region,
        title,
        source: "declared",
        startedAt,
        evidence: { declared_by: actor.name },
        createdBy: actor.name,
      },
      now,
    );
    await writeAudit(tx, workspaceId, actor, now, [
      {
        action: "incident.declared",
        targetType: "incident",
        targetId: incident.id,
        details: {
          platform,
          ...(region ? { region } : {}),
          title,
          ...(input.startedAt ? { started_at: input.startedAt.toISOString() } : {}),
        },
      },
    ]);
    return incident;
  });
}
