import type { Actor } from "../core/model.ts";
import { ApiError, say } from "../errors.ts";
import { writeAudit } from "../store/audit.ts";
import { endDrill as endStored, getDrill } from "../store/drills-rehearsal.ts";
import type { IncidentRow } from "../store/incidents.ts";
import { drillNotFound } from "./build-drill-report.ts";
import type { ServiceContext } from "./context.ts";

/** Ends an active drill now, audited in the same transaction; one already ended is a `conflict`. */
export async function endDrill({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: { workspaceId: string; drillId: string; actor: Actor; now: Date };
}): Promise<IncidentRow> {
  const { workspaceId, drillId, actor, now } = input;
  return ctx.db.transaction(async (tx) => {
    if (!(await getDrill(tx, workspaceId, drillId))) throw drillNotFound();
    const ended = await endStored(tx, workspaceId, drillId, now);
    if (!ended) throw new ApiError("conflict", say("api.drill_ended", { id: drillId }));
    await writeAudit(tx, workspaceId, actor, now, [
      { action: "drill.ended", targetType: "incident", targetId: drillId },
    ]);
    return ended;
  });
}
