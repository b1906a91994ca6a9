import { and, desc, eq } from "drizzle-orm";
import { accounts } from "../../db/schema/accounts.ts";
import { alerts } from "../../db/schema/alerts.ts";
import type { Db } from "./db.ts";

/** How many of a workspace's newest alerts the console groups into cases (see docs/adr/0017). */
export const CASE_WINDOW_ALERTS = 5_000;

/** A workspace's newest alerts, the material cases are grouped from. */
export async function recentAlerts(db: Db, workspaceId: string, limit = CASE_WINDOW_ALERTS) {
  return db
    .select()
    .from(alerts)
    .where(eq(alerts.workspaceId, workspaceId))
    .orderBy(desc(alerts.id))
    .limit(limit);
}

export interface AccountName {
  id: string;
  platform: string;
  ref: string;
  label: string | null;
  group: string | null;
}

/** Every account's platform and ref, so no human text shows an internal id. */
export async function accountNames(db: Db, workspaceId: string): Promise<Map<string, AccountName>> {
  const found = await db
    .select({
      id: accounts.id,
      platform: accounts.platform,
      ref: accounts.ref,
      label: accounts.label,
      group: accounts.group,
    })
    .from(accounts)
    .where(and(eq(accounts.workspaceId, workspaceId)));
  return new Map(found.map((a) => [a.id, a]));
}
