import { and, desc, eq, inArray, lt } from "drizzle-orm";
import { environmentAccounts, environments } from "../../db/schema/accounts.ts";
import { newId } from "../ids.ts";
import type { Db } from "./db.ts";

export type EnvironmentRow = typeof environments.$inferSelect;

export async function createEnvironment(
  db: Db,
  workspaceId: string,
  name: string,
  now: Date,
): Promise<EnvironmentRow> {
  const [row] = await db
    .insert(environments)
    .values({ id: newId("env"), workspaceId, name, createdAt: now })
    .returning();
  return row!;
}

export async function getEnvironment(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<EnvironmentRow | null> {
  const [row] = await db
    .select()
    .from(environments)
    .where(and(eq(environments.workspaceId, workspaceId), eq(environments.id, id)))
    .limit(1);
  return row ?? null;
}

export async function listEnvironments(db: Db, workspaceId: string, limit: number, before: string | null) {
  return db
    .select()
    .from(environments)
    .where(and(eq(environments.workspaceId, workspaceId), before ? lt(environments.id, before) : undefined))
    .orderBy(desc(environments.id))
    .limit(limit + 1);
}

/** Replaces the set of accounts an environment may operate. */
export async function setEnvironmentAccounts(
  db: Db,
  workspaceId: string,
  environmentId: string,
  accountIds: string[],
  now: Date,
): Promise<void> {
  await db.delete(environmentAccounts).where(eq(environmentAccounts.environmentId, environmentId));
  if (accountIds.length === 0) return;
  await db
    .insert(environmentAccounts)
    .values(accountIds.map((accountId) => ({ workspaceId, environmentId, accountId, createdAt: now })))
    .onConflictDoNothing();
}

export async function bindAccount(
  db: Db,
  workspaceId: string,
  environmentId: string,
  accountId: string,
  now: Date,
) {
  await db
    .insert(environmentAccounts)
    .values({ workspaceId, environmentId, accountId, createdAt: now })
    .onConflictDoNothing();
}

export async function accountIdsOfEnvironments(
  db: Db,
  environmentIds: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(environmentIds.map((id) => [id, []]));
  if (environmentIds.length === 0) return out;
  const links = await db
    .select({ environmentId: environmentAccounts.environmentId, accountId: environmentAccounts.accountId })
    .from(environmentAccounts)
    .where(inArray(environmentAccounts.environmentId, environmentIds))
    .orderBy(environmentAccounts.accountId);
  for (const l of links) out.get(l.environmentId)?.push(l.accountId);
  return out;
}
