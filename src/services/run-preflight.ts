import { Baseline } from "../core/baseline.ts";
import { enrichEvent } from "../core/event.ts";
import { type FindingText, renderText } from "../core/finding-text.ts";
import { AccountHistory } from "../core/history.ts";
import { accountKey, BatchJudge, incidentAt, prepareEvent, type Reporter } from "../core/judge.ts";
import type { EventInput, IncidentState } from "../core/model.ts";
import { type Decision, decide, type Reason } from "../core/preflight.ts";
import { activeOverride, recordPreflight } from "../store/incidents.ts";
import type { IngestOptions, ServiceContext } from "./context.ts";
import { loadJudgeContext } from "./ingest-events.ts";

export interface PreflightInput {
  account: { platform: string; ref: string };
  operation: string;
  operator?: string | undefined;
  env?: EventInput["env"];
}

/** The id an account tether has not seen yet is judged under; its findings name it by this id. */
export const PREFLIGHT_ACCOUNT = "acc_preflight";

export interface PreflightAnswer {
  decision: Decision;
  reasons: Reason[];
  incident: IncidentState | null;
  accountId: string | null;
}

/**
 * Answers "may I do this now?" before a workstation script acts, by judging the would-be event exactly as
 * ingest would (same loader, same rules) without storing it or feeding any baseline; the question and the
 * answer are recorded for audit. A reviewer's unexpired override for the account and operation allows it.
 */
export async function runPreflight({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db" | "runner" | "clock" | "enricher"> & {
    options: Pick<IngestOptions, "baselineDays" | "historyPerAccount">;
  };
  input: Reporter & { sourceIp: string | null; question: PreflightInput };
}): Promise<PreflightAnswer> {
  const { caller, settings, question } = input;
  const now = ctx.clock.now();
  const isLogin = question.operation === "login";
  const eventInput: EventInput = {
    id: `preflight-${now.getTime()}`,
    type: isLogin ? "login" : "operation",
    occurred_at: now.toISOString(),
    account: question.account,
    operator: question.operator,
    operation: question.operation,
    env: question.env,
  };
  const prepared = prepareEvent(
    enrichEvent(ctx.enricher, eventInput, input.sourceIp),
    question.account,
    settings,
  );
  const request = { caller, settings, events: [prepared] };
  const judgeCtx = await loadJudgeContext(
    ctx.runner,
    ctx.options,
    [request],
    new Map([[`${caller.workspaceId}\u001f${prepared.event.id}`, prepared]]),
    now,
    "dry-run",
  );
  const key = accountKey(caller.workspaceId, question.account.platform, question.account.ref);
  const existing = judgeCtx.accounts.get(key) ?? null;
  if (!existing) {
    // An account tether has not seen yet is judged as its first event would be: no baseline, isolated.
    const id = PREFLIGHT_ACCOUNT;
    judgeCtx.accounts.set(key, {
      id,
      workspaceId: caller.workspaceId,
      ...question.account,
      group: null,
      pin: null,
      state: "learning",
      eventCount: 0,
      firstEventAt: null,
      inserted: true,
    });
    judgeCtx.baselines.set(id, new Baseline());
    judgeCtx.history.set(id, new AccountHistory());
  }
  const judge = new BatchJudge(judgeCtx, now);
  const verdict = judge.judge(request, prepared);
  const incident = incidentAt(
    judgeCtx.incidents.get(caller.workspaceId) ?? [],
    question.account.platform,
    prepared.event,
  );
  const answer = decide(verdict.findings, isLogin, settings);
  let decision = answer.decision;
  const reasons = answer.reasons;
  const override =
    existing && decision !== "allow"
      ? await activeOverride(ctx.db, caller.workspaceId, existing.id, question.operation, now)
      : null;
  if (override) {
    const text: FindingText = {
      key: "finding.override",
      params: {
        id: override.id,
        by: override.createdBy,
        until: override.expiresAt.toISOString(),
        reason: override.reason,
      },
    };
    reasons.push({ rule: "override", severity: "info", message: renderText("en", text), text });
    decision = "allow";
  }
  await recordPreflight(ctx.db, {
    workspaceId: caller.workspaceId,
    accountId: existing?.id ?? null,
    platform: question.account.platform,
    ref: question.account.ref,
    environmentId: caller.environmentId,
    operation: question.operation,
    operator: question.operator ?? null,
    decision,
    reasons,
    incidentId: incident?.id ?? null,
    overrideId: override?.id ?? null,
    env: { ...(question.env ?? {}), ip: prepared.event.net?.ip ?? null },
    at: now,
  });
  return { decision, reasons, incident, accountId: existing?.id ?? null };
}
