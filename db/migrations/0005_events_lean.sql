-- events keeps only what cannot be derived: subnet, asn_org and geo_timezone follow from the stored ip (readers
-- derive them), the user agent becomes an id into a dictionary, an event without findings stores NULL, and the
-- primary key (workspace_id, id, occurred_at) gives way to a hash index on id. Idempotency never rested on that
-- key (it includes occurred_at): ingest takes a transaction-scoped advisory lock on each event id and looks the
-- id up, which the hash index serves for a fraction of the btree's size.
-- The existing rows are rewritten once, in place, partition by partition: a rewrite squeezes the dropped
-- columns out of every row (a plain DROP COLUMN leaves their bytes in place until each row is updated).
CREATE TABLE "user_agents" (
	"id" bigint PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
-- The id is computed in SQL, here as on ingest, so an event and the dictionary agree without a round trip.
INSERT INTO "user_agents" ("id", "value")
	SELECT DISTINCT hashtextextended("user_agent", 0), "user_agent" FROM "events" WHERE "user_agent" IS NOT NULL
	ON CONFLICT DO NOTHING;
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_workspace_id_id_occurred_at_pk";
--> statement-breakpoint
ALTER TABLE "events" ALTER COLUMN "findings" DROP NOT NULL;
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "ua_id" bigint;
--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "subnet";
--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "asn_org";
--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "geo_timezone";
--> statement-breakpoint
-- The rewrite: a USING expression forces ALTER TABLE to rebuild every row of every partition (all expressions
-- read the old row), which sets the dropped columns to NULL; user_agent is emptied before it is dropped too.
ALTER TABLE "events"
	ALTER COLUMN "ua_id" SET DATA TYPE bigint USING hashtextextended("user_agent", 0),
	ALTER COLUMN "user_agent" SET DATA TYPE text USING NULL,
	ALTER COLUMN "findings" SET DATA TYPE jsonb USING nullif("findings", '[]'::jsonb);
--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "user_agent";
--> statement-breakpoint
-- Partitioned and non-unique: each partition gets its own hash index, and partitions created later get one too.
-- Filled to 100% before a bucket splits (75% by default): ids are unique, so buckets fill evenly, and the
-- index grows by ~15% fewer bytes per event for the price of an occasional overflow page on a lookup.
CREATE INDEX "events_id_idx" ON "events" USING hash ("id") WITH (fillfactor=100);
