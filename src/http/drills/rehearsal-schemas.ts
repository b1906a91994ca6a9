import { z } from "@hono/zod-openapi";
import { type DrillReport, type DrillView, drillView, FIGURES } from "../../core/drill-report.ts";
import type { IncidentRow } from "../../store/incidents.ts";
import { SlugSchema } from "../events/schemas.ts";
import { IncidentSchema, ReviewSchema } from "../incidents/schemas.ts";
import { name } from "../openapi.ts";

export const StartDrillSchema = z
  .object({
    platform: SlugSchema,
    scope: z
      .union([
        z.object({ group: name(64) }).strict(),
        z.object({ account_ids: z.array(name(128)).min(1).max(1000) }).strict(),
      ])
      .optional(),
    title: name(200).optional(),
    planned_minutes: z.number().int().min(1).max(1440),
  })
  .strict()
  .openapi("StartDrill");

export const DrillSchema = z
  .object({
    id: z.string(),
    platform: z.string(),
    title: z.string(),
    scope: z.object({ group: z.string().nullable(), account_ids: z.array(z.string()).nullable() }),
    planned_minutes: z.number().int(),
    status: z.enum(["active", "closed"]),
    started_at: z.string(),
    planned_end_at: z.string(),
    ended_at: z.string().nullable(),
    started_by: z.string(),
  })
  .openapi("Drill");

export function drillJson(row: IncidentRow): DrillView {
  return drillView(row);
}

const Figures = z.object(
  Object.fromEntries(FIGURES.map((f) => [f, z.number().nullable()])) as Record<
    (typeof FIGURES)[number],
    z.ZodNullable<z.ZodNumber>
  >,
);

export const DrillSummarySchema = DrillSchema.extend({ figures: Figures }).openapi("DrillSummary");

const Improvised = ReviewSchema.shape.improvised_actions;

export const DrillReportSchema = z
  .object({
    drill: DrillSchema,
    window: z.object({ from: z.string(), to: z.string() }),
    figures: Figures,
    participants: z.object({
      accounts: z.array(
        z.object({ account_id: z.string(), platform: z.string(), ref: z.string(), events: z.number().int() }),
      ),
      environments: z.array(
        z.object({ environment_id: z.string(), name: z.string(), events: z.number().int() }),
      ),
    }),
    improvised_actions: Improvised,
    preflight_compliance: z.object({
      ask_window_minutes: z.number().int(),
      by_account: z.array(
        z.object({
          account_id: z.string(),
          platform: z.string(),
          ref: z.string(),
          asked_first: z.number().int(),
          without_asking: z.number().int(),
        }),
      ),
    }),
    acknowledgement: z.object({
      first_alert_at: z.string().nullable(),
      first_answer_at: z.string().nullable(),
      seconds: z.number().int().nullable(),
    }),
    real_incidents: z.array(IncidentSchema),
    comparison: z
      .object({
        previous_drill_id: z.string(),
        previous_started_at: z.string(),
        changes: z.array(
          z.object({
            figure: z.enum(FIGURES),
            current: z.number().nullable(),
            previous: z.number().nullable(),
            change: z.number().nullable(),
            improved: z.boolean().nullable(),
          }),
        ),
      })
      .nullable(),
  })
  .openapi("DrillReport");

export type DrillReportJson = z.infer<typeof DrillReportSchema>;

/** Compile-time guard: the core `DrillReport` and the schema describe the same JSON. */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type DrillReportMatchesSchema = Holds<Mutual<DrillReport, DrillReportJson>>;
