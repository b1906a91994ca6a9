import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const alerts = pgTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    rule: text("rule").notNull(),
    severity: text("severity").notNull(),
    status: text("status", { enum: ["open", "acknowledged", "resolved", "dismissed"] }).notNull(),
    accountIds: text("account_ids").array().notNull(),
    incidentId: text("incident_id"),
    key: text("key").notNull(),
    /** rule + sorted accounts + key: the identity an open alert is deduplicated on. */
    dedupKey: text("dedup_key").notNull(),
    summary: text("summary").notNull(),
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull(),
    count: integer("count").notNull(),
    firstSeenAt: ts("first_seen_at").notNull(),
    lastSeenAt: ts("last_seen_at").notNull(),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
    verdict: text("verdict"),
    note: text("note"),
  },
  (t) => [
    uniqueIndex("alerts_live_dedup_uq")
      .on(t.workspaceId, t.dedupKey)
      .where(sql`status in ('open', 'acknowledged')`),
    index("alerts_workspace_idx").on(t.workspaceId, t.id),
    index("alerts_accounts_idx").using("gin", t.accountIds),
  ],
);

/** Decisions taken by `trust` that a rule consults: "this finding, for these accounts and key, is accepted". */
export const allowances = pgTable(
  "allowances",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    rule: text("rule").notNull(),
    accountKey: text("account_key").notNull(),
    key: text("key").notNull(),
    alertId: text("alert_id"),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull(),
    /** episode allowances (hopping, retry storms) lapse; value allowances (a shared device, a route) do not */
    expiresAt: ts("expires_at"),
  },
  (t) => [uniqueIndex("allowances_uq").on(t.workspaceId, t.rule, t.accountKey, t.key)],
);
