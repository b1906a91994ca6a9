import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** A window in which a platform (optionally one region) is failing: declared by a person or detected. */
export const incidents = pgTable(
  "incidents",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    platform: text("platform").notNull(),
    /** ISO 3166 country or subdivision ("US", "US-CA"); null: everywhere */
    region: text("region"),
    title: text("title").notNull(),
    source: text("source", { enum: ["declared", "detected"] }).notNull(),
    status: text("status", { enum: ["active", "closed"] }).notNull(),
    startedAt: ts("started_at").notNull(),
    endedAt: ts("ended_at"),
    /** detected incidents close after failures stop for the hold period, counted from here */
    lastFailureAt: ts("last_failure_at"),
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
    /** a drill is a declared incident rehearsed on purpose (docs/adr/0019); the rules see an incident either way */
    kind: text("kind", { enum: ["incident", "drill"] })
      .notNull()
      .default("incident"),
    /** drills only: the rehearsed length, and the instant the drill ends by itself */
    plannedMinutes: integer("planned_minutes"),
    plannedEndAt: ts("planned_end_at"),
    /** drills only: the accounts the drill is about, narrower than the platform (`{group}` or `{account_ids}`) */
    scope: jsonb("scope").$type<{ group?: string; account_ids?: string[] }>(),
  },
  (t) => [
    index("incidents_workspace_idx").on(t.workspaceId, t.id),
    index("incidents_active_idx").on(t.workspaceId, t.platform).where(sql`status = 'active'`),
  ],
);

/** Every preflight question and its answer, for audit and the post-incident review; never a baseline input. */
export const preflights = pgTable(
  "preflights",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id"),
    platform: text("platform").notNull(),
    ref: text("ref").notNull(),
    environmentId: text("environment_id"),
    operation: text("operation").notNull(),
    operator: text("operator"),
    decision: text("decision", { enum: ["allow", "warn", "deny"] }).notNull(),
    reasons: jsonb("reasons").notNull(),
    incidentId: text("incident_id"),
    overrideId: text("override_id"),
    env: jsonb("env").notNull(),
    at: ts("at").notNull(),
  },
  (t) => [
    index("preflights_account_idx").on(t.accountId, t.at),
    index("preflights_workspace_time_idx").on(t.workspaceId, t.at),
  ],
);

/** Break-glass: a reviewer lets one account do one operation despite preflight, until it expires. */
export const overrides = pgTable(
  "overrides",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    operation: text("operation").notNull(),
    reason: text("reason").notNull(),
    expiresAt: ts("expires_at").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull(),
    revokedAt: ts("revoked_at"),
  },
  (t) => [index("overrides_account_idx").on(t.accountId, t.operation, t.expiresAt)],
);
