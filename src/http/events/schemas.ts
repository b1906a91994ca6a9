import { z } from "@hono/zod-openapi";
import { isValidIp } from "../../core/enrich/ip.ts";
import { EVENT_TYPES } from "../../core/model.ts";
import { isValidTimeZone } from "../../core/time.ts";
import { name, printable, text } from "../openapi.ts";
import { MAX_TIMESTAMP_LENGTH, Timestamp } from "../schemas.ts";

export const MAX_BATCH = 1000;
export const MAX_ATTRIBUTES_BYTES = 4096;
/** The longest value of each string field of an event, in UTF-16 code units (what `max` counts). */
const MAX = {
  id: 128,
  ref: 128,
  operator: 128,
  operation: 64,
  code: 64,
  message: 1024,
  ip: 64,
  deviceId: 256,
  userAgent: 2048,
  timezone: 64,
  locale: 35,
  profile: 128,
} as const;

export const SlugSchema = z.string().regex(/^[a-z0-9_]{1,32}$/, "must be a lowercase slug [a-z0-9_]{1,32}");

export const AccountRefSchema = z
  .object({
    platform: SlugSchema.openapi({ example: "tiktok_shop" }),
    ref: printable(MAX.ref).openapi({ example: "us-store-17" }),
  })
  .strict()
  .openapi("AccountRef");

export const EventEnvSchema = z
  .object({
    ip: z.string().max(MAX.ip).refine(isValidIp, "must be an IPv4 or IPv6 address").optional().openapi({
      description: "public egress IP; the request's source IP when absent",
      example: "203.0.113.7",
    }),
    device_id: name(MAX.deviceId).optional(),
    user_agent: text(MAX.userAgent).optional(),
    timezone: z
      .string()
      .max(MAX.timezone)
      .refine(isValidTimeZone, "must be an IANA timezone name")
      .optional()
      .openapi({ example: "America/Los_Angeles" }),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/, "must be a BCP 47 locale like en-US")
      .max(MAX.locale)
      .optional()
      .openapi({ example: "en-US" }),
    profile: name(MAX.profile, 0).optional(),
  })
  .strict()
  .openapi("EventEnv");

export const EventResultSchema = z
  .object({
    status: z.enum(["ok", "error"]),
    code: z
      .string()
      .max(MAX.code)
      .regex(/^[a-z0-9_]{1,64}$/, "must be a lowercase code")
      .optional(),
    http_status: z.number().int().min(100).max(599).optional(),
    message: text(MAX.message).optional(),
  })
  .strict()
  .openapi("EventResult");

export const EventSchema = z
  .object({
    id: name(MAX.id).openapi({ description: "idempotency key per workspace" }),
    type: z.enum(EVENT_TYPES),
    occurred_at: Timestamp,
    account: AccountRefSchema.optional(),
    operator: name(MAX.operator).optional(),
    operation: z
      .string()
      .max(MAX.operation)
      .regex(/^[a-z0-9_]{1,64}$/, "must be a lowercase slug")
      .optional(),
    result: EventResultSchema.optional(),
    env: EventEnvSchema.optional(),
    attributes: z
      .record(z.string(), z.unknown())
      .refine(
        (a) => Buffer.byteLength(JSON.stringify(a)) <= MAX_ATTRIBUTES_BYTES,
        "must be at most 4 KiB as JSON",
      )
      .refine((a) => !JSON.stringify(a).includes("\\u0000"), "must not contain NUL characters")
      .optional(),
  })
  .strict()
  .openapi("Event", {
    description:
      "Fields not named here are refused (400, the field's path in `details`), so a misspelt field is seen at " +
      "once rather than dropped; anything else an agent wants kept goes in `attributes`.",
  });

export const EventBatchSchema = z
  .object({ events: z.array(EventSchema).min(1).max(MAX_BATCH) })
  .strict()
  .openapi("EventBatch");

/**
 * The most bytes one event takes as JSON.stringify writes it: every string at its longest, in the widest
 * characters its field admits (3 bytes for a name's CJK character, 6 for free text's escaped control
 * character), attributes at their 4 KiB.
 */
function largestEventBytes(): number {
  const ascii = (n: number) => "a".repeat(n);
  const wide = (n: number) => "\u4e2d".repeat(n);
  const escaped = (n: number) => "\u001f".repeat(n);
  const largest = {
    id: wide(MAX.id),
    type: ascii(Math.max(...EVENT_TYPES.map((t) => t.length))),
    occurred_at: ascii(MAX_TIMESTAMP_LENGTH),
    account: { platform: ascii(32), ref: wide(MAX.ref) },
    operator: wide(MAX.operator),
    operation: ascii(MAX.operation),
    result: { status: "error", code: ascii(MAX.code), http_status: 599, message: escaped(MAX.message) },
    env: {
      ip: ascii(MAX.ip),
      device_id: wide(MAX.deviceId),
      user_agent: escaped(MAX.userAgent),
      timezone: ascii(MAX.timezone),
      locale: ascii(MAX.locale),
      profile: wide(MAX.profile),
    },
    attributes: {},
  };
  return Buffer.byteLength(JSON.stringify(largest)) - "{}".length + MAX_ATTRIBUTES_BYTES;
}

/** The largest legal `POST /v1/events` body: 1000 of the largest events, as JSON.stringify writes them. */
export const MAX_INGEST_BODY_BYTES =
  '{"events":[]}'.length + MAX_BATCH * largestEventBytes() + (MAX_BATCH - 1);

export const IngestBodySchema = z.union([EventBatchSchema, EventSchema]);

export const FindingSchema = z
  .object({
    rule: z.string(),
    severity: z.enum(["info", "low", "medium", "high", "critical"]),
    message: z.string(),
  })
  .openapi("Finding");

const RiskLevelSchema = z.object({
  kind: z.string(),
  value: z.string(),
  p_workspace: z.number(),
  p_account: z.number(),
});

export const RiskFactorSchema = z
  .object({
    kind: z.string(),
    value: z.string(),
    log_ratio: z.number(),
    levels: z.array(RiskLevelSchema),
  })
  .openapi("RiskFactor");

export const IngestResponseSchema = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    results: z.array(
      z.object({
        id: z.string(),
        account_id: z.string().nullable(),
        risk: z.number().int().min(0).max(100),
        findings: z.array(FindingSchema),
        risk_factors: z
          .array(RiskFactorSchema)
          .nullable()
          .openapi({
            description:
              "Why `risk` is what it is: each feature hierarchy (network, user agent, device, timezone, locale) with " +
              "its log ratio and, per level, how common the value is in the workspace and for this account before " +
              "the event. Null for an event without an account, and for a duplicate (the stored answer is repeated).",
          }),
      }),
    ),
  })
  .openapi("IngestResponse");

export type EventBody = z.infer<typeof EventSchema>;
export type IngestBody = z.infer<typeof IngestBodySchema>;
export type IngestResponse = z.infer<typeof IngestResponseSchema>;
