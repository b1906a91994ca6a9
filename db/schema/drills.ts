import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { workspaces } from "./tenancy.ts";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * Every pre-drill verification that was run: its scope, verdict and full report (in language-neutral form:
 * each check's detail is a message key with parameters, worded for whoever reads it later).
 */
export const drillVerifications = pgTable(
  "drill_verifications",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    scope: jsonb("scope").$type<Record<string, unknown>>().notNull(),
    verdict: text("verdict", { enum: ["pass", "fail"] }).notNull(),
    checkedAt: ts("checked_at").notNull(),
    report: jsonb("report").$type<Record<string, unknown>>().notNull(),
    /** the token that ran it: its id and name */
    createdByTokenId: text("created_by_token_id"),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [index("drill_verifications_workspace_idx").on(t.workspaceId, t.id)],
);
