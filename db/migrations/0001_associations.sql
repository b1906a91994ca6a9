CREATE TABLE "links" (
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"account_a" text NOT NULL,
	"account_b" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	"first_event_id" text NOT NULL,
	"last_event_id" text NOT NULL,
	CONSTRAINT "links_workspace_id_kind_value_account_a_account_b_pk" PRIMARY KEY("workspace_id","kind","value","account_a","account_b")
);
--> statement-breakpoint
ALTER TABLE "baseline_values" ADD COLUMN "last_event_id" text;--> statement-breakpoint
CREATE INDEX "links_recent_idx" ON "links" USING btree ("workspace_id","last_seen_at");