import type { Pin } from "../../db/schema/accounts.ts";
import type { BaselineKind } from "./baseline.ts";
import type { NetInfo, UaInfo } from "./enrich/types.ts";

export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export const EVENT_TYPES = ["login", "operation", "heartbeat"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SENSITIVE_OPERATIONS = [
  "profile_edit",
  "permission_change",
  "binding_change",
  "payment_change",
  "password_change",
  "email_change",
  "phone_change",
  "bank_account_change",
] as const;

/** One finding of one rule on one event; findings worth a look become alerts. */
export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  /** what the finding is about (an IP, a device id, a country …): part of the alert's identity */
  key: string;
  accountIds: string[];
  evidence: Record<string, unknown>;
  /** the baseline values the finding is about: kept out of the baseline while it alerts, accepted by `trust` */
  about?: Array<[BaselineKind, string]>;
}

/** An accepted event after validation and enrichment; times are epoch milliseconds. */
export interface EnrichedEvent {
  id: string;
  type: EventType;
  occurredAt: number;
  operator: string | null;
  operation: string | null;
  result: { status: "ok" | "error"; code: string | null; httpStatus: number | null; message: string | null };
  net: NetInfo | null;
  ua: UaInfo | null;
  userAgent: string | null;
  deviceId: string | null;
  timezone: string | null;
  locale: string | null;
  profile: string | null;
  attributes: Record<string, unknown> | null;
}

export interface AccountState {
  id: string;
  platform: string;
  ref: string;
  group: string | null;
  pin: Pin | null;
  learning: boolean;
}

/** Thresholds in force for one workspace: environment defaults, overridden by workspace settings. */
export interface Settings {
  learningEvents: number;
  learningHours: number;
  maxKmh: number;
  shareDays: number;
  retryLimit: number;
  /** findings below this severity stay on the event and in its risk, but open no alert */
  alertMinSeverity: Severity;
  sensitiveOperations: string[];
  /** the noisiest sharing rule (carrier-grade NAT, mobile networks): switchable, with its own prefix lengths */
  sharedSubnet: { enabled: boolean; ipv4Prefix: number; ipv6Prefix: number };
  /** platform-incident detection: quorum of a platform's active accounts failing within a sliding window */
  incident: {
    windowMinutes: number;
    quorum: number;
    minAccounts: number;
    minNetworks: number;
    holdMinutes: number;
  };
}

/** Result codes that mean the platform failed, not the account: they count toward an outage. */
export const PLATFORM_FAILURES = [
  "timeout",
  "http_5xx",
  "internal_error",
  "image_processing_failed",
  "network_error",
] as const;

/** An incident as the rules see it. */
export interface IncidentState {
  id: string;
  platform: string;
  region: string | null;
  source: "declared" | "detected";
  startedAt: number;
  endedAt: number | null;
  title: string;
}
