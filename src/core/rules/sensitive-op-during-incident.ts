import { finding, type Rule } from "./types.ts";

/** Profile, permission, binding or payment edits "to prove ourselves" while the platform is failing. */
export const sensitiveOpDuringIncident: Rule = {
  id: "sensitive_op_during_incident",
  severity: "high",
  quietWhileLearning: false,
  evaluate(ctx) {
    const op = ctx.event.operation;
    if (!ctx.incident || !op || !ctx.settings.sensitiveOperations.includes(op)) return [];
    return [
      finding(this, ctx, op, {
        operation: op,
        operator: ctx.event.operator,
        incident_id: ctx.incident.id,
        platform: ctx.incident.platform,
        incident_title: ctx.incident.title,
      }),
    ];
  },
};
