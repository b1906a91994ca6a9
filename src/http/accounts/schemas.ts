import { z } from "@hono/zod-openapi";
import { isValidCidr } from "../../core/cidr.ts";
import { NETWORK_TYPES } from "../../core/enrich/network-types.ts";
import { isValidTimeZone } from "../../core/time.ts";
import type { AccountRow } from "../../store/accounts.ts";
import { AccountRefSchema, SlugSchema } from "../events/schemas.ts";
import { name, printable, text } from "../openapi.ts";

const GroupSchema = printable(64);

export const PinSchema = z
  .object({
    cidrs: z
      .array(z.string().refine(isValidCidr, "must be a CIDR block like 203.0.113.0/24"))
      .max(100)
      .optional(),
    asns: z.array(z.number().int().min(0).max(4294967295)).max(100).optional(),
    countries: z
      .array(z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code"))
      .max(50)
      .optional(),
    regions: z
      .array(z.string().regex(/^[A-Z]{2}-[A-Z0-9]{1,3}$/, "must be an ISO 3166-2 code like US-CA"))
      .max(100)
      .optional(),
    timezones: z.array(z.string().refine(isValidTimeZone, "must be an IANA timezone")).max(20).optional(),
    locales: z.array(z.string().min(2).max(35)).max(20).optional(),
    device_ids: z.array(name(256)).max(100).optional(),
    network_types: z.array(z.enum(NETWORK_TYPES)).max(NETWORK_TYPES.length).optional().openapi({
      description:
        "Kinds of network the account may use (residential ISP, mobile carrier, hosting/datacenter, VPN/proxy)",
    }),
  })
  .strict()
  .openapi("Pin");

export const CreateAccountSchema = z
  .object({
    platform: SlugSchema,
    ref: AccountRefSchema.shape.ref,
    label: text(200).nullable().optional(),
    group: GroupSchema.nullable().optional(),
    pin: PinSchema.nullable().optional(),
  })
  .strict()
  .openapi("CreateAccount");

export const PatchAccountSchema = CreateAccountSchema.omit({ platform: true, ref: true }).openapi(
  "PatchAccount",
);

export const AccountSchema = z
  .object({
    id: z.string(),
    platform: z.string(),
    ref: z.string(),
    label: z.string().nullable(),
    group: z.string().nullable(),
    pin: PinSchema.nullable(),
    state: z.enum(["learning", "established"]),
    event_count: z.number().int(),
    environment_ids: z.array(z.string()),
    first_event_at: z.string().nullable(),
    last_event_at: z.string().nullable(),
    established_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Account");

export const AccountListQuery = z.object({
  platform: SlugSchema.optional(),
  group: GroupSchema.optional(),
  state: z.enum(["learning", "established"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export function accountJson(row: AccountRow, environmentIds: string[]): z.infer<typeof AccountSchema> {
  return {
    id: row.id,
    platform: row.platform,
    ref: row.ref,
    label: row.label,
    group: row.group,
    pin: row.pin,
    state: row.state,
    event_count: row.eventCount,
    environment_ids: environmentIds,
    first_event_at: isoOrNull(row.firstEventAt),
    last_event_at: isoOrNull(row.lastEventAt),
    established_at: isoOrNull(row.establishedAt),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

const BaselineValueSchema = z.object({
  value: z.string(),
  count: z.number().int(),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
  accepted: z.boolean(),
  /** when (event time) the value joined the baseline by itself after a clean streak; null otherwise */
  healed_at: z.string().nullable(),
  /** a quarantined value's way back: its clean uses so far, since when, and whether only a person can accept it */
  heal: z
    .object({ clean_events: z.number().int(), since: z.string().nullable(), blocked: z.boolean() })
    .nullable(),
});

export const BaselineSchema = z
  .object({
    account_id: z.string(),
    state: z.enum(["learning", "established"]),
    pinned: z.boolean(),
    pin: PinSchema.nullable(),
    learning: z.object({
      events: z.number().int(),
      required_events: z.number().int(),
      hours: z.number(),
      required_hours: z.number(),
    }),
    values: z.record(z.string(), z.array(BaselineValueSchema)),
  })
  .openapi("Baseline");

export const StoredEventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    occurred_at: z.string(),
    received_at: z.string(),
    environment_id: z.string().nullable(),
    operator: z.string().nullable(),
    operation: z.string().nullable(),
    result: z.object({
      status: z.string(),
      code: z.string().nullable(),
      http_status: z.number().nullable(),
      message: z.string().nullable(),
    }),
    env: z.object({
      ip: z.string().nullable(),
      ip_class: z.string().nullable(),
      subnet: z.string().nullable(),
      asn: z.number().nullable(),
      asn_org: z.string().nullable(),
      network_type: z.enum(NETWORK_TYPES).nullable(),
      country: z.string().nullable(),
      region: z.string().nullable(),
      city: z.string().nullable(),
      ip_timezone: z.string().nullable(),
      device_id: z.string().nullable(),
      user_agent: z.string().nullable(),
      browser: z.string().nullable(),
      os: z.string().nullable(),
      timezone: z.string().nullable(),
      locale: z.string().nullable(),
      profile: z.string().nullable(),
    }),
    risk: z.number().int(),
    findings: z.array(z.object({ rule: z.string(), severity: z.string(), message: z.string() })),
  })
  .openapi("StoredEvent");
