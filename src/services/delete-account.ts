import type { Actor } from "../core/model.ts";
import { notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { type ErasedCounts, eraseAccount, getAccount } from "../store/accounts.ts";
import { lockAccountRows } from "../store/alerts.ts";
import { writeAudit } from "../store/audit.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Deletes an account and its data in one transaction with its audit row: its events, baseline, bindings,
 * links and the alerts about it alone go; alerts that also name other accounts keep an opaque tombstone
 * (`del_…`, one per deletion) where its id was. The account row is locked first, so an ingest transaction
 * judging its events finishes before or starts after; a later event registers the account anew.
 */
export async function deleteAccount({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: { workspaceId: string; accountId: string; actor: Actor; now: Date };
}): Promise<{ tombstone: string; erased: ErasedCounts }> {
  const { workspaceId, accountId, actor, now } = input;
  return ctx.db.transaction(async (tx) => {
    await lockAccountRows(tx, workspaceId, [accountId]);
    const account = await getAccount(tx, workspaceId, accountId);
    if (!account) throw notFound("account");
    const tombstone = newId("del");
    const erased = await eraseAccount(tx, workspaceId, accountId, tombstone);
    await writeAudit(tx, workspaceId, actor, now, [
      // Not the tombstone: the audit log must not tie the kept alerts back to the account.
      { action: "account.deleted", targetType: "account", targetId: accountId, details: { erased } },
    ]);
    return { tombstone, erased };
  });
}
