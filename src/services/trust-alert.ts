import { alertIdentity } from "../core/alerts.ts";
import { parseIp } from "../core/enrich/ip.ts";
import { type Actor, PIN_DIMENSIONS, type Pin } from "../core/model.ts";
import { ApiError, say } from "../errors.ts";
import { acceptBaselineValues, getAccount, updateAccount } from "../store/accounts.ts";
import { type AlertRow, addAllowance } from "../store/alerts.ts";
import { bindAccount, getEnvironment } from "../store/environments.ts";
import type { ServiceContext } from "./context.ts";

export type TrustAction =
  | { kind: "baseline"; account_id: string; values: Array<[string, string]> }
  | { kind: "pin"; account_id: string; dimension: string; value: string | number }
  | { kind: "binding"; account_id: string; environment_id: string }
  | { kind: "allowance"; rule: string; account_ids: string[]; key: string };

const EPISODE_ALLOWANCE_MS = 24 * 3_600_000;

/**
 * Accepts what an alert is about, so the same cause alerts no more: a baseline value becomes normal, a pin
 * widens, an environment is bound, or (for patterns such as travel) the exact rule/accounts/key is allowed.
 */
export async function trustAlert({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db">;
  input: { workspaceId: string; alert: AlertRow; actor: Actor & { admin: boolean }; now: Date };
}): Promise<TrustAction> {
  const { db } = ctx;
  const { workspaceId, alert, actor, now } = input;
  const accountId = alert.accountIds[0]!;
  const baselineValues = alert.evidence.baseline_values as Array<[string, string]> | undefined;
  if (baselineValues && baselineValues.length > 0 && alert.accountIds.length === 1) {
    await acceptBaselineValues(db, workspaceId, accountId, baselineValues, now);
    return { kind: "baseline", account_id: accountId, values: baselineValues };
  }

  // Widening a pin or binding an environment is configuration, which only admins change.
  const needsAdmin = () => {
    if (!actor.admin) {
      throw new ApiError("forbidden", say("api.trust_needs_admin", { rule: alert.rule }));
    }
  };
  if (alert.rule === "pin_violation") {
    const dimension = alert.evidence.dimension as (typeof PIN_DIMENSIONS)[number] | undefined;
    const value = alert.evidence.value as string | number | null | undefined;
    const account = await getAccount(db, workspaceId, accountId);
    if (
      account?.pin &&
      dimension &&
      PIN_DIMENSIONS.includes(dimension) &&
      value !== null &&
      value !== undefined
    ) {
      needsAdmin();
      const pin: Pin = { ...account.pin };
      const added = dimension === "cidrs" ? hostCidr(String(value)) : value;
      (pin[dimension] as Array<string | number> | undefined) = [
        ...((pin[dimension] as Array<string | number>) ?? []),
        added,
      ];
      await updateAccount(db, workspaceId, accountId, { pin }, now);
      return { kind: "pin", account_id: accountId, dimension, value: added };
    }
  }

  if (alert.rule === "unbound_environment") {
    const env = await getEnvironment(db, workspaceId, alert.key);
    if (env) {
      needsAdmin();
      await bindAccount(db, workspaceId, env.id, accountId, now);
      return { kind: "binding", account_id: accountId, environment_id: env.id };
    }
  }

  const { accountIds } = alertIdentity(alert.rule, alert.accountIds, alert.key);
  // A hopping or retry-storm alert has no value to accept (its key is empty): trust covers that episode,
  // for a day, not every future one.
  const episodic = alert.key === "";
  await addAllowance(
    db,
    {
      workspaceId,
      rule: alert.rule,
      accountKey: accountIds.join(","),
      key: alert.key,
      alertId: alert.id,
      createdBy: actor.name,
      expiresAt: episodic ? new Date(now.getTime() + EPISODE_ALLOWANCE_MS) : null,
    },
    now,
  );
  return { kind: "allowance", rule: alert.rule, account_ids: accountIds, key: alert.key };
}

function hostCidr(ip: string): string {
  const parsed = parseIp(ip);
  return parsed ? `${parsed.ip}/${parsed.version === 4 ? 32 : 128}` : ip;
}
