import { finding, type Rule } from "./types.ts";

export const unboundEnvironment: Rule = {
  id: "unbound_environment",
  severity: "medium",
  quietWhileLearning: false,
  evaluate(ctx) {
    if (ctx.bound !== false || !ctx.environmentId) return [];
    return [
      finding(this, ctx, ctx.environmentId, {
        environment_id: ctx.environmentId,
      }),
    ];
  },
};
