import type { NetworkType } from "./enrich/network-types.ts";
import type { NetInfo, UaInfo } from "./enrich/types.ts";
import type { FindingText } from "./finding-text.ts";
import type { RiskFactor } from "./risk.ts";

/** An admin's pin: any deviation from it is a violation from the first event on. */
export interface Pin {
  cidrs?: string[];
  asns?: number[];
  countries?: string[];
  regions?: string[];
  timezones?: string[];
  locales?: string[];
  device_ids?: string[];
  network_types?: NetworkType[];
}

/** The dimensions of a pin, in the order people edit them. */
export const PIN_DIMENSIONS = [
  "cidrs",
  "asns",
  "countries",
  "regions",
  "timezones",
  "locales",
  "device_ids",
  "network_types",
] as const satisfies ReadonlyArray<keyof Pin>;

export const BASELINE_KINDS = [
  "ip",
  "subnet",
  "asn",
  "country",
  "region",
  "network_type",
  "device",
  "ua",
  "browser",
  "os",
  "timezone",
  "locale",
] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

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
  /** the English rendering of `text`, stored as the alert's summary */
  message: string;
  /** the finding's sentence, to render in the reader's language */
  text: FindingText;
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
  /** a quarantined value heals after this many clean uses spanning at least this many hours (docs/adr/0003) */
  heal: { events: number; hours: number };
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

/** An event as the API accepts it (the HTTP schema's output has this shape). */
export interface EventInput {
  id: string;
  type: EventType;
  occurred_at: string;
  account?: { platform: string; ref: string } | undefined;
  operator?: string | undefined;
  operation?: string | undefined;
  result?:
    | {
        status: "ok" | "error";
        code?: string | undefined;
        http_status?: number | undefined;
        message?: string | undefined;
      }
    | undefined;
  env?:
    | {
        ip?: string | undefined;
        device_id?: string | undefined;
        user_agent?: string | undefined;
        timezone?: string | undefined;
        locale?: string | undefined;
        profile?: string | undefined;
      }
    | undefined;
  attributes?: Record<string, unknown> | undefined;
}

/** Who acts, as the audit log names them. */
export interface Actor {
  tokenId: string | null;
  name: string;
}

/** Who reports: an agent of one environment, or a user token of the workspace. */
export interface Caller extends Actor {
  workspaceId: string;
  /** set when an agent token reports: the environment it belongs to */
  environmentId: string | null;
}

/** The answer for one event: what the API returns and what is stored with it. */
export interface EventVerdict {
  id: string;
  account_id: string | null;
  risk: number;
  /** `text` is stored with the event for rendering in the reader's language; the API answers `message` only */
  findings: Array<{ rule: string; severity: Severity; message: string; text?: FindingText }>;
  /**
   * Each feature hierarchy's part of `risk`, largest first. Null for an event without an account, and when the
   * answer repeats a stored event (a replay): the factors describe the baseline as it stood when it was judged.
   */
  risk_factors: RiskFactor[] | null;
}
