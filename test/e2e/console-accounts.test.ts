import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { consoleClient, csrfOf, FORM, humanText } from "../support/console.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

// The console's accounts, account and associations pages through the real app in-process.
const t = useTestApp({ TETHER_SHARE_DAYS: 30 });
const START = Date.parse("2026-01-01T00:00:00Z");
const HOSTILE_REF = `<b>x</b>"><img src=x onerror=alert(1)>`;
const XSS_OPERATOR = "<script>alert(1)</script>";
const XSS_UA = `"><img src=x onerror=alert(2)>`;

const { request, signIn } = consoleClient(t);

/**
 * Four accounts in three groups: north and south share a laptop and an IP, south and east a subnet; west is on
 * its own. One account's ref, operator and user agent carry markup.
 */
async function world() {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(START + 2 * 24 * HOUR));
  const plan = {
    north: { group: "grp_n", ref: HOSTILE_REF },
    south: { group: "grp_s", ref: uid("south-") },
    east: { group: null, ref: uid("east-") },
    west: { group: "grp_n", ref: uid("west-") },
  } as const;
  const ids = {} as Record<keyof typeof plan, string>;
  const agents = {} as Record<keyof typeof plan, string>;
  for (const [name, p] of Object.entries(plan) as Array<[keyof typeof plan, (typeof plan)["north"]]>) {
    const created = await api.post("/v1/accounts", ws.admin, {
      platform: "tiktok_shop",
      ref: p.ref,
      group: p.group,
    });
    expect(created.status).toBe(201);
    ids[name] = created.body.id;
    agents[name] = (await newEnvironment(api, ws.admin, [created.body.id])).token;
  }
  const use = async (name: keyof typeof plan, at: number, env: Record<string, string>, operator?: string) => {
    const res = await api.post(
      "/v1/events",
      agents[name],
      event(at, { ref: plan[name].ref, env: { ...LA, ...env }, ...(operator ? { operator } : {}) }),
    );
    expect(res.status).toBe(202);
  };
  await use("north", START, { ip: IP.home, device_id: "laptop-7", user_agent: XSS_UA }, XSS_OPERATOR);
  await use("south", START + HOUR, { ip: IP.home, device_id: "laptop-7" });
  await use("east", START + 2 * HOUR, { ip: IP.homeRenewed, device_id: "phone-2" });
  await use("west", START + 3 * HOUR, { ip: IP.tokyo, device_id: "tablet-9", timezone: "Asia/Tokyo" });
  const links = (await api.get("/v1/associations", ws.viewer)).body;
  return { api, ws, ids, refs: plan, links };
}

describe("console accounts list", () => {
  it("lists accounts as platform/ref with their open findings, searchable and filtered by platform, group and state", async () => {
    const { ws, ids, refs } = await world();
    const cookie = await signIn(ws.viewer);
    const all = await request("/console/accounts", { cookie });
    expect(all.status).toBe(200);
    for (const id of Object.values(ids)) expect(all.text).toContain(`href="/console/accounts/${id}"`);
    expect(all.text).toContain(`tiktok_shop/${refs.south.ref}`);
    // The shared laptop is a critical finding on north and south, so both show it as their risk.
    const south = all.text.split(`data-account="${ids.south}"`)[1]!.split("</tr>")[0]!;
    expect(south).toContain("sev-critical");
    expect(south).toMatch(/<td>[1-9]\d*<\/td>/);

    const searched = await request(`/console/accounts?q=${encodeURIComponent(refs.east.ref)}`, { cookie });
    expect(searched.text).toContain(`data-account="${ids.east}"`);
    expect(searched.text).not.toContain(`data-account="${ids.south}"`);
    const grouped = await request("/console/accounts?group=grp_n", { cookie });
    expect(grouped.text).toContain(`data-account="${ids.north}"`);
    expect(grouped.text).toContain(`data-account="${ids.west}"`);
    expect(grouped.text).not.toContain(`data-account="${ids.south}"`);
    const learning = await request("/console/accounts?state=learning&platform=tiktok_shop", { cookie });
    expect(learning.text).toContain(`data-account="${ids.east}"`);
    expect((await request("/console/accounts?state=established", { cookie })).text).not.toContain(
      `data-account="${ids.east}"`,
    );
    expect((await request("/console/accounts?platform=amazon", { cookie })).text).not.toContain(
      "data-account=",
    );
    const bad = await request("/console/accounts?state=asleep", { cookie });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("state");
  });

  it("pages through many accounts, 25 a page", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    for (let i = 0; i < 27; i++) {
      expect(
        (
          await api.post("/v1/accounts", ws.admin, {
            platform: "shopee",
            ref: `s-${String(i).padStart(2, "0")}`,
          })
        ).status,
      ).toBe(201);
    }
    const cookie = await signIn(ws.viewer);
    const first = await request("/console/accounts?platform=shopee", { cookie });
    expect(first.text.match(/data-account=/g)).toHaveLength(25);
    expect(first.text).toContain('href="/console/accounts?platform=shopee&amp;page=2"');
    const second = await request("/console/accounts?platform=shopee&page=2", { cookie });
    expect(second.text.match(/data-account=/g)).toHaveLength(2);
    expect(second.text).toContain("shopee/s-26");
  });
});

