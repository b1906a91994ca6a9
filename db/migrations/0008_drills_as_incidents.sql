ALTER TABLE "incidents" ADD COLUMN "kind" text DEFAULT 'incident' NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "planned_minutes" integer;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "planned_end_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "scope" jsonb;