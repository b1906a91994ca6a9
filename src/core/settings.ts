import { z } from "zod";
import { SENSITIVE_OPERATIONS, SEVERITIES, type Settings } from "./model.ts";

/** What an admin may override per workspace; everything else comes from the environment. */
export const WorkspaceSettingsSchema = z
  .object({
    learning_events: z.number().int().min(1).max(100_000),
    learning_hours: z
      .number()
      .min(0)
      .max(24 * 365),
    max_kmh: z.number().positive().max(100_000),
    share_days: z.number().positive().max(3650),
    retry_limit: z.number().int().min(2).max(1000),
    alert_min_severity: z.enum(SEVERITIES),
    extra_sensitive_operations: z.array(z.string().regex(/^[a-z0-9_]{1,64}$/)).max(100),
    shared_subnet_enabled: z.boolean(),
    shared_subnet_ipv4_prefix: z.number().int().min(8).max(32),
    shared_subnet_ipv6_prefix: z.number().int().min(16).max(128),
    incident_window_minutes: z.number().int().min(1).max(240),
    incident_quorum: z.number().gt(0).max(1),
    incident_min_accounts: z.number().int().min(1).max(10_000),
    incident_min_networks: z.number().int().min(1).max(100),
    heal_events: z.number().int().min(1).max(100_000),
    heal_hours: z
      .number()
      .min(0)
      .max(24 * 365),
    incident_hold_minutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
  })
  .partial()
  .strict();
export type WorkspaceSettings = z.infer<typeof WorkspaceSettingsSchema>;

/** The server-wide defaults (from the environment) a workspace may override. */
export interface SettingsDefaults {
  TETHER_LEARNING_EVENTS: number;
  TETHER_LEARNING_HOURS: number;
  TETHER_MAX_KMH: number;
  TETHER_SHARE_DAYS: number;
  TETHER_RETRY_LIMIT: number;
  TETHER_HEAL_EVENTS: number;
  TETHER_HEAL_HOURS: number;
}

export function resolveSettings(env: SettingsDefaults, stored: unknown): Settings {
  const parsed = WorkspaceSettingsSchema.safeParse(stored ?? {});
  const ws: WorkspaceSettings = parsed.success ? parsed.data : {};
  return {
    learningEvents: ws.learning_events ?? env.TETHER_LEARNING_EVENTS,
    learningHours: ws.learning_hours ?? env.TETHER_LEARNING_HOURS,
    maxKmh: ws.max_kmh ?? env.TETHER_MAX_KMH,
    shareDays: ws.share_days ?? env.TETHER_SHARE_DAYS,
    retryLimit: ws.retry_limit ?? env.TETHER_RETRY_LIMIT,
    alertMinSeverity: ws.alert_min_severity ?? "medium",
    sensitiveOperations: [...SENSITIVE_OPERATIONS, ...(ws.extra_sensitive_operations ?? [])],
    incident: {
      windowMinutes: ws.incident_window_minutes ?? 10,
      quorum: ws.incident_quorum ?? 0.3,
      minAccounts: ws.incident_min_accounts ?? 3,
      minNetworks: ws.incident_min_networks ?? 2,
      holdMinutes: ws.incident_hold_minutes ?? 15,
    },
    heal: { events: ws.heal_events ?? env.TETHER_HEAL_EVENTS, hours: ws.heal_hours ?? env.TETHER_HEAL_HOURS },
    sharedSubnet: {
      enabled: ws.shared_subnet_enabled ?? true,
      ipv4Prefix: ws.shared_subnet_ipv4_prefix ?? 24,
      ipv6Prefix: ws.shared_subnet_ipv6_prefix ?? 48,
    },
  };
}
