import { finding, type Rule } from "./types.ts";

export const unboundEnvironment: Rule = {
  id: "unbound_environment",
  severity: "medium",
  quietWhileLearning: false,
  evaluate(ctx) {
    if (ctx.bound !== false || !ctx.environmentId) return [];
    return [
      finding(
        this,
        ctx,
        ctx.environmentId,
        `reported from environment ${ctx.environmentId}, which is not bound to this account`,
        {
          environment_id: ctx.environmentId,
        },
      ),
    ];
  },
};
