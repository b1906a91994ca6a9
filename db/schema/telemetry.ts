import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** One row per accepted event, keyed by the agent's idempotency id. */
export const events = pgTable(
  "events",
  {
    workspaceId: text("workspace_id").notNull(),
    id: text("id").notNull(),
    accountId: text("account_id"),
    environmentId: text("environment_id"),
    type: text("type").notNull(),
    occurredAt: ts("occurred_at").notNull(),
    receivedAt: ts("received_at").notNull(),
    operator: text("operator"),
    operation: text("operation"),
    resultStatus: text("result_status").notNull(),
    resultCode: text("result_code"),
    httpStatus: smallint("http_status"),
    resultMessage: text("result_message"),
    ip: text("ip"),
    ipClass: text("ip_class"),
    subnet: text("subnet"),
    asn: integer("asn"),
    asnOrg: text("asn_org"),
    country: text("country"),
    region: text("region"),
    city: text("city"),
    geoTimezone: text("geo_timezone"),
    lat: doublePrecision("lat"),
    lon: doublePrecision("lon"),
    accuracyKm: integer("accuracy_km"),
    deviceId: text("device_id"),
    userAgent: text("user_agent"),
    browser: text("browser"),
    browserVersion: text("browser_version"),
    os: text("os"),
    deviceType: text("device_type"),
    timezone: text("timezone"),
    locale: text("locale"),
    profile: text("profile"),
    attributes: jsonb("attributes"),
    risk: smallint("risk").notNull(),
    findings: jsonb("findings").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index("events_account_time_idx").on(t.accountId, t.occurredAt),
    // Incident detection counts recent failures across a workspace: only failed events are indexed.
    index("events_failures_idx").on(t.workspaceId, t.occurredAt).where(sql`result_status = 'error'`),
  ],
);

/** What is normal for one account: every value of every feature it was seen with. */
export const baselineValues = pgTable(
  "baseline_values",
  {
    workspaceId: text("workspace_id").notNull(),
    accountId: text("account_id").notNull(),
    kind: text("kind").notNull(),
    value: text("value").notNull(),
    count: integer("count").notNull(),
    firstSeenAt: ts("first_seen_at").notNull(),
    lastSeenAt: ts("last_seen_at").notNull(),
    /** normal for the account: learned while learning, seen without an alert, or trusted by a person */
    accepted: boolean("accepted").notNull().default(false),
    /** the latest event that carried the value: evidence for cross-account links */
    lastEventId: text("last_event_id"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.kind, t.value] }),
    index("baseline_values_lookup_idx").on(t.workspaceId, t.kind, t.value),
  ],
);

/** Workspace-wide value frequencies: the population side of the risk score. value '' holds the kind's total. */
export const featureCounts = pgTable(
  "feature_counts",
  {
    workspaceId: text("workspace_id").notNull(),
    kind: text("kind").notNull(),
    value: text("value").notNull(),
    count: bigint("count", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.kind, t.value] })],
);

/**
 * The history of risky sharing: one row per (kind, value, pair of accounts in different isolation groups),
 * from the event that created the link to the latest one that used it. `account_a` < `account_b`.
 */
export const links = pgTable(
  "links",
  {
    workspaceId: text("workspace_id").notNull(),
    kind: text("kind", { enum: ["device", "ip", "subnet"] }).notNull(),
    value: text("value").notNull(),
    accountA: text("account_a").notNull(),
    accountB: text("account_b").notNull(),
    firstSeenAt: ts("first_seen_at").notNull(),
    lastSeenAt: ts("last_seen_at").notNull(),
    count: integer("count").notNull(),
    firstEventId: text("first_event_id").notNull(),
    lastEventId: text("last_event_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.kind, t.value, t.accountA, t.accountB] }),
    index("links_recent_idx").on(t.workspaceId, t.lastSeenAt),
  ],
);
