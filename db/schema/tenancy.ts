import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const workspaces = pgTable("workspaces", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
  createdAt: ts("created_at").notNull().defaultNow(),
});

export const tokens = pgTable(
  "tokens",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    kind: text("kind", { enum: ["agent", "user"] }).notNull(),
    role: text("role", { enum: ["agent", "viewer", "reviewer", "admin"] }).notNull(),
    name: text("name").notNull(),
    environmentId: text("environment_id"),
    /** HMAC-SHA-256 under the token pepper of the secret's SHA-256 (hex); see src/store/tenancy.ts */
    secretHash: text("secret_hash").notNull().unique(),
    /** which pepper keyed secret_hash; NULL: a plain SHA-256 from before migration 0006, upgraded at start */
    pepperId: text("pepper_id"),
    createdAt: ts("created_at").notNull().defaultNow(),
    revokedAt: ts("revoked_at"),
    lastUsedAt: ts("last_used_at"),
  },
  (t) => [index("tokens_workspace_idx").on(t.workspaceId, t.id)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    actorTokenId: text("actor_token_id"),
    actorName: text("actor_name").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    at: ts("at").notNull(),
  },
  (t) => [
    index("audit_target_idx").on(t.workspaceId, t.targetType, t.targetId),
    index("audit_workspace_idx").on(t.workspaceId, t.id),
  ],
);

/**
 * Keys the server made for itself: the token pepper when TETHER_TOKEN_PEPPER is not set, generated once so that
 * every process (and every restart) hashes tokens alike.
 */
export const serverSecrets = pgTable("server_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});
