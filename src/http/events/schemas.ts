import { z } from "@hono/zod-openapi";
import { isValidIp } from "../../core/enrich/ip.ts";
import { EVENT_TYPES } from "../../core/model.ts";
import { isValidTimeZone } from "../../core/time.ts";
import { name, text } from "../openapi.ts";

export const MAX_BATCH = 1000;
export const MAX_ATTRIBUTES_BYTES = 4096;

export const SlugSchema = z.string().regex(/^[a-z0-9_]{1,32}$/, "must be a lowercase slug [a-z0-9_]{1,32}");

export const AccountRefSchema = z
  .object({
    platform: SlugSchema.openapi({ example: "tiktok_shop" }),
    ref: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^\p{C}]+$/u, "must be printable characters")
      .openapi({ example: "us-store-17" }),
  })
  .strict()
  .openapi("AccountRef");

export const EventEnvSchema = z
  .object({
    ip: z.string().max(64).refine(isValidIp, "must be an IPv4 or IPv6 address").optional().openapi({
      description: "public egress IP; the request's source IP when absent",
      example: "203.0.113.7",
    }),
    device_id: name(256).optional(),
    user_agent: text(2048).optional(),
    timezone: z
      .string()
      .max(64)
      .refine(isValidTimeZone, "must be an IANA timezone name")
      .optional()
      .openapi({ example: "America/Los_Angeles" }),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/, "must be a BCP 47 locale like en-US")
      .max(35)
      .optional()
      .openapi({ example: "en-US" }),
    profile: name(128, 0).optional(),
  })
  .openapi("EventEnv");

export const EventResultSchema = z
  .object({
    status: z.enum(["ok", "error"]),
    code: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/, "must be a lowercase code")
      .optional(),
    http_status: z.number().int().min(100).max(599).optional(),
    message: text(1024).optional(),
  })
  .openapi("EventResult");

export const EventSchema = z
  .object({
    id: name(128).openapi({ description: "idempotency key per workspace" }),
    type: z.enum(EVENT_TYPES),
    occurred_at: z.iso.datetime({ offset: true }).openapi({ example: "2026-01-25T17:32:05Z" }),
    account: AccountRefSchema.optional(),
    operator: name(128).optional(),
    operation: z
      .string()
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
  .openapi("Event");

export const EventBatchSchema = z
  .object({ events: z.array(EventSchema).min(1).max(MAX_BATCH) })
  .openapi("EventBatch");

export const IngestBodySchema = z.union([EventBatchSchema, EventSchema]);

export const FindingSchema = z
  .object({
    rule: z.string(),
    severity: z.enum(["info", "low", "medium", "high", "critical"]),
    message: z.string(),
  })
  .openapi("Finding");

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
      }),
    ),
  })
  .openapi("IngestResponse");

export type EventBody = z.infer<typeof EventSchema>;
export type IngestBody = z.infer<typeof IngestBodySchema>;
export type IngestResponse = z.infer<typeof IngestResponseSchema>;