describe("console account page", () => {
  it("shows the baseline, the timeline with markup as text, its cases and environment, and no internal id", async () => {
    const { ws, ids } = await world();
    const cookie = await signIn(ws.viewer);
    const page = await request(`/console/accounts/${ids.north}`, { cookie });
    expect(page.status).toBe(200);
    // The hostile ref, operator and user agent are escaped everywhere they appear.
    expect(page.text).not.toContain("<b>x</b>");
    expect(page.text).not.toContain("<script>alert(1)");
    expect(page.text).not.toContain("<img src=x");
    expect(page.text).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // Baseline rows with their counts and source: north's first event is learned.
    const baseline = page.text.split('class="baseline"')[1]!.split("</table>")[0]!;
    expect(baseline).toContain('data-kind="device"');
    expect(baseline).toContain("laptop-7");
    expect(baseline).toContain(IP.home);
    expect(baseline).toMatch(/source-(learned|new)/);
    // Its case links to the case page; its environment is named.
    expect(page.text).toMatch(/href="\/console\/cases\/[^"]+">[^<]*shared_device/);
    expect(page.text).toContain("Environments");
    expect(humanText(page.text)).not.toMatch(/\bacc_[0-9a-z]+/);
    expect(humanText(page.text)).not.toMatch(/\benv_[0-9a-z]+/);

    const missing = await request("/console/accounts/acc_nope", { cookie });
    expect(missing.status).toBe(404);
  });

  it("marks a pinned value as pinned", async () => {
    const { api, ws, ids } = await world();
    const patched = await api.patch(`/v1/accounts/${ids.west}`, ws.admin, { pin: { countries: ["JP"] } });
    expect(patched.status).toBe(200);
    const page = await request(`/console/accounts/${ids.west}`, { cookie: await signIn(ws.viewer) });
    const row = page.text.split('data-kind="country"')[1]!.split("</tr>")[0]!;
    expect(row).toContain("JP");
    expect(row).toContain("source-pinned");
  });
});

