import { finding, type Rule } from "./types.ts";

/** Browser or OS family changed; a version bump alone keeps the family and is not a change. */
export const uaChanged: Rule = {
  id: "ua_changed",
  severity: "low",
  quietWhileLearning: true,
  evaluate(ctx) {
    const ua = ctx.event.ua;
    if (!ua) return [];
    const out = [];
    for (const kind of ["browser", "os"] as const) {
      const family = ua[kind];
      if (!family || ctx.baseline.total(kind) === 0 || ctx.baseline.has(kind, family)) continue;
      out.push(
        finding(
          this,
          ctx,
          `${kind}:${family}`,
          {
            [kind]: family,
            [`known_${kind}s`]: [...ctx.baseline.entries(kind).keys()],
            user_agent: ctx.event.userAgent,
          },
          { about: [[kind, family]] },
        ),
      );
    }
    return out;
  },
};
