import { type DrillReport, subnetKinds, verifyDrill } from "../core/drill-verify.ts";
import type { Settings } from "../core/model.ts";
import { ApiError, say } from "../errors.ts";
import { newId } from "../ids.ts";
import {
  type DrillScope,
  drillFacts,
  existingAccountIds,
  saveDrillVerification,
  scopeAccounts,
} from "../store/drills.ts";
import { closeQuietIncidents } from "../store/incidents.ts";
import type { ServiceContext } from "./context.ts";

const DAY = 86_400_000;

/**
 * Checks every account in scope before a drill and saves the run with who ran it. A read: nothing is audited
 * and nothing about the accounts changes (detected incidents that went quiet are closed first, as every read
 * of incidents does). Account ids the workspace does not have are refused, so a typo (or another
 * workspace's id) never shrinks the scope into a pass.
 */
export async function verifyDrillScope({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db" | "clock">;
  input: {
    workspaceId: string;
    settings: Settings;
    scope: DrillScope;
    actor: { tokenId: string; name: string };
  };
}): Promise<{ id: string; report: DrillReport }> {
  const { db } = ctx;
  const { workspaceId, settings, scope } = input;
  const now = ctx.clock.now();
  if (scope.accountIds) {
    const known = await existingAccountIds(db, workspaceId, scope.accountIds);
    const unknown = scope.accountIds.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new ApiError("not_found", say("drills.unknown_accounts", { ids: unknown.join(", ") }));
    }
  }
  await closeQuietIncidents(db, workspaceId, now, settings.incident.holdMinutes);
  const accounts = await scopeAccounts(db, workspaceId, scope);
  const facts =
    accounts.length > 0
      ? await drillFacts(
          db,
          workspaceId,
          accounts.map((a) => a.id),
          { since: new Date(now.getTime() - settings.shareDays * DAY), subnets: subnetKinds(settings) },
        )
      : { alerts: [], shares: [], heartbeats: new Map(), incidents: [] };
  const report = verifyDrill({ now: now.getTime(), shareDays: settings.shareDays, accounts, ...facts });
  const id = newId("drv");
  await saveDrillVerification(db, {
    id,
    workspaceId,
    scope: scopeJson(scope),
    verdict: report.verdict,
    checkedAt: now,
    report: storedReport(report),
    createdByTokenId: input.actor.tokenId,
    createdBy: input.actor.name,
    createdAt: now,
  });
  return { id, report };
}

/** The scope as the API names it and the run saves it; filters not given are left out. */
export type SavedScope = {
  platform?: string;
  group?: string;
  account_ids?: string[];
};

export function scopeJson(scope: DrillScope): SavedScope {
  return {
    ...(scope.platform ? { platform: scope.platform } : {}),
    ...(scope.group ? { group: scope.group } : {}),
    ...(scope.accountIds ? { account_ids: scope.accountIds } : {}),
  };
}

/**
 * The report as saved: sentences as message keys with parameters (worded for each reader), accounts by id
 * only — platform and ref are read back from the accounts, so an erased account leaves no ref behind here.
 */
function storedReport(report: DrillReport): Record<string, unknown> {
  return {
    summary: report.summary,
    accounts: report.accounts.map((a) => ({
      account_id: a.accountId,
      platform: a.platform,
      checks: a.checks,
    })),
  };
}

/** A saved report back in the core's shape, its accounts' refs read from `refs` (`gone`: erased since). */
export function reportFromStored(
  stored: Record<string, unknown>,
  verdict: "pass" | "fail",
  checkedAt: Date,
  refs: ReadonlyMap<string, { platform: string; ref: string }>,
  gone: string,
): DrillReport {
  const saved = stored as {
    summary: DrillReport["summary"];
    accounts: Array<{
      account_id: string;
      platform: string;
      checks: DrillReport["accounts"][number]["checks"];
    }>;
  };
  return {
    verdict,
    checkedAt: checkedAt.getTime(),
    summary: saved.summary,
    accounts: saved.accounts.map((a) => ({
      accountId: a.account_id,
      platform: a.platform,
      ref: refs.get(a.account_id)?.ref ?? gone,
      checks: a.checks,
    })),
  };
}