describe("console account settings", () => {
  it("lets an admin change the group and pin, seen by the API and audited", async () => {
    const { api, ws, ids } = await world();
    const cookie = await signIn(ws.admin);
    const page = await request(`/console/accounts/${ids.west}`, { cookie });
    expect(page.text).toContain(`action="/console/accounts/${ids.west}/settings"`);
    const saved = await request(`/console/accounts/${ids.west}/settings`, {
      method: "POST",
      headers: FORM,
      cookie,
      body: new URLSearchParams({
        _csrf: csrfOf(page.text),
        group: "grp_w",
        pin_countries: "JP\nUS",
        pin_asns: "7684, 7922",
        pin_timezones: "Asia/Tokyo",
      }).toString(),
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`/console/accounts/${ids.west}?saved=1`);
    const account = (await api.get(`/v1/accounts/${ids.west}`, ws.viewer)).body;
    expect(account.group).toBe("grp_w");
    expect(account.pin).toEqual({ countries: ["JP", "US"], asns: [7684, 7922], timezones: ["Asia/Tokyo"] });
    const audit = (await api.get(`/v1/audit?target_id=${ids.west}`, ws.admin)).body;
    const entry = audit.audit.find((e: { action: string }) => e.action === "account.updated");
    expect(entry.details.before.group).toBe("grp_n");
    expect(entry.details.after.group).toBe("grp_w");
    const after = await request(`/console/accounts/${ids.west}?saved=1`, { cookie });
    expect(after.text).toContain("Saved: the new group and pin apply from the next event.");
    expect(after.text).toContain(">Asia/Tokyo</textarea>");

    // Emptying every box removes the pin; an empty group means none.
    await request(`/console/accounts/${ids.west}/settings`, {
      method: "POST",
      headers: FORM,
      cookie,
      body: new URLSearchParams({ _csrf: csrfOf(after.text), group: "" }).toString(),
    });
    const cleared = (await api.get(`/v1/accounts/${ids.west}`, ws.viewer)).body;
    expect(cleared.group).toBeNull();
    expect(cleared.pin).toBeNull();
  });

  it("refuses a wrong value with the field named, a viewer or reviewer, a missing form token and another workspace's account", async () => {
    const { api, ws, ids } = await world();
    const admin = await signIn(ws.admin);
    const page = await request(`/console/accounts/${ids.west}`, { cookie: admin });
    const post = (cookie: string, fields: Record<string, string>, id = ids.west) =>
      request(`/console/accounts/${id}/settings`, {
        method: "POST",
        headers: FORM,
        cookie,
        body: new URLSearchParams(fields).toString(),
      });
    const bad = await post(admin, { _csrf: csrfOf(page.text), pin_countries: "Japan", pin_asns: "AS7684" });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("pin.countries.0");
    expect(bad.text).toContain("pin.asns.0");
    expect((await post(admin, { group: "grp_x" })).status).toBe(403);

    for (const token of [ws.viewer, ws.reviewer]) {
      const cookie = await signIn(token);
      const own = await request(`/console/accounts/${ids.west}`, { cookie });
      expect(own.text).not.toContain("/settings");
      expect((await post(cookie, { _csrf: csrfOf(own.text), group: "grp_x" })).status).toBe(403);
    }
    const other = await newWorkspace(t.database);
    const otherAdmin = await signIn(other.admin);
    const otherPage = await request("/console", { cookie: otherAdmin });
    expect((await post(otherAdmin, { _csrf: csrfOf(otherPage.text), group: "grp_x" })).status).toBe(404);
    expect((await api.get(`/v1/accounts/${ids.west}`, ws.viewer)).body.group).toBe("grp_n");
  });
});

describe("console case page of a shared device", () => {
  it("lists the other group's account that shares it, and the likelihoods behind the risk score", async () => {
    const { ws, ids, refs } = await world();
    const cookie = await signIn(ws.viewer);
    const queue = await request(`/console?rule=shared_device&account=${encodeURIComponent(refs.south.ref)}`, {
      cookie,
    });
    const caseId = /href="\/console\/cases\/([^"]+)"/.exec(queue.text)?.[1];
    expect(caseId).toBeTruthy();
    const page = await request(`/console/cases/${caseId}`, { cookie });
    expect(page.status).toBe(200);
    const related = page.text.split("Related accounts")[1]!.split("</table>")[0]!;
    // North shares the laptop with south: both are the case's own accounts. East reaches them through the subnet.
    expect(page.text).toContain(`tiktok_shop/${refs.south.ref}`);
    expect(related).toContain(`href="/console/accounts/${ids.east}"`);
    expect(related).toContain("73.15.20.0/24");
    expect(related).not.toContain(`href="/console/accounts/${ids.north}"`);
    expect(related).not.toContain(`href="/console/accounts/${ids.west}"`);
    // The score's table: each feature with its share in the workspace and its likelihood for the account.
    const risk = page.text.split("Why the risk score")[1]!.split("</table>")[0]!;
    expect(risk).toMatch(/Risk \d+ of 100 for event/);
    for (const label of ["IP address", "Device", "Share in the workspace", "Likelihood for this account"]) {
      expect(risk).toContain(label);
    }
    expect(risk).toMatch(/(raises|lowers) risk by \d+\.\d/);
    expect(humanText(page.text)).not.toMatch(/acc_[0-9a-z]{6,}/);
    const zh = await request(`/console/cases/${caseId}`, { cookie, headers: { "accept-language": "zh-CN" } });
    expect(zh.text).toContain("风险分数的依据");
    expect(zh.text).toContain("相关账号");
  });
});

