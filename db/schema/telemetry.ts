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

/**
 * One row per accepted event, keyed by the agent's idempotency id. Migration 0004 makes the table
 * RANGE-partitioned by week on occurred_at (drizzle cannot declare that): retention drops whole partitions
 * (src/store/partitions.ts), and a partition must exist before an event of its week is inserted.
 *
 * Kept lean (migration 0005): what the stored ip determines is not stored — readers derive the subnet in SQL
 * and the ASN's organisation and the IP's timezone with the enricher — and the user agent is an id into
 * `user_agents`. An event without findings stores NULL: read `coalesce(findings, '[]'::jsonb)`.
 */
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
    /** canonical form (src/core/enrich/ip.ts); the subnet, ASN organisation and IP timezone derive from it */
    ip: text("ip"),
    ipClass: text("ip_class"),
    asn: integer("asn"),
    country: text("country"),
    region: text("region"),
    city: text("city"),
    lat: doublePrecision("lat"),
    lon: doublePrecision("lon"),
    accuracyKm: integer("accuracy_km"),
    deviceId: text("device_id"),
    /** `user_agents.id` of the event's user agent: hashtextextended(value, 0), computed in SQL */
    uaId: bigint("ua_id", { mode: "bigint" }),
    browser: text("browser"),
    browserVersion: text("browser_version"),
    os: text("os"),
    deviceType: text("device_type"),
    timezone: text("timezone"),
    locale: text("locale"),
    profile: text("profile"),
    attributes: jsonb("attributes"),
    risk: smallint("risk").notNull(),
    /** NULL when the event has no findings */
    findings: jsonb("findings"),
  },
  (t) => [
    // No primary key: a partitioned table's unique keys must include the partition key, so one could not
    // enforce idempotency on (workspace_id, id) anyway, and its btree cost ~140 B per event. Ingest enforces it
    // with a transaction-scoped advisory lock on each event id plus a `workspace_id = $ and id = $` lookup,
    // which this non-unique, partitioned hash index on id serves: 20 B an entry, 30–50 B per event with its
    // half-filled buckets. Unique ids fill buckets evenly, so they split only when full (fillfactor 100, not 75).
    index("events_id_idx").using("hash", t.id).with({ fillfactor: 100 }),
    index("events_account_time_idx").on(t.accountId, t.occurredAt),
    // Incident detection counts recent failures across a workspace: only failed events are indexed.
    index("events_failures_idx").on(t.workspaceId, t.occurredAt).where(sql`result_status = 'error'`),
  ],
);

/**
 * SQL for the subnet of an event's stored ip (`ip` is the column's SQL, e.g. "e.ip"): its /24 (IPv4) or /48
 * (IPv6) network as text, e.g. '203.0.113.0/24' or '2001:db8:1::/48', exactly as src/core/enrich/ip.ts writes
 * it; NULL without an ip.
 */
export const ipSubnetSql = (ip: string) =>
  `network(set_masklen(${ip}::inet, case when family(${ip}::inet) = 4 then 24 else 48 end))::text`;

/**
 * The user agents events were sent with, once each: `events.ua_id` refers here (no foreign key). The id is
 * hashtextextended(value, 0), computed in SQL by whoever inserts, so an event and its dictionary row agree
 * without a round trip.
 */
export const userAgents = pgTable("user_agents", {
  id: bigint("id", { mode: "bigint" }).primaryKey(),
  value: text("value").notNull(),
});

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
    /** a quarantined value's clean streak (uses without another deviation) and its span; see docs/adr/0003 */
    healEvents: integer("heal_events").notNull().default(0),
    healFirstAt: ts("heal_first_at"),
    healLastAt: ts("heal_last_at"),
    /** behind a high/critical finding, a pin violation or sharing: only a person can accept it */
    healBlocked: boolean("heal_blocked").notNull().default(false),
    /** when (event time) the value healed into the baseline by itself */
    healedAt: ts("healed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.kind, t.value] }),
    index("baseline_values_lookup_idx").on(t.workspaceId, t.kind, t.value),
  ],
);

/**
 * Workspace-wide value frequencies: the population side of the risk score. value '' holds the kind's total.
 * Each server process adds only to its own shard, so concurrent ingest never waits on the same rows;
 * a value's count is the sum over its shards.
 */
export const featureCounts = pgTable(
  "feature_counts",
  {
    workspaceId: text("workspace_id").notNull(),
    kind: text("kind").notNull(),
    value: text("value").notNull(),
    shard: smallint("shard").notNull().default(0),
    count: bigint("count", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.kind, t.value, t.shard] })],
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
