import { findAccountByRef } from "../store/accounts.ts";
import type { Db } from "../store/db.ts";
import { activeOverride, recordPreflight } from "../store/incidents.ts";
import type { LockedAccount } from "../store/ingest.ts";
import { BatchJudge, incidentAt } from "./batch.ts";
import type { Enricher } from "./enrich/types.ts";
import { type Caller, type EventInput, enrichEvent, loadBatchContext } from "./ingest.ts";
import { type IncidentState, type Settings, type Severity, severityRank } from "./model.ts";

export interface PreflightInput {
  account: { platform: string; ref: string };
  operation: string;
  operator?: string | undefined;
  env?: EventInput["env"];
}

export type Decision = "allow" | "warn" | "deny";

export interface PreflightAnswer {
  decision: Decision;
  reasons: Array<{ rule: string; severity: Severity; message: string }>;
  incident: IncidentState | null;
  accountId: string | null;
}

/** What preflight refuses outright: acting on these turns an outage into linked accounts and frozen funds. */
const DENY = new Set(["sensitive_op_during_incident", "pin_violation", "shared_device", "shared_ip"]);

/**
 * Answers "may I do this now?" before a workstation script acts, by judging the would-be event exactly as
 * ingest would (same loader, same rules) without storing it or feeding any baseline; the question and the
 * answer are recorded for audit. A reviewer's unexpired override for the account and operation allows it.
 */
export async function preflight(
  deps: { db: Db; enricher: Enricher; settings: Settings },
  caller: Caller,
  sourceIp: string | null,
  input: PreflightInput,
  now: Date,
): Promise<PreflightAnswer> {
  const { db, settings } = deps;
  const existing = await findAccountByRef(db, caller.workspaceId, input.account.platform, input.account.ref);
  // An account tether has not seen yet is judged as its first event would be: no baseline, isolated.
  const account: LockedAccount = existing
    ? {
        id: existing.id,
        platform: existing.platform,
        ref: existing.ref,
        group: existing.group,
        pin: existing.pin,
        state: existing.state,
        eventCount: existing.eventCount,
        firstEventAt: existing.firstEventAt?.getTime() ?? null,
        inserted: false,
      }
    : {
        ...input.account,
        id: "acc_preflight",
        group: null,
        pin: null,
        state: "learning",
        eventCount: 0,
        firstEventAt: null,
        inserted: true,
      };
  const isLogin = input.operation === "login";
  const eventInput: EventInput = {
    id: `preflight-${now.getTime()}`,
    type: isLogin ? "login" : "operation",
    occurred_at: now.toISOString(),
    account: input.account,
    operator: input.operator,
    operation: input.operation,
    env: input.env,
  };
  const event = enrichEvent(deps.enricher, eventInput, sourceIp);
  const ctx = await loadBatchContext(db, caller, settings, [account], [{ event }], now);
  const judge = new BatchJudge(ctx, caller, settings, now);
  const verdict = judge.judge(eventInput, event);
  const incident = incidentAt(ctx.incidents, account.platform, event);

  const reasons = verdict.findings.filter(
    (f) =>
      DENY.has(f.rule) ||
      (f.rule === "retry_storm" && isLogin) ||
      severityRank(f.severity) >= severityRank(settings.alertMinSeverity),
  );
  let decision: Decision = reasons.some((f) => DENY.has(f.rule) || f.rule === "retry_storm")
    ? "deny"
    : reasons.length > 0
      ? "warn"
      : "allow";
  const override =
    existing && decision !== "allow"
      ? await activeOverride(db, caller.workspaceId, existing.id, input.operation, now)
      : null;
  if (override) {
    reasons.push({
      rule: "override",
      severity: "info",
      message: `break-glass override ${override.id} by ${override.createdBy} until ${override.expiresAt.toISOString()}: ${override.reason}`,
    });
    decision = "allow";
  }
  await recordPreflight(db, {
    workspaceId: caller.workspaceId,
    accountId: existing?.id ?? null,
    platform: input.account.platform,
    ref: input.account.ref,
    environmentId: caller.environmentId,
    operation: input.operation,
    operator: input.operator ?? null,
    decision,
    reasons,
    incidentId: incident?.id ?? null,
    overrideId: override?.id ?? null,
    env: { ...(input.env ?? {}), ip: event.net?.ip ?? null },
    at: now,
  });
  return { decision, reasons, incident, accountId: existing?.id ?? null };
}
