import { z } from "@hono/zod-openapi";
import { CHANNEL_KINDS } from "../../../db/schema/notifications.ts";
import { SEVERITIES } from "../../core/model.ts";
import { LANGS } from "../../i18n/index.ts";
import type { ChannelRow, DeliveryRow } from "../../store/notifications.ts";
import { name, RULES, text } from "../openapi.ts";

const RULE_IDS = RULES.map((r) => r.id) as [string, ...string[]];

const settings = {
  name: name(128),
  url: text(2_048, 1).openapi({
    description: "http or https, without credentials; PagerDuty defaults to its Events API v2 endpoint",
  }),
  min_severity: z.enum(SEVERITIES),
  rules: z
    .array(z.enum(RULE_IDS))
    .min(1)
    .max(64)
    .nullable()
    .openapi({ description: "only alerts of these rules; null: every rule" }),
  language: z.enum(LANGS),
  enabled: z.boolean(),
  secret: text(512, 1).openapi({
    description:
      "the robot's signing secret (dingtalk, feishu) or the routing key (pagerduty); webhooks get a generated one",
  }),
};

export const CreateChannel = z
  .object({
    name: settings.name,
    kind: z.enum(CHANNEL_KINDS),
    url: settings.url.optional(),
    secret: settings.secret.optional(),
    min_severity: settings.min_severity.default("medium"),
    rules: settings.rules.default(null),
    language: settings.language.optional().openapi({
      description: "zh-CN for DingTalk, Feishu and WeCom unless given, en for the others",
    }),
    enabled: settings.enabled.default(true),
  })
  .strict()
  .refine((b) => b.url !== undefined || b.kind === "pagerduty", { message: "url is required", path: ["url"] })
  .openapi("CreateChannel");

export const PatchChannel = z
  .object({
    name: settings.name,
    url: settings.url,
    secret: settings.secret.nullable(),
    min_severity: settings.min_severity,
    rules: settings.rules,
    language: settings.language,
    enabled: settings.enabled,
  })
  .partial()
  .strict()
  .openapi("PatchChannel");

export const ChannelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(CHANNEL_KINDS),
    url: z.string(),
    has_secret: z.boolean().openapi({ description: "a secret is stored; it is never shown after creation" }),
    min_severity: z.enum(SEVERITIES),
    rules: z.array(z.string()).nullable(),
    language: z.enum(LANGS),
    enabled: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Channel");

export const DeliverySchema = z
  .object({
    id: z.string(),
    channel_id: z.string(),
    message_id: z.string().nullable().openapi({ description: "the outbox message; null for a test message" }),
    event: z.string(),
    attempt: z.number().int(),
    outcome: z.enum(["delivered", "retry", "failed"]),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    duration_ms: z.number().int(),
    at: z.string(),
  })
  .openapi("Delivery");

export const channelJson = (c: ChannelRow): z.infer<typeof ChannelSchema> => ({
  id: c.id,
  name: c.name,
  kind: c.kind,
  url: c.url,
  has_secret: c.secretSealed !== null,
  min_severity: c.minSeverity as z.infer<typeof ChannelSchema>["min_severity"],
  rules: c.rules,
  language: c.language,
  enabled: c.enabled,
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
});

export const deliveryJson = (d: DeliveryRow): z.infer<typeof DeliverySchema> => ({
  id: d.id,
  channel_id: d.channelId,
  message_id: d.outboxId,
  event: d.event,
  attempt: d.attempt,
  outcome: d.outcome,
  status_code: d.statusCode,
  error: d.error,
  duration_ms: d.durationMs,
  at: d.at.toISOString(),
});
