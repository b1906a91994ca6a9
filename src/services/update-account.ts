import type { Actor, Pin } from "../core/model.ts";
import { type AccountRow, getAccount, updateAccount } from "../store/accounts.ts";
import { writeAudit } from "../store/audit.ts";
import type { ServiceContext } from "./context.ts";

export interface AccountChanges {
  label?: string | null | undefined;
  group?: string | null | undefined;
  pin?: Pin | null | undefined;
}

/**
 * Changes an account's label, isolation group or pin (the API's PATCH and the console's settings form), with
 * the before and after in the audit log, in one transaction. Null when the workspace has no such account.
 */
export async function updateAccountSettings({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: { workspaceId: string; accountId: string; changes: AccountChanges; actor: Actor; now: Date };
}): Promise<AccountRow | null> {
  const { workspaceId, accountId, actor, now } = input;
  // Only the fields given change: undefined keys would be written as NULL.
  const changes = Object.fromEntries(Object.entries(input.changes).filter(([, v]) => v !== undefined));
  return ctx.db.transaction(async (tx) => {
    const before = await getAccount(tx, workspaceId, accountId);
    if (!before) return null;
    const after = await updateAccount(tx, workspaceId, accountId, changes, now);
    await writeAudit(tx, workspaceId, actor, now, [
      {
        action: "account.updated",
        targetType: "account",
        targetId: accountId,
        details: { before: { label: before.label, group: before.group, pin: before.pin }, after: changes },
      },
    ]);
    return after;
  });
}
