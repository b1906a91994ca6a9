import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { and, desc, eq, isNotNull, isNull, lt, ne, or, sql } from "drizzle-orm";
import { serverSecrets, tokens, workspaces } from "../../db/schema/tenancy.ts";
import { newId, newSecret, tokenIdOfSecret } from "../ids.ts";
import type { Db } from "./db.ts";

/**
 * The server's key for token hashes. A stolen copy of the tokens table alone (a backup, a replica, a
 * SQL injection elsewhere) does not let anyone test guesses of a chosen secret offline without it.
 */
export interface Pepper {
  key: Buffer;
  /** names the pepper in each token row without revealing it */
  id: string;
}

export const pepperOf = (value: string): Pepper => {
  const key = Buffer.from(value, "utf8");
  return { key, id: createHmac("sha256", key).update("tether token pepper id").digest("hex").slice(0, 16) };
};

/**
 * TETHER_TOKEN_PEPPER when set; otherwise one generated once and kept in the database, so that every process
 * and every restart agree (it then protects a leak of the tokens table alone, not of the whole database).
 */
export async function loadPepper(db: Db, configured: string | undefined): Promise<Pepper> {
  if (configured) return pepperOf(configured);
  await db
    .insert(serverSecrets)
    .values({ name: "token_pepper", value: randomBytes(32).toString("base64url") })
    .onConflictDoNothing();
  const [row] = await db.select().from(serverSecrets).where(eq(serverSecrets.name, "token_pepper"));
  return pepperOf(row!.value);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * HMAC of the secret's SHA-256: a row from before the pepper stores that SHA-256, so it can be re-keyed
 * without ever knowing the secret.
 */
const keyed = (pepper: Pepper, secretSha256: string) =>
  createHmac("sha256", pepper.key).update(secretSha256).digest("hex");

export const hashSecret = (pepper: Pepper, secret: string) => keyed(pepper, sha256(secret));

const sameHash = (a: string, b: string) => {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Re-keys the plain SHA-256 hashes of tokens issued before migration 0006, and counts the tokens keyed by
 * another pepper (TETHER_TOKEN_PEPPER changed), which can no longer authenticate.
 */
export async function upgradeTokenHashes(
  db: Db,
  pepper: Pepper,
): Promise<{ upgraded: number; foreign: number }> {
  const legacy = await db
    .select({ id: tokens.id, secretHash: tokens.secretHash })
    .from(tokens)
    .where(isNull(tokens.pepperId));
  for (const row of legacy) {
    await db
      .update(tokens)
      .set({ secretHash: keyed(pepper, row.secretHash), pepperId: pepper.id })
      .where(and(eq(tokens.id, row.id), isNull(tokens.pepperId)));
  }
  const [other] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(tokens)
    .where(and(isNotNull(tokens.pepperId), ne(tokens.pepperId, pepper.id), isNull(tokens.revokedAt)));
  return { upgraded: legacy.length, foreign: Number(other?.n ?? 0) };
}

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

/**
 * The live token a presented secret belongs to. An issued secret names its token's id, so the row is found by
 * id and its hash compared in constant time; a chosen secret (the bootstrap token) is found by its hash.
 */
export async function findTokenBySecret(
  db: Db,
  pepper: Pepper,
  secret: string,
): Promise<TokenIdentity | null> {
  const hash = hashSecret(pepper, secret);
  const id = tokenIdOfSecret(secret);
  const [row] = await db
    .select({
      secretHash: tokens.secretHash,
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
    .where(
      and(
        id ? or(eq(tokens.id, id), eq(tokens.secretHash, hash)) : eq(tokens.secretHash, hash),
        eq(tokens.pepperId, pepper.id),
        isNull(tokens.revokedAt),
      ),
    )
    .limit(1);
  if (!row || !sameHash(row.secretHash, hash)) return null;
  const { secretHash: _, ...identity } = row;
  return identity;
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
  pepper: Pepper,
  now: Date,
) {
  const id = newId("tok");
  const secret = input.secret ?? newSecret(input.kind, id);
  const [row] = await db
    .insert(tokens)
    .values({
      id,
      workspaceId: input.workspaceId,
      kind: input.kind,
      role: input.role,
      name: input.name,
      environmentId: input.environmentId ?? null,
      secretHash: hashSecret(pepper, secret),
      pepperId: pepper.id,
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
