ALTER TABLE "baseline_values" ADD COLUMN "heal_events" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "baseline_values" ADD COLUMN "heal_first_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "baseline_values" ADD COLUMN "heal_last_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "baseline_values" ADD COLUMN "heal_blocked" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "baseline_values" ADD COLUMN "healed_at" timestamp with time zone;