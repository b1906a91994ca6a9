import type { RuleContext } from "./types.ts";
import { finding, type Rule } from "./types.ts";
import { mostInWindowAround } from "./window.ts";

const WINDOW = 10 * 60_000;

/** The most login attempts of the account in any 10-minute window that holds `t`, counting one at `t`. */
export function loginsAround(ctx: Pick<RuleContext, "history" | "event">, t: number): number {
  const times = ctx.history
    .around(t, WINDOW)
    .filter((p) => p.login && p.id !== ctx.event.id)
    .map((p) => p.occurredAt);
  times.push(t);
  return mostInWindowAround(times, t, WINDOW);
}

/** Logging in again and again (≥ TETHER_RETRY_LIMIT within 10 minutes): what risk control punishes. */
export const retryStorm: Rule = {
  id: "retry_storm",
  severity: "high",
  quietWhileLearning: false,
  evaluate(ctx) {
    const isLogin = ctx.event.type === "login" || ctx.event.operation === "login";
    if (!isLogin) return [];
    const n = loginsAround(ctx, ctx.event.occurredAt);
    if (n < ctx.settings.retryLimit) return [];
    const failed = ctx.history
      .around(ctx.event.occurredAt, WINDOW)
      .filter((p) => p.login && p.failed && p.id !== ctx.event.id).length;
    return [
      finding(this, ctx, "", {
        logins: n,
        failed: failed + (ctx.event.result.status === "error" ? 1 : 0),
        limit: ctx.settings.retryLimit,
        operator: ctx.event.operator,
        incident_id: ctx.incident?.id ?? null,
      }),
    ];
  },
};
