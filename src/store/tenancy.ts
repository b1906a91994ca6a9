import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { tokens, workspaces } from "../../db/schema/tenancy.ts";
import { hashSecret, newId, newSecret } from "../ids.ts";
import type { Db } from "./db.ts";

export type TokenRole = (typeof tokens.$inferSelect)["role"];

export interface TokenIdentity {
  tokenId: string;
  tokenName: string;
  kind: "agent" | "user";
  role: TokenRole;
  environmentId: string | null;
  workspaceId: string;
  workspaceSlug: string;
  workspaceSettings: Record<string, unknown>;
  lastUsedAt: Date | null;
}

export async function findTokenBySecret(db: Db, secret: string): Promise<TokenIdentity | null> {
  const [row] = await db
    .select({
      tokenId: tokens.id,
      tokenName: tokens.name,
      kind: tokens.kind,
      role: tokens.role,
      environmentId: tokens.environmentId,
      workspaceId: workspaces.id,
      workspaceSlug: workspaces.slug,
      workspaceSettings: workspaces.settings,
      lastUsedAt: tokens.lastUsedAt,
    })
    .from(tokens)
    .innerJoin(workspaces, eq(workspaces.id, tokens.workspaceId))
    .where(and(eq(tokens.secretHash, hashSecret(secret)), isNull(tokens.revokedAt)))
    .limit(1);
  return row ?? null;
}

export async function markTokenUsed(db: Db, tokenId: string, at: Date): Promise<void> {
  await db.update(tokens).set({ lastUsedAt: at }).where(eq(tokens.id, tokenId));
}

export async function countWorkspaces(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(workspaces);
  return Number(row?.n ?? 0);
}

export async function createWorkspace(db: Db, input: { slug: string; name?: string }, now: Date) {
  const [row] = await db
    .insert(workspaces)
    .values({ id: newId("ws"), slug: input.slug, name: input.name ?? input.slug, createdAt: now })
    .returning();
  return row!;
}

export async function findWorkspaceBySlug(db: Db, slug: string) {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.slug, slug)).limit(1);
  return row ?? null;
}

export async function updateWorkspaceSettings(
  db: Db,
  workspaceId: string,
  settings: Record<string, unknown>,
) {
  const [row] = await db
    .update(workspaces)
    .set({ settings })
    .where(eq(workspaces.id, workspaceId))
    .returning();
  return row!;
}

/** Issues a token; the secret is returned once and only its hash is kept. */
export async function issueToken(
  db: Db,
  input: {
    workspaceId: string;
    kind: "agent" | "user";
    role: TokenRole;
    name: string;
    environmentId?: string | null;
    secret?: string;
  },
  now: Date,
) {
  const secret = input.secret ?? newSecret(input.kind);
  const [row] = await db
    .insert(tokens)
    .values({
      id: newId("tok"),
      workspaceId: input.workspaceId,
      kind: input.kind,
      role: input.role,
      name: input.name,
      environmentId: input.environmentId ?? null,
      secretHash: hashSecret(secret),
      prefix: secret.slice(0, 8),
      createdAt: now,
    })
    .returning();
  return { token: row!, secret };
}

export async function listTokens(db: Db, workspaceId: string, limit: number, before: string | null) {
  return db
    .select()
    .from(tokens)
    .where(and(eq(tokens.workspaceId, workspaceId), before ? lt(tokens.id, before) : undefined))
    .orderBy(desc(tokens.id))
    .limit(limit + 1);
}

export async function revokeToken(db: Db, workspaceId: string, tokenId: string, now: Date) {
  const [row] = await db
    .update(tokens)
    .set({ revokedAt: now })
    .where(and(eq(tokens.workspaceId, workspaceId), eq(tokens.id, tokenId), isNull(tokens.revokedAt)))
    .returning();
  return row ?? null;
}

/** Locks the workspace row: settings changes and admin-token revocations of one workspace go one at a time. */
export async function lockWorkspace(db: Db, workspaceId: string): Promise<void> {
  await db.execute(sql`select id from workspaces where id = ${workspaceId} for update`);
}

export async function activeAdminTokenCount(db: Db, workspaceId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(tokens)
    .where(and(eq(tokens.workspaceId, workspaceId), eq(tokens.role, "admin"), isNull(tokens.revokedAt)));
  return Number(row?.n ?? 0);
}

export async function getToken(db: Db, workspaceId: string, id: string) {
  const [row] = await db
    .select()
    .from(tokens)
    .where(and(eq(tokens.workspaceId, workspaceId), eq(tokens.id, id)))
    .limit(1);
  return row ?? null;
}

export async function revokeEnvironmentTokens(db: Db, workspaceId: string, environmentId: string, now: Date) {
  return db
    .update(tokens)
    .set({ revokedAt: now })
    .where(
      and(
        eq(tokens.workspaceId, workspaceId),
        eq(tokens.environmentId, environmentId),
        isNull(tokens.revokedAt),
      ),
    )
    .returning({ id: tokens.id });
}
