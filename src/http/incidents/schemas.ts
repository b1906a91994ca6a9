import { z } from "@hono/zod-openapi";
import {
  incidentView,
  LESSON_CODES,
  REVIEW_CATEGORIES,
  type Review,
  TIMELINE_KINDS,
} from "../../core/review.ts";
import type { IncidentRow } from "../../store/incidents.ts";

const Window = z.object({ from: z.string(), to: z.string() });
const Rate = z.object({
  ok: z.number().int(),
  total: z.number().int(),
  /** ok / total, 3 decimals; null when nothing was tried */
  rate: z.number().nullable(),
});

/** An incident as the API shows it (the incident routes answer with it too, and so does preflight). */
export const IncidentSchema = z
  .object({
    id: z.string(),
    platform: z.string(),
    region: z.string().nullable(),
    title: z.string(),
    source: z.enum(["declared", "detected"]),
    kind: z.enum(["incident", "drill"]).openapi({
      description: "`drill` for a fault drill (POST /v1/drills): the same rules apply, but it is a rehearsal",
    }),
    status: z.enum(["active", "closed"]),
    started_at: z.string(),
    ended_at: z.string().nullable(),
    evidence: z.record(z.string(), z.unknown()),
  })
  .openapi("Incident");

export function incidentJson(i: IncidentRow): z.infer<typeof IncidentSchema> {
  return incidentView(i);
}

export const ReviewSchema = z
  .object({
    incident: IncidentSchema,
    detection: z
      .object({ first_failure_at: z.string(), quorum_met_at: z.string(), latency_seconds: z.number().int() })
      .nullable()
      .openapi({
        description:
          "For a detected incident: event time from the first platform-side failure to the failure that met the " +
          "quorum. Null for a declared incident or a drill.",
      }),
    windows: z.object({ before: Window, during: Window, after: Window.nullable() }),
    timeline: z.array(
      z.object({
        at: z.string(),
        kind: z.enum(TIMELINE_KINDS),
        summary: z.string(),
        account_id: z.string().optional(),
        operator: z.string().optional(),
        operation: z.string().optional(),
      }),
    ),
    improvised_actions: z.array(
      z.object({
        account_id: z.string(),
        platform: z.string(),
        ref: z.string(),
        operator: z.string().nullable(),
        network_switches: z.array(
          z.object({ at: z.string(), ip: z.string(), asn: z.number().int().nullable() }),
        ),
        retry_storms: z.number().int(),
        sensitive_operations: z.array(z.object({ at: z.string(), operation: z.string() })),
        preflight_denials: z.number().int(),
        overrides: z.number().int(),
      }),
    ),
    success_rates: z.array(
      z.object({
        platform: z.string(),
        category: z.enum(REVIEW_CATEGORIES),
        before: Rate,
        during: Rate,
        after: Rate.nullable(),
      }),
    ),
    operations_during: z.array(
      z.object({ operation: z.string(), count: z.number().int(), accounts: z.number().int() }),
    ),
    failure_codes: z.object({
      platform_side: z.record(z.string(), z.number().int()),
      account_side: z.record(z.string(), z.number().int()),
    }),
    alerts: z.array(
      z.object({
        id: z.string(),
        rule: z.string(),
        severity: z.string(),
        status: z.string(),
        verdict: z.string().nullable(),
        note: z.string().nullable(),
        summary: z.string(),
        account_ids: z.array(z.string()),
        count: z.number().int(),
        first_seen_at: z.string(),
        last_seen_at: z.string(),
      }),
    ),
    lessons: z.array(z.string()),
    lesson_details: z.array(
      z.object({
        code: z.enum(LESSON_CODES),
        params: z.record(z.string(), z.union([z.string(), z.number()])),
      }),
    ),
  })
  .openapi("IncidentReview");

export type ReviewJson = z.infer<typeof ReviewSchema>;

/**
 * Compile-time guard: the core `Review` and the schema describe the same JSON, each assignable to the other
 * (a field added to one side only, or typed differently, fails `tsc`). The route also `satisfies` it.
 */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type ReviewMatchesSchema = Holds<Mutual<Review, ReviewJson>>;
