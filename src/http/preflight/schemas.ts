import { z } from "@hono/zod-openapi";
import { AccountRefSchema, EventEnvSchema, FindingSchema } from "../events/schemas.ts";
import { IncidentSchema } from "../incidents/schemas.ts";
import { name } from "../openapi.ts";

export const PreflightRequestSchema = z
  .object({
    account: AccountRefSchema,
    operation: z.string().regex(/^[a-z0-9_]{1,64}$/, "must be a lowercase slug"),
    operator: name(128).optional(),
    env: EventEnvSchema.optional(),
  })
  .strict()
  .openapi("PreflightRequest");

export const PreflightResponseSchema = z
  .object({
    decision: z.enum(["allow", "warn", "deny"]),
    reasons: z.array(FindingSchema),
    incident: IncidentSchema.nullable(),
    /** the drill the answer was given in, when the incident is a drill */
    drill_id: z.string().nullable(),
    /** on deny: how a reviewer can allow this one operation for a while, in the reader's language */
    break_glass: z.string().nullable().openapi({
      description: "On `deny`, how a reviewer grants a time-boxed override for this operation; else null",
    }),
  })
  .openapi("PreflightResponse");

export type PreflightRequest = z.infer<typeof PreflightRequestSchema>;
export type PreflightResponse = z.infer<typeof PreflightResponseSchema>;
