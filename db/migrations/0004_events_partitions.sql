-- events becomes RANGE-partitioned by week on occurred_at, so retention drops whole partitions instead of
-- deleting rows. A partitioned table's primary key must include the partition key. There is deliberately no
-- DEFAULT partition: rows in it would stop a partition for their week from being created later.
-- Partitions are created ahead of time by src/store/partitions.ts; this migration creates only those the
-- existing rows need.
ALTER TABLE "events" RENAME TO "events_unpartitioned";
--> statement-breakpoint
DROP INDEX "events_account_time_idx";
--> statement-breakpoint
DROP INDEX "events_failures_idx";
--> statement-breakpoint
CREATE TABLE "events" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"account_id" text,
	"environment_id" text,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"operator" text,
	"operation" text,
	"result_status" text NOT NULL,
	"result_code" text,
	"http_status" smallint,
	"result_message" text,
	"ip" text,
	"ip_class" text,
	"subnet" text,
	"asn" integer,
	"asn_org" text,
	"country" text,
	"region" text,
	"city" text,
	"geo_timezone" text,
	"lat" double precision,
	"lon" double precision,
	"accuracy_km" integer,
	"device_id" text,
	"user_agent" text,
	"browser" text,
	"browser_version" text,
	"os" text,
	"device_type" text,
	"timezone" text,
	"locale" text,
	"profile" text,
	"attributes" jsonb,
	"risk" smallint NOT NULL,
	"findings" jsonb NOT NULL,
	CONSTRAINT "events_workspace_id_id_occurred_at_pk" PRIMARY KEY("workspace_id","id","occurred_at")
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE INDEX "events_account_time_idx" ON "events" USING btree ("account_id","occurred_at");
--> statement-breakpoint
CREATE INDEX "events_failures_idx" ON "events" USING btree ("workspace_id","occurred_at") WHERE result_status = 'error';
--> statement-breakpoint
-- One partition per week [Monday 00:00 UTC, next Monday) from the oldest to the newest existing event,
-- named events_wYYYYMMDD after its Monday, as src/store/partitions.ts names them.
DO $$
DECLARE
	week timestamptz;
	newest timestamptz;
BEGIN
	SELECT date_trunc('week', min("occurred_at") AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', max("occurred_at")
		INTO week, newest FROM "events_unpartitioned";
	WHILE week <= newest LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF "events" FOR VALUES FROM (%L) TO (%L)',
			'events_w' || to_char(week AT TIME ZONE 'UTC', 'YYYYMMDD'), week, week + interval '7 days');
		week := week + interval '7 days';
	END LOOP;
END $$;
--> statement-breakpoint
INSERT INTO "events" ("workspace_id", "id", "account_id", "environment_id", "type", "occurred_at", "received_at", "operator", "operation", "result_status", "result_code", "http_status", "result_message", "ip", "ip_class", "subnet", "asn", "asn_org", "country", "region", "city", "geo_timezone", "lat", "lon", "accuracy_km", "device_id", "user_agent", "browser", "browser_version", "os", "device_type", "timezone", "locale", "profile", "attributes", "risk", "findings")
	SELECT "workspace_id", "id", "account_id", "environment_id", "type", "occurred_at", "received_at", "operator", "operation", "result_status", "result_code", "http_status", "result_message", "ip", "ip_class", "subnet", "asn", "asn_org", "country", "region", "city", "geo_timezone", "lat", "lon", "accuracy_km", "device_id", "user_agent", "browser", "browser_version", "os", "device_type", "timezone", "locale", "profile", "attributes", "risk", "findings" FROM "events_unpartitioned";
--> statement-breakpoint
DROP TABLE "events_unpartitioned";
--> statement-breakpoint
-- Each server process adds population counts to its own shard: concurrent ingest never waits on the same rows.
ALTER TABLE "feature_counts" ADD COLUMN "shard" smallint DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE "feature_counts" DROP CONSTRAINT "feature_counts_workspace_id_kind_value_pk";
--> statement-breakpoint
ALTER TABLE "feature_counts" ADD CONSTRAINT "feature_counts_workspace_id_kind_value_shard_pk" PRIMARY KEY("workspace_id","kind","value","shard");