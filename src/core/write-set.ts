import type { Actor, EnrichedEvent, EventVerdict, Pin, Severity } from "./model.ts";
import type { ShareKind } from "./rules/types.ts";

/**
 * What judging a batch decides must be written, in the core's terms (times in epoch ms, camelCase): the store
 * maps each part to one set-wise statement. Every part carries its workspace, so one transaction can hold the
 * batches of several workspaces.
 */
export interface WriteSet {
  events: EventWrite[];
  baseline: BaselineWrite[];
  population: PopulationWrite[];
  accounts: AccountWrite[];
  links: LinkWrite[];
  alerts: AlertWrite[];
  bindings: BindingWrite[];
  environments: EnvironmentSeen[];
  audit: AuditWrite[];
  /** values healed into the baseline: their open alerts resolve once all they are about is normal */
  healed: HealedWrite[];
}

/** An account of the batch as read (and locked) before judging. */
export interface LockedAccount {
  id: string;
  workspaceId: string;
  platform: string;
  ref: string;
  group: string | null;
  pin: Pin | null;
  state: "learning" | "established";
  eventCount: number;
  firstEventAt: number | null;
  /** registered by this batch */
  inserted: boolean;
}

export interface EventWrite {
  workspaceId: string;
  event: EnrichedEvent;
  environmentId: string | null;
  verdict: EventVerdict;
}

export interface BaselineWrite {
  workspaceId: string;
  accountId: string;
  kind: string;
  value: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  accepted: boolean;
  lastEventId: string;
  /** the clean streak as it stands after the batch (docs/adr/0003) */
  healEvents: number;
  healFirst: number | null;
  healLast: number | null;
  healBlocked: boolean;
  healedAt: number | null;
}

export interface HealedWrite {
  workspaceId: string;
  accountId: string;
  kind: string;
  value: string;
}

/** Added to the workspace's population count of (kind, value). */
export interface PopulationWrite {
  workspaceId: string;
  kind: string;
  value: string;
  count: number;
}

export interface AccountWrite {
  id: string;
  state: "learning" | "established";
  added: number;
  firstAt: number;
  lastAt: number;
  establishedAt: number | null;
}

export interface LinkWrite {
  workspaceId: string;
  kind: ShareKind;
  value: string;
  /** accountA < accountB */
  accountA: string;
  accountB: string;
  firstAt: number;
  lastAt: number;
  count: number;
  firstEventId: string;
  lastEventId: string;
}

export interface AlertWrite {
  id: string;
  workspaceId: string;
  rule: string;
  severity: Severity;
  accountIds: string[];
  incidentId: string | null;
  key: string;
  dedupKey: string;
  summary: string;
  evidence: Record<string, unknown>;
  count: number;
  firstAt: number;
  lastAt: number;
}

export interface BindingWrite {
  workspaceId: string;
  environmentId: string;
  accountId: string;
}

/** The environment's sign of life: its latest event time (never later than now). */
export interface EnvironmentSeen {
  environmentId: string;
  at: number;
}

export interface AuditWrite {
  workspaceId: string;
  actor: Actor;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}
