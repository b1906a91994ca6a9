import { finding, type Rule } from "./types.ts";

/** The language of a locale tag: `zh` of `zh-CN`, `en` of `en_US`. */
export const languageOf = (locale: string) => locale.split(/[-_]/)[0]!.toLowerCase();

/**
 * A browser locale the account has not used. Another variant of a known language (en-US → en-GB) is `low`; a new
 * language (en-US → zh-CN) is `medium`: an operator's own browser leaking into a store's environment.
 */
export const localeChanged: Rule = {
  id: "locale_changed",
  severity: "low",
  quietWhileLearning: true,
  evaluate(ctx) {
    const locale = ctx.event.locale;
    if (!locale || ctx.baseline.total("locale") === 0 || ctx.baseline.has("locale", locale)) return [];
    const known = [...ctx.baseline.entries("locale").keys()];
    const languages = [...new Set(known.map(languageOf))];
    const language = languageOf(locale);
    const newLanguage = !languages.includes(language);
    return [
      finding(
        this,
        ctx,
        locale,
        { locale, known_locales: known, language, known_languages: languages },
        { about: [["locale", locale]], ...(newLanguage ? { severity: "medium" as const } : {}) },
      ),
    ];
  },
};
