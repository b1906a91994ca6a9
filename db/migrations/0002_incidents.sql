CREATE TABLE "incidents" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"platform" text NOT NULL,
	"region" text,
	"title" text NOT NULL,
	"source" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"last_failure_at" timestamp with time zone,
	"evidence" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "overrides" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"account_id" text NOT NULL,
	"operation" text NOT NULL,
	"reason" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "preflights" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"account_id" text,
	"platform" text NOT NULL,
	"ref" text NOT NULL,
	"environment_id" text,
	"operation" text NOT NULL,
	"operator" text,
	"decision" text NOT NULL,
	"reasons" jsonb NOT NULL,
	"incident_id" text,
	"override_id" text,
	"env" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "incidents_workspace_idx" ON "incidents" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "incidents_active_idx" ON "incidents" USING btree ("workspace_id","platform") WHERE status = 'active';--> statement-breakpoint
CREATE INDEX "overrides_account_idx" ON "overrides" USING btree ("account_id","operation","expires_at");--> statement-breakpoint
CREATE INDEX "preflights_account_idx" ON "preflights" USING btree ("account_id","at");--> statement-breakpoint
CREATE INDEX "preflights_workspace_time_idx" ON "preflights" USING btree ("workspace_id","at");--> statement-breakpoint
CREATE INDEX "events_failures_idx" ON "events" USING btree ("workspace_id","occurred_at") WHERE result_status = 'error';