import type { Actor } from "../core/model.ts";
import { ApiError, notFound, say } from "../errors.ts";
import { writeAudit } from "../store/audit.ts";
import { closeIncident as closeStored, getIncident, type IncidentRow } from "../store/incidents.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Ends an active incident now, audited in the same transaction. An unknown incident is `not_found`, one
 * already closed a `conflict`. The API and the console both close through here.
 */
export async function closeIncident({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: { workspaceId: string; incidentId: string; actor: Actor; now: Date };
}): Promise<IncidentRow> {
  const { workspaceId, incidentId, actor, now } = input;
  return ctx.db.transaction(async (tx) => {
    const current = await getIncident(tx, workspaceId, incidentId);
    if (!current) throw notFound("incident");
    const closed = await closeStored(tx, workspaceId, incidentId, now, now);
    if (!closed) throw new ApiError("conflict", say("api.incident_closed", { id: incidentId }));
    await writeAudit(tx, workspaceId, actor, now, [
      { action: "incident.closed", targetType: "incident", targetId: incidentId },
    ]);
    return closed;
  });
}
