import { describe, expect, it } from "vitest";
import { CATALOGUES, LANGS, pickLang, translator } from "../../src/i18n/index.ts";

/** Words that read the same in both languages: names, codes and symbols, not sentences. */
const SAME_IN_BOTH = new Set(["audit.entry"]);

describe("the console's message catalogue", () => {
  const en = CATALOGUES.en;

  it.each(LANGS)("has every key, non-empty, in %s", (lang) => {
    const table = CATALOGUES[lang];
    expect(Object.keys(table).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(table)) expect(text.trim(), key).not.toBe("");
  });

  it("has every Chinese message translated, with the parameters of its English one", () => {
    const zh = CATALOGUES["zh-CN"];
    const params = (text: string) =>
      [...new Set([...text.matchAll(/\{(\w+)(?:\|[^}]*)?\}/g)].map((m) => m[1]))].sort();
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect(params(zh[key]), key).toEqual(params(en[key]));
      if (!SAME_IN_BOTH.has(key)) {
        expect(zh[key], `${key} is not translated`).not.toBe(en[key]);
        expect(zh[key], `${key} has no Chinese`).toMatch(/[\u4e00-\u9fff]/);
      }
    }
  });

  it("picks an English plural by its parameter", () => {
    const t = translator("en");
    expect(t("queue.count", { count: 1 })).toBe("1 case");
    expect(t("queue.count", { count: 0 })).toBe("0 cases");
    expect(t("graph.cluster", { n: 2, accounts: 1, links: 3 })).toBe("Cluster 2: 1 account, 3 links");
    expect(translator("zh-CN")("queue.count", { count: 1 })).toBe("1 个案件");
  });

  it("fills parameters and leaves unknown ones visible", () => {
    const t = translator("zh-CN");
    expect(t("queue.count", { count: 3 })).toBe("3 个案件");
    expect(translator("en")("queue.count")).toBe("{count} {count|case|cases}");
  });
});

describe("the language of a request", () => {
  it.each([
    [undefined, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"],
    [undefined, "zh-TW", "zh-CN"],
    [undefined, "en-GB,en;q=0.9", "en"],
    [undefined, "fr-FR, zh;q=0.5, en;q=0.4", "zh-CN"],
    [undefined, "en;q=0.2, zh;q=0.8", "zh-CN"],
    [undefined, "de", "en"],
    [undefined, undefined, "en"],
    ["en", "zh-CN", "en"],
    ["zh-CN", "en", "zh-CN"],
    ["klingon", "zh", "zh-CN"],
  ] as const)("cookie %s, Accept-Language %s → %s", (cookie, header, want) => {
    expect(pickLang(cookie, header)).toBe(want);
  });
});