describe("console associations graph", () => {
  it("draws one node per account of a cluster and one edge per link, each kind its own line, nodes linking to accounts", async () => {
    const { ws, ids, links } = await world();
    expect(links.clusters).toHaveLength(1);
    const cluster = links.clusters[0] as { account_ids: string[] };
    const active = (links.links as Array<{ allowed: boolean; kind: string }>).filter((l) => !l.allowed);
    const page = await request("/console/associations", { cookie: await signIn(ws.viewer) });
    expect(page.status).toBe(200);
    const figures = page.text.split('<figure class="card cluster"').slice(1);
    expect(figures).toHaveLength(1);
    const svg = figures[0]!;
    const nodes = [...svg.matchAll(/<a class="node" href="\/console\/accounts\/([^"]+)"/g)].map((m) => m[1]);
    expect(nodes.sort()).toEqual([...cluster.account_ids].sort());
    expect(nodes).not.toContain(ids.west);
    const edges = [...svg.matchAll(/<path class="edge edge-(\w+)"/g)].map((m) => m[1]);
    expect(edges.sort()).toEqual(active.map((l) => l.kind).sort());
    // A device, an IP and a subnet link all exist here, each drawn its own way.
    expect(new Set(edges)).toEqual(new Set(["device", "ip", "subnet"]));
    expect(page.text).toContain("same device (solid)");
    // Groups are colours: north and south differ; east has none and is grey.
    const fill = (id: string) => new RegExp(`accounts/${id}"[^>]*><circle[^>]*fill="([^"]+)"`).exec(svg)?.[1];
    expect(fill(ids.north)).not.toBe(fill(ids.south));
    expect(fill(ids.east)).toBe("#999999");
    // Labels are platform/ref, escaped; no internal id in what a person reads.
    expect(svg).toContain("tiktok_shop/&lt;b&gt;x&lt;/b&gt;");
    expect(svg).not.toContain("<b>x</b>");
    expect(humanText(page.text)).not.toMatch(/\bacc_[0-9a-z]+/);
    // Deterministic: the same data draws the same picture.
    const again = await request("/console/associations", { cookie: await signIn(ws.viewer) });
    expect(again.text.split('<figure class="card cluster"')[1]).toBe(svg);
  });

  it("says so when nothing is shared", async () => {
    const ws = await newWorkspace(t.database);
    const page = await request("/console/associations", { cookie: await signIn(ws.viewer) });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('class="node"');
    expect(page.text).toContain("No account shares a device or network");
  });
});

describe("console accounts pages in both languages", () => {
  it("render with Chinese labels for Accept-Language zh-CN, linked from the header, and need a session", async () => {
    const { ws, ids } = await world();
    const cookie = await signIn(ws.viewer);
    const zh = { "accept-language": "zh-CN,zh;q=0.9" };
    const list = await request("/console/accounts", { cookie, headers: zh });
    expect(list.text).toContain('<html lang="zh-CN">');
    expect(list.text).toContain("隔离组");
    expect(list.text).toContain("未处理发现");
    expect(list.text).toContain('<a href="/console/associations">关联</a>');
    const account = await request(`/console/accounts/${ids.south}`, { cookie, headers: zh });
    expect(account.text).toContain("基线：此账号的正常情况");
    expect(account.text).toContain("最近事件");
    expect(account.text).toContain("已学习");
    const graph = await request("/console/associations", { cookie, headers: zh });
    expect(graph.text).toContain("同一设备（实线）");
    expect(graph.text).toContain("关联簇 1");
    // The English pages carry no Chinese label, and the queue links to both new pages.
    const en = await request("/console", { cookie, headers: { "accept-language": "en" } });
    expect(en.text).toContain('<a href="/console/accounts">Accounts</a>');
    expect(en.text).toContain('<a href="/console/associations">Associations</a>');
    for (const path of ["/console/accounts", `/console/accounts/${ids.south}`, "/console/associations"]) {
      const anonymous = await request(path);
      expect(anonymous.status, path).toBe(303);
      expect(anonymous.headers.get("location")).toBe("/console/login");
      const page = await request(path, { cookie, headers: { "accept-language": "en" } });
      expect(page.status).toBe(200);
      expect(page.text.replace("中文", "")).not.toMatch(/[\u4e00-\u9fff]/);
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(page.text).not.toMatch(/<script>|style="/);
    }
  });
});
