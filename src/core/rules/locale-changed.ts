import { finding, type Rule } from "./types.ts";

export const localeChanged: Rule = {
  id: "locale_changed",
  severity: "low",
  quietWhileLearning: true,
  evaluate(ctx) {
    const locale = ctx.event.locale;
    if (!locale || ctx.baseline.total("locale") === 0 || ctx.baseline.has("locale", locale)) return [];
    return [
      finding(
        this,
        ctx,
        locale,
        {
          locale,
          known_locales: [...ctx.baseline.entries("locale").keys()],
        },
        { about: [["locale", locale]] },
      ),
    ];
  },
};
