import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const CHANNEL_KINDS = ["webhook", "dingtalk", "feishu", "wecom", "slack", "pagerduty"] as const;

/** Where a workspace's alerts are sent; managed by admins (docs/notifications.md). */
export const channels = pgTable(
  "channels",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    kind: text("kind", { enum: CHANNEL_KINDS }).notNull(),
    url: text("url").notNull(),
    /** AES-256-GCM under a key derived from the token pepper (docs/adr/0018); never returned after creation */
    secretSealed: text("secret_sealed"),
    minSeverity: text("min_severity").notNull(),
    /** only these rules; NULL: every rule */
    rules: text("rules").array(),
    language: text("language", { enum: ["en", "zh-CN"] }).notNull(),
    enabled: boolean("enabled").notNull(),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [index("channels_workspace_idx").on(t.workspaceId, t.id)],
);

/**
 * One message owed to one channel, written in the transaction that created or moved its alerts, so a crash
 * between the alert and its delivery drops nothing.
 */
export const notificationOutbox = pgTable(
  "notification_outbox",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    channelId: text("channel_id").notNull(),
    /** alert.created, alert.acknowledged, alert.resolved, alert.dismissed */
    event: text("event").notNull(),
    alertIds: text("alert_ids").array().notNull(),
    /** the incident or the account the alerts are grouped under: PagerDuty's dedup_key is built from it */
    groupKey: text("group_key").notNull(),
    status: text("status", { enum: ["pending", "delivered", "dead"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    dueAt: ts("due_at").notNull(),
    createdAt: ts("created_at").notNull(),
    doneAt: ts("done_at"),
  },
  (t) => [index("notification_outbox_due_idx").on(t.dueAt).where(sql`status = 'pending'`)],
);

/** Every attempt to deliver a message (or a test message), as admins see it. */
export const notificationDeliveries = pgTable(
  "notification_deliveries",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    channelId: text("channel_id").notNull(),
    /** NULL for a test message */
    outboxId: text("outbox_id"),
    event: text("event").notNull(),
    attempt: integer("attempt").notNull(),
    /** delivered, retry (will be tried again), failed (given up on) */
    outcome: text("outcome", { enum: ["delivered", "retry", "failed"] }).notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    at: ts("at").notNull(),
  },
  (t) => [index("notification_deliveries_channel_idx").on(t.workspaceId, t.channelId, t.id)],
);
