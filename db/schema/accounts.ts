import {
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { Pin } from "../../src/core/model.ts";
import { workspaces } from "./tenancy.ts";

export type { Pin };

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const accounts = pgTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    platform: text("platform").notNull(),
    ref: text("ref").notNull(),
    label: text("label"),
    group: text("isolation_group"),
    pin: jsonb("pin").$type<Pin>(),
    state: text("state", { enum: ["learning", "established"] })
      .notNull()
      .default("learning"),
    eventCount: integer("event_count").notNull().default(0),
    firstEventAt: ts("first_event_at"),
    lastEventAt: ts("last_event_at"),
    establishedAt: ts("established_at"),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("accounts_platform_ref_uq").on(t.workspaceId, t.platform, t.ref),
    index("accounts_workspace_idx").on(t.workspaceId, t.id),
  ],
);

export const environments = pgTable(
  "environments",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    name: text("name").notNull(),
    lastHeartbeatAt: ts("last_heartbeat_at"),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [uniqueIndex("environments_name_uq").on(t.workspaceId, t.name)],
);

export const environmentAccounts = pgTable(
  "environment_accounts",
  {
    workspaceId: text("workspace_id").notNull(),
    environmentId: text("environment_id")
      .notNull()
      .references(() => environments.id, { onDelete: "cascade" }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.environmentId, t.accountId] }),
    index("environment_accounts_account_idx").on(t.accountId),
  ],
);
