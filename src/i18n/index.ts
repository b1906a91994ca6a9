/**
 * tether's one message catalogue, in English and Simplified Chinese. Each area keeps its words in its own file
 * (console, findings, incidents, errors, cli, drills, drill-report, notifications); English defines the keys and
 * the Chinese table of each area is typed against it, so a key missing in either language fails
 * `npm run typecheck`, and test/unit/i18n.test.ts fails on an empty or untranslated one. `{name}` marks a
 * parameter, filled by `translator()`.
 */
import * as cli from "./cli.ts";
import * as consoleWords from "./console.ts";
import * as drillReport from "./drill-report.ts";
import * as drills from "./drills.ts";
import * as errors from "./errors.ts";
import * as findings from "./findings.ts";
import * as incidents from "./incidents.ts";
import * as notifications from "./notifications.ts";

const en = {
  ...consoleWords.en,
  ...findings.en,
  ...incidents.en,
  ...errors.en,
  ...cli.en,
  ...drills.en,
  ...drillReport.en,
  ...notifications.en,
};
const zhCN: Catalogue = {
  ...consoleWords.zh,
  ...findings.zh,
  ...incidents.zh,
  ...errors.zh,
  ...cli.zh,
  ...drills.zh,
  ...drillReport.zh,
  ...notifications.zh,
};

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;

export const LANGS = ["en", "zh-CN"] as const;
export type Lang = (typeof LANGS)[number];
export const CATALOGUES: Record<Lang, Catalogue> = { en, "zh-CN": zhCN };
export const LANG_COOKIE = "tether_lang";

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const table = CATALOGUES[lang];
  return (key, params) =>
    // `{n}` is a parameter; `{n|one|other}` picks a word by it (English plurals; Chinese needs none).
    // A key the table lacks (a runtime-built one such as `status.${x}`) shows as ⟦key⟧: visible, never a crash.
    (table[key] ?? `⟦${key}⟧`).replace(
      /\{(\w+)(?:\|([^|}]*)\|([^}]*))?\}/g,
      (whole, name: string, one: string | undefined, other: string | undefined) => {
        if (!params || !(name in params)) return whole;
        if (one === undefined) return String(params[name]);
        return Number(params[name]) === 1 ? one : (other ?? one);
      },
    );
}

export const isLang = (value: string | undefined): value is Lang => LANGS.includes(value as Lang);

/**
 * The language of a request: the one the user chose (cookie), else the first of Accept-Language that the
 * console speaks (any `zh` variant reads Chinese), else English.
 */
export function pickLang(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (isLang(cookie)) return cookie;
  const wanted = (acceptLanguage ?? "")
    .split(",")
    .map((part) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.toLowerCase(), q: q === undefined ? 1 : Number(q) };
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of wanted) {
    if (tag === "zh" || tag.startsWith("zh-")) return "zh-CN";
    if (tag === "en" || tag.startsWith("en-")) return "en";
  }
  return "en";
}
