CREATE TABLE "drill_verifications" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"scope" jsonb NOT NULL,
	"verdict" text NOT NULL,
	"checked_at" timestamp with time zone NOT NULL,
	"report" jsonb NOT NULL,
	"created_by_token_id" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "drill_verifications" ADD CONSTRAINT "drill_verifications_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "drill_verifications_workspace_idx" ON "drill_verifications" USING btree ("workspace_id","id");