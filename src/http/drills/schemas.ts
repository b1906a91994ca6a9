import { z } from "@hono/zod-openapi";
import { DRILL_CHECKS } from "../../core/drill-verify.ts";
import { SlugSchema } from "../events/schemas.ts";
import { printable } from "../openapi.ts";

/** At most this many account ids in one scope. */
export const MAX_SCOPE_IDS = 500;

const GroupSchema = printable(64);

const AccountIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

/** Query scope: `account_ids` is one comma-separated list. */
export const ScopeQuerySchema = z.object({
  platform: SlugSchema.optional(),
  group: GroupSchema.optional(),
  account_ids: z
    .string()
    .max(MAX_SCOPE_IDS * 129)
    .regex(/^[\x21-\x2b\x2d-\x7e]+(,[\x21-\x2b\x2d-\x7e]+)*$/, "must be account ids separated by commas")
    .optional()
    .openapi({ description: "comma-separated account ids", example: "acc_01j…,acc_01k…" }),
});

export const ScopeBodySchema = z
  .object({
    platform: SlugSchema.optional(),
    group: GroupSchema.optional(),
    account_ids: z.array(AccountIdSchema).min(1).max(MAX_SCOPE_IDS).optional(),
  })
  .strict()
  .openapi("DrillScope");

const CheckSchema = z.object({
  check: z.enum(DRILL_CHECKS),
  ok: z.boolean(),
  /** in the request's language */
  detail: z.string(),
});

const AccountReportSchema = z.object({
  account_id: z.string(),
  platform: z.string(),
  ref: z.string(),
  checks: z.array(CheckSchema),
});

const ReportFields = {
  id: z.string().openapi({ description: "the saved run: GET /v1/drills/verifications/{id}" }),
  verdict: z.enum(["pass", "fail"]),
  checked_at: z.string(),
  summary: z.string(),
  accounts: z.array(AccountReportSchema),
  failed: z
    .array(AccountReportSchema)
    .openapi({ description: "the accounts that failed, each with only its failing checks" }),
};

export const DrillReportSchema = z.object(ReportFields).openapi("DrillReport");

const SavedScopeSchema = z.object({
  platform: z.string().optional(),
  group: z.string().optional(),
  account_ids: z.array(z.string()).optional(),
});

export const SavedRunSchema = z
  .object({ ...ReportFields, scope: SavedScopeSchema, created_by: z.string() })
  .openapi("DrillVerification");

export const SavedRunSummarySchema = z
  .object({
    id: z.string(),
    scope: SavedScopeSchema,
    verdict: z.enum(["pass", "fail"]),
    checked_at: z.string(),
    summary: z.string(),
    accounts: z.number().int(),
    failed: z.number().int(),
    created_by: z.string(),
  })
  .openapi("DrillVerificationSummary");
