import { STATUS_EVENTS } from "../core/notify/messages.ts";
import { ApiError, notFound, say } from "../errors.ts";
import {
  type AlertRow,
  type AlertStatus,
  getAlert,
  lockAccountRows,
  transitionAlert,
} from "../store/alerts.ts";
import { writeAudit } from "../store/audit.ts";
import { enqueueAlertNotices } from "../store/notifications.ts";
import type { ServiceContext } from "./context.ts";
import { trustAlert } from "./trust-alert.ts";

export type AlertAction = "acknowledge" | "resolve" | "dismiss" | "trust";

/** Which statuses each action may start from, and where it leads. */
export const WORKFLOW: Record<AlertAction, { from: AlertStatus[]; to: AlertStatus }> = {
  acknowledge: { from: ["open"], to: "acknowledged" },
  resolve: { from: ["open", "acknowledged"], to: "resolved" },
  dismiss: { from: ["open", "acknowledged"], to: "dismissed" },
  trust: { from: ["open", "acknowledged"], to: "resolved" },
};

/**
 * Applies one action to alerts in one transaction, each with its audit row. `strict` (the API's one alert):
 * an alert in no status the action starts from is a conflict. Otherwise (a console case) such alerts are left
 * as they are and only the others move; the answer lists the moved ones.
 */
export async function actOnAlerts({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: {
    workspaceId: string;
    alertIds: string[];
    action: AlertAction;
    note?: string | undefined;
    verdict?: "actionable" | "false_positive" | undefined;
    actor: { tokenId: string; name: string; admin: boolean };
    now: Date;
    strict: boolean;
  };
}): Promise<AlertRow[]> {
  const { workspaceId, action, actor, now } = input;
  const step = WORKFLOW[action];
  const body = { note: input.note, verdict: input.verdict };
  return ctx.db.transaction(async (tx) => {
    const current: AlertRow[] = [];
    for (const id of input.alertIds) {
      const row = await getAlert(tx, workspaceId, id);
      if (!row) throw notFound("alert");
      current.push(row);
    }
    if (action === "trust") {
      await lockAccountRows(tx, workspaceId, [...new Set(current.flatMap((a) => a.accountIds))]);
    }
    const moved: AlertRow[] = [];
    for (const alert of current) {
      const row = await transitionAlert(tx, workspaceId, alert.id, step.from, step.to, body, now);
      if (!row) {
        if (input.strict)
          throw new ApiError("conflict", say("api.alert_transition", { action, status: alert.status }));
        continue;
      }
      const trusted =
        action === "trust"
          ? await trustAlert({ ctx: { db: tx }, input: { workspaceId, alert, actor, now } })
          : null;
      await writeAudit(tx, workspaceId, { tokenId: actor.tokenId, name: actor.name }, now, [
        {
          action: `alert.${action}`,
          targetType: "alert",
          targetId: alert.id,
          details: {
            from: alert.status,
            to: step.to,
            note: input.note ?? null,
            verdict: input.verdict ?? null,
            ...(trusted ? { trusted } : {}),
          },
        },
      ]);
      moved.push(row);
    }
    // The notices of the move commit with it (docs/adr/0018-notifications-outbox.md).
    await enqueueAlertNotices(
      tx,
      workspaceId,
      moved.map((a) => a.id),
      STATUS_EVENTS[step.to as keyof typeof STATUS_EVENTS],
      now,
    );
    return moved;
  });
}
