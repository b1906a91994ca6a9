-- Tokens: the first characters of each secret (`prefix`) are dropped; a token is named by its id only.
-- secret_hash becomes a keyed hash (HMAC under the token pepper, see src/store/tenancy.ts): rows from before
-- this migration keep their plain SHA-256 with pepper_id NULL, and the server re-keys them at start.
CREATE TABLE "server_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "pepper_id" text;--> statement-breakpoint
CREATE INDEX "audit_workspace_idx" ON "audit_log" USING btree ("workspace_id","id");--> statement-breakpoint
ALTER TABLE "tokens" DROP COLUMN "prefix";
--> statement-breakpoint
-- The audit log is append-only for every client of the database, not only for tether's code: UPDATE, DELETE
-- and TRUNCATE raise. Removing rows takes a superuser disabling the trigger, which is itself visible.
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_log_no_change" BEFORE UPDATE OR DELETE ON "audit_log"
	FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();
--> statement-breakpoint
CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log"
	FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"();
