import { describe, expect, it } from "vitest";
import { CATALOGUES, type Lang } from "../../src/i18n/index.ts";
import { client } from "../support/api.ts";
import { consoleClient } from "../support/console.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

// Walks every console page a signed-in admin can reach by following links, in English and in Chinese, and fails
// on a message key the catalogue lacks (shown as ⟦key⟧), on an English catalogue sentence left on a Chinese page,
// and on Chinese on an English page.
const t = useTestApp({ TETHER_SHARE_DAYS: 30 });
const START = Date.parse("2026-01-01T00:00:00Z");
/** Followed links stop here: enough for every kind of page several times over. */
const MAX_PAGES = 80;

const site = consoleClient(t);
const request = async (path: string, cookie: string, lang: Lang) => {
  const page = await site.request(path, { cookie: `${cookie}; tether_lang=${lang}` });
  return { status: page.status, type: page.headers.get("content-type") ?? "", text: page.text };
};

/** The text a person reads: no tags, no attributes, no script, entities decoded. */
const humanText = (html: string) =>
  html
    .replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

/** The English catalogue's wording, cut at its parameters, long enough not to be a name or a code. */
const ENGLISH = [
  ...new Set(
    Object.values(CATALOGUES.en)
      .flatMap((text) => text.split(/\{[^}]*\}/))
      .map((part) => part.trim())
      .filter((part) => part.length >= 12 && /[a-z]{3,} [a-z]{3,}/.test(part)),
  ),
];

/** A workspace with something on every page: cases (one under an active incident), a shared device, a pin. */
async function world() {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(START + 2 * 24 * HOUR));
  const refs = { a: uid("walk-a-"), b: uid("walk-b-"), c: uid("walk-c-") };
  const ids: Record<string, string> = {};
  for (const [k, ref] of Object.entries(refs)) {
    const created = await api.post("/v1/accounts", ws.admin, {
      platform: "tiktok_shop",
      ref,
      group: `grp_${k}`,
    });
    ids[k] = created.body.id;
  }
  await api.patch(`/v1/accounts/${ids.c}`, ws.admin, { pin: { countries: ["US"], asns: [7922] } });
  const env = await newEnvironment(api, ws.admin);
  const send = (at: number, ref: string, extra: Record<string, string>) =>
    api.post("/v1/events", env.token, event(at, { ref, env: { ...LA, ...extra } }));
  await send(START, refs.a, { ip: IP.home, device_id: "laptop-1" });
  await send(START + HOUR, refs.b, { ip: IP.otherNetwork, device_id: "laptop-1" });
  await send(START + 2 * HOUR, refs.c, { ip: IP.tokyo, device_id: "tablet-3", timezone: "Asia/Tokyo" });
  const declared = await api.post("/v1/incidents", ws.reviewer, {
    platform: "tiktok_shop",
    title: "Seller Center 502",
    started_at: new Date(START + 3 * HOUR).toISOString(),
  });
  expect(declared.status).toBe(201);
  await send(START + 4 * HOUR, refs.a, { ip: IP.germany, device_id: "laptop-1", timezone: "Europe/Berlin" });
  return { ws };
}

/** Every console page reachable from the queue, each visited once (queries kept: filters are pages too). */
async function walk(cookie: string, lang: Lang) {
  const seen = new Map<string, string>();
  const queue = [
    "/console",
    "/console?status=open&severity=critical",
    "/console/accounts?state=learning",
    "/console/cases/alr_missing",
    "/console/accounts/acc_missing",
  ];
  while (queue.length > 0 && seen.size < MAX_PAGES) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const page = await request(path, cookie, lang);
    expect([200, 404], `${lang} ${path}`).toContain(page.status);
    if (!page.type.startsWith("text/html")) continue;
    seen.set(path, page.text);
    for (const [, href] of page.text.matchAll(/href="(\/console[^"#]*)"/g)) {
      const link = href!.replace(/&amp;/g, "&");
      if (/^\/console\/(static|lang|logout)\b|\.(csv|md)(\?|$)/.test(link)) continue;
      if (!seen.has(link)) queue.push(link);
    }
  }
  return seen;
}

describe("every console page in both languages", () => {
  it("has every message and no sentence of the other language", { timeout: 120_000 }, async () => {
    const { ws } = await world();
    const cookie = await site.signIn(ws.admin);
    const zh = await walk(cookie, "zh-CN");
    const en = await walk(cookie, "en");
    // The walk reached every kind of page.
    for (const pages of [zh, en]) {
      const paths = [...pages.keys()];
      for (const kind of [
        /^\/console$/,
        /^\/console\/cases\//,
        /^\/console\/accounts$/,
        /^\/console\/accounts\//,
        /^\/console\/associations$/,
        /^\/console\?/,
      ]) {
        expect(
          paths.some((p) => kind.test(p)),
          String(kind),
        ).toBe(true);
      }
    }
    for (const [path, html] of zh) {
      const text = humanText(html);
      expect(text, path).not.toContain("⟦");
      expect(html, path).toContain('<html lang="zh-CN">');
      const left = ENGLISH.filter((sentence) => text.includes(sentence));
      expect(left, `${path} has English left`).toEqual([]);
    }
    for (const [path, html] of en) {
      const text = humanText(html);
      expect(text, path).not.toContain("⟦");
      // The language switch names Chinese in Chinese; nothing else on an English page is Chinese.
      expect(text.replace("中文", ""), path).not.toMatch(/[\u4e00-\u9fff]/);
    }
  });
});
