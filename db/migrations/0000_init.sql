CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"platform" text NOT NULL,
	"ref" text NOT NULL,
	"label" text,
	"isolation_group" text,
	"pin" jsonb,
	"state" text DEFAULT 'learning' NOT NULL,
	"event_count" integer DEFAULT 0 NOT NULL,
	"first_event_at" timestamp with time zone,
	"last_event_at" timestamp with time zone,
	"established_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "environment_accounts" (
	"workspace_id" text NOT NULL,
	"environment_id" text NOT NULL,
	"account_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "environment_accounts_environment_id_account_id_pk" PRIMARY KEY("environment_id","account_id")
);
--> statement-breakpoint
CREATE TABLE "environments" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"last_heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"rule" text NOT NULL,
	"severity" text NOT NULL,
	"status" text NOT NULL,
	"account_ids" text[] NOT NULL,
	"incident_id" text,
	"key" text NOT NULL,
	"dedup_key" text NOT NULL,
	"summary" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"count" integer NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"verdict" text,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "allowances" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"rule" text NOT NULL,
	"account_key" text NOT NULL,
	"key" text NOT NULL,
	"alert_id" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "baseline_values" (
	"workspace_id" text NOT NULL,
	"account_id" text NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"count" integer NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"accepted" boolean DEFAULT false NOT NULL,
	CONSTRAINT "baseline_values_account_id_kind_value_pk" PRIMARY KEY("account_id","kind","value")
);
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
	CONSTRAINT "events_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "feature_counts" (
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"value" text NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "feature_counts_workspace_id_kind_value_pk" PRIMARY KEY("workspace_id","kind","value")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"actor_token_id" text,
	"actor_name" text NOT NULL,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"role" text NOT NULL,
	"name" text NOT NULL,
	"environment_id" text,
	"secret_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "tokens_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" text PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspaces_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environment_accounts" ADD CONSTRAINT "environment_accounts_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environment_accounts" ADD CONSTRAINT "environment_accounts_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_platform_ref_uq" ON "accounts" USING btree ("workspace_id","platform","ref");--> statement-breakpoint
CREATE INDEX "accounts_workspace_idx" ON "accounts" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "environment_accounts_account_idx" ON "environment_accounts" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "environments_name_uq" ON "environments" USING btree ("workspace_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_live_dedup_uq" ON "alerts" USING btree ("workspace_id","dedup_key") WHERE status in ('open', 'acknowledged');--> statement-breakpoint
CREATE INDEX "alerts_workspace_idx" ON "alerts" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "alerts_accounts_idx" ON "alerts" USING gin ("account_ids");--> statement-breakpoint
CREATE UNIQUE INDEX "allowances_uq" ON "allowances" USING btree ("workspace_id","rule","account_key","key");--> statement-breakpoint
CREATE INDEX "baseline_values_lookup_idx" ON "baseline_values" USING btree ("workspace_id","kind","value");--> statement-breakpoint
CREATE INDEX "events_account_time_idx" ON "events" USING btree ("account_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_target_idx" ON "audit_log" USING btree ("workspace_id","target_type","target_id");--> statement-breakpoint
CREATE INDEX "tokens_workspace_idx" ON "tokens" USING btree ("workspace_id","id");