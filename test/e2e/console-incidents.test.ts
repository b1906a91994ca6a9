import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { consoleClient, csrfOf } from "../support/console.ts";
import {
  event,
  IP,
  LA,
  MINUTE,
  newEnvironment,
  newWorkspace,
  uid,
  type Workspace,
} from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

// The incident pages through the real app in-process: forms, roles, CSRF, languages, workspaces, escaping.
const t = useTestApp();
const T0 = Date.parse("2026-02-03T08:00:00Z");
const ZH = "tether_lang=zh-CN";
const EN = "tether_lang=en";
const { request, signIn, post } = consoleClient(t);

/** An incident declared through the API at T0, the clock half an hour into it. */
async function declared(ws: Workspace, title = "TikTok Shop US login failures", startedAt = T0) {
  t.clock.set(new Date(T0 + 30 * MINUTE));
  const res = await client(t.app).post("/v1/incidents", ws.reviewer, {
    platform: "tiktok_shop",
    title,
    started_at: new Date(startedAt).toISOString(),
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const incidentsOf = async (ws: Workspace) =>
  (await client(t.app).get("/v1/incidents", ws.viewer)).body.incidents as Array<{
    id: string;
    title: string;
    platform: string;
    region: string | null;
    source: string;
    status: string;
    started_at: string;
  }>;

const auditOf = async (ws: Workspace, action: string) =>
  (await client(t.app).get(`/v1/audit?action=${action}`, ws.admin)).body.audit as Array<{
    actor_name: string;
    target_id: string;
  }>;

describe("declaring an incident in the console", () => {
  it("declares from the list's form: the API lists it, the declaration is audited, every banner links to it", async () => {
    const ws = await newWorkspace(t.database);
    t.clock.set(new Date(T0 + 30 * MINUTE));
    const cookie = await signIn(ws.reviewer);
    const list = await request("/console/incidents", { cookie });
    expect(list.status).toBe(200);
    expect(list.text).toContain('method="post" action="/console/incidents"');
    // The start defaults to now, to the minute, in UTC.
    expect(list.text).toContain('value="2026-02-03T08:30"');

    const done = await post("/console/incidents", cookie, {
      _csrf: csrfOf(list.text),
      platform: "tiktok_shop",
      region: "us",
      title: "TikTok Shop US login failures",
      started_at: "2026-02-03T08:05",
    });
    expect(done.status).toBe(303);
    const id = /^\/console\/incidents\/([^/]+)$/.exec(done.headers.get("location") ?? "")?.[1];
    expect(id).toBeTruthy();

    expect(await incidentsOf(ws)).toEqual([
      expect.objectContaining({
        id,
        platform: "tiktok_shop",
        region: "US",
        title: "TikTok Shop US login failures",
        source: "declared",
        status: "active",
        started_at: "2026-02-03T08:05:00.000Z",
      }),
    ]);
    expect(await auditOf(ws, "incident.declared")).toEqual([
      expect.objectContaining({ actor_name: "reviewer test", target_id: id }),
    ]);

    const queue = await request("/console", { cookie });
    expect(queue.text).toMatch(
      new RegExp(`class="banner"[^>]*><a class="incident-link" href="/console/incidents/${id}">`),
    );
    const listed = await request("/console/incidents?status=active&platform=tiktok_shop", { cookie });
    expect(listed.text).toContain(`<a href="/console/incidents/${id}">TikTok Shop US login failures</a>`);
    expect((await request("/console/incidents?status=closed", { cookie })).text).not.toContain(
      `<a href="/console/incidents/${id}">`,
    );
  });

  it("shows a form that does not parse again with the fields named, and declares nothing", async () => {
    const ws = await newWorkspace(t.database);
    const cookie = await signIn(ws.reviewer);
    const list = await request("/console/incidents", { cookie });
    const refused = await post("/console/incidents", cookie, {
      _csrf: csrfOf(list.text),
      platform: "TikTok Shop!",
      title: "kept title",
      started_at: "",
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("platform");
    expect(refused.text).toContain('value="kept title"');
    expect(await incidentsOf(ws)).toEqual([]);
  });
});

describe("an incident's page", () => {
  /**
   * Three isolated stores log in before the incident; during it two of them fail from two networks (short of
   * detection's quorum of three) and the third edits a binding.
   */
  async function outage(ws: Workspace, id: string) {
    const api = client(t.app);
    const agent = await newEnvironment(api, ws.admin);
    const refs = [uid("us-a-"), uid("us-b-"), uid("us-c-")];
    const ips = [IP.home, IP.otherNetwork, IP.virginia];
    const failed = { status: "error" as const, code: "http_5xx", http_status: 500 };
    const events = refs.flatMap((ref, i) => [
      event(T0 - 20 * MINUTE, { ref, env: { ...LA, ip: ips[i]!, device_id: `dev-${ref}` } }),
      ...(i === 0
        ? []
        : [
            event(T0 + 5 * MINUTE, {
              ref,
              env: { ...LA, ip: ips[i]!, device_id: `dev-${ref}` },
              result: failed,
            }),
          ]),
    ]);
    events.push(
      event(T0 + 8 * MINUTE, {
        ref: refs[0]!,
        type: "operation",
        operation: "binding_change",
        operator: "li.wei",
        env: { ...LA, ip: ips[0]!, device_id: `dev-${refs[0]}` },
      }),
    );
    expect((await api.post("/v1/events", agent.token, { events })).status).toBe(202);
    const alerts = (await api.get(`/v1/alerts?incident_id=${id}`, ws.admin)).body.alerts as Array<{
      rule: string;
    }>;
    expect(alerts.map((a) => a.rule)).toContain("sensitive_op_during_incident");
    return refs;
  }

  it("lists the cases raised under it with links, and reviews it in Chinese and in English", async () => {
    const ws = await newWorkspace(t.database);
    const id = await declared(ws);
    const refs = await outage(ws, id);
    const cookie = await signIn(ws.viewer);

    const zh = await request(`/console/incidents/${id}`, { cookie: `${cookie}; ${ZH}` });
    expect(zh.status).toBe(200);
    const caseLinks = [...zh.text.matchAll(/href="\/console\/cases\/([^"]+)"/g)].map((m) => m[1]!);
    expect(caseLinks).toHaveLength(1);
    const kase = await request(`/console/cases/${caseLinks[0]}`, { cookie });
    expect(kase.status).toBe(200);
    expect(kase.text).toContain(`tiktok_shop/${refs[0]}`);
    expect(zh.text).toContain(`产生案件：tiktok_shop/${refs[0]}`);
    expect(zh.text).toContain("binding_change");
    for (const words of ["故障复盘", "复盘结论", "成功率", "临时处置操作", "时间线"]) {
      expect(zh.text).toContain(words);
    }
    // The lessons in Chinese only: the platform fault read from two networks, the avoidable edit, still active.
    expect(zh.text).toContain(
      "3 个 tiktok_shop 账号中有 2 个出现 http_5xx 失败，来自 2 个不同网络：这是平台故障",
    );
    expect(zh.text).toContain("0 次切换网络、0 次重试风暴和 1 次敏感操作本可避免（涉及 1 名操作人员）");
    expect(zh.text).toContain("事件仍在进行");
    expect(zh.text).not.toContain("a platform fault, not account risk control");
    // Logins fell from all to none during the incident.
    expect(zh.text).toMatch(
      /<td>登录<\/td><td>100% <span class="muted">\(3\/3\)<\/span><\/td><td>0% <span class="muted">\(0\/2\)/,
    );
    // The stores are named by platform/ref, never by internal id.
    expect(zh.text).not.toMatch(/\bacc_[0-9a-z]+/);

    const en = await request(`/console/incidents/${id}`, { cookie: `${cookie}; ${EN}` });
    expect(en.text).toContain("Post-incident review");
    expect(en.text).toContain(
      "2 of 3 tiktok_shop accounts failed with http_5xx from 2 networks: a platform fault, not account risk control",
    );
    expect(en.text).toContain("0 network switches, 0 retry storms and 1 sensitive operation were avoidable");
    expect(en.text).not.toContain("复盘结论");

    const md = await request(`/console/incidents/${id}/review.md`, { cookie });
    expect(md.status).toBe(200);
    expect(md.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(md.headers.get("content-disposition")).toBe(`attachment; filename="review-${id}.md"`);
    expect(md.text).toContain("# Recovery review / 复盘：TikTok Shop US login failures");
    expect(md.text).toContain("a platform fault, not account risk control / 3 个 tiktok_shop 账号中有 2 个");
    expect(en.text).toContain(`href="/console/incidents/${id}/review.md"`);
  });

  it("closes the incident for a reviewer: audited, closed in the API, the banner gone, a second close refused", async () => {
    const ws = await newWorkspace(t.database);
    const id = await declared(ws);
    const cookie = await signIn(ws.reviewer);
    const page = await request(`/console/incidents/${id}`, { cookie: `${cookie}; ${EN}` });
    expect(page.text).toContain(`action="/console/incidents/${id}/close"`);
    expect(page.text).toContain('class="incident-link"');

    t.clock.set(new Date(T0 + 40 * MINUTE));
    const closed = await post(`/console/incidents/${id}/close`, `${cookie}; ${EN}`, {
      _csrf: csrfOf(page.text),
    });
    expect(closed.status).toBe(200);
    expect(closed.text).toContain("The incident is closed.");
    expect(closed.text).not.toContain(`action="/console/incidents/${id}/close"`);
    expect(closed.text).not.toContain('class="incident-link"');
    expect(closed.text).toContain("40 min");
    const [incident] = await incidentsOf(ws);
    expect(incident).toMatchObject({ id, status: "closed", ended_at: "2026-02-03T08:40:00.000Z" });
    expect(await auditOf(ws, "incident.closed")).toEqual([
      expect.objectContaining({ actor_name: "reviewer test", target_id: id }),
    ]);

    const again = await post(`/console/incidents/${id}/close`, cookie, { _csrf: csrfOf(page.text) });
    expect(again.status).toBe(409);
    expect(await auditOf(ws, "incident.closed")).toHaveLength(1);
  });
});

describe("the incident list", () => {
  const rowsOf = (html: string) => [...html.matchAll(/data-incident="([^"]+)"/g)].map((m) => m[1]!);

  it("puts active incidents first, then the newest, a page at a time, filtered by status and platform", async () => {
    const ws = await newWorkspace(t.database);
    const api = client(t.app);
    const ids: string[] = [];
    for (let i = 0; i < 26; i++) ids.push(await declared(ws, `outage ${i}`, T0 - (26 - i) * MINUTE));
    // All but one of them closed: the oldest stays active, so it leads the list.
    for (const id of ids.slice(1))
      expect((await api.post(`/v1/incidents/${id}/close`, ws.reviewer)).status).toBe(200);
    const amazon = (
      await api.post("/v1/incidents", ws.reviewer, { platform: "amazon", title: "amazon outage" })
    ).body.id as string;
    const cookie = await signIn(ws.viewer);

    const first = await request("/console/incidents?platform=tiktok_shop", { cookie: `${cookie}; ${EN}` });
    expect(first.text).toContain("26 incidents");
    expect(rowsOf(first.text)).toEqual([ids[0], ...ids.slice(1).reverse()].slice(0, 25));
    expect(first.text).toContain('href="/console/incidents?platform=tiktok_shop&amp;page=2"');
    const second = await request("/console/incidents?platform=tiktok_shop&page=2", { cookie });
    expect(rowsOf(second.text)).toEqual([ids[1]]);

    const active = await request("/console/incidents?status=active", { cookie });
    expect(rowsOf(active.text).sort()).toEqual([ids[0], amazon].sort());
    expect(rowsOf((await request("/console/incidents?platform=amazon", { cookie })).text)).toEqual([amazon]);
    expect((await request("/console/incidents?status=paused", { cookie })).status).toBe(400);
  });

  it("shows what a detected incident was detected from, naming the stores by platform/ref", async () => {
    const ws = await newWorkspace(t.database);
    const api = client(t.app);
    t.clock.set(new Date(T0 + 30 * MINUTE));
    const agent = await newEnvironment(api, ws.admin);
    const refs = [uid("dt-a-"), uid("dt-b-"), uid("dt-c-")];
    const ips = [IP.home, IP.otherNetwork, IP.virginia];
    const failed = { status: "error" as const, code: "timeout" };
    const events = refs.flatMap((ref, i) => [
      event(T0 - 20 * MINUTE, { ref, env: { ...LA, ip: ips[i]!, device_id: `dev-${ref}` } }),
      event(T0 + 5 * MINUTE, { ref, env: { ...LA, ip: ips[i]!, device_id: `dev-${ref}` }, result: failed }),
    ]);
    expect((await api.post("/v1/events", agent.token, { events })).status).toBe(202);
    const [detected] = await incidentsOf(ws);
    expect(detected).toMatchObject({ source: "detected", platform: "tiktok_shop" });

    const cookie = await signIn(ws.viewer);
    const page = await request(`/console/incidents/${detected!.id}`, { cookie: `${cookie}; ${EN}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Detection evidence");
    expect(page.text).toMatch(/3 of 3 active accounts failing \(100%\) from 3 networks/);
    for (const ref of refs) expect(page.text).toContain(`tiktok_shop/${ref}`);
    expect(page.text).not.toMatch(/\bacc_[0-9a-z]+/);
  });
});

describe("who may change incidents", () => {
  it("shows a viewer no declare or close controls and refuses a forced POST with 403", async () => {
    const ws = await newWorkspace(t.database);
    const id = await declared(ws);
    const cookie = await signIn(ws.viewer);
    const list = await request("/console/incidents", { cookie: `${cookie}; ${EN}` });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('method="post" action="/console/incidents"');
    expect(list.text).toContain("Viewers can read incidents");
    const page = await request(`/console/incidents/${id}`, { cookie });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain("/close");

    const csrf = csrfOf(list.text);
    expect(csrf).not.toBe("");
    const declare = await post("/console/incidents", cookie, {
      _csrf: csrf,
      platform: "amazon",
      title: "forced",
    });
    expect(declare.status).toBe(403);
    const close = await post(`/console/incidents/${id}/close`, cookie, { _csrf: csrf });
    expect(close.status).toBe(403);
    expect(await incidentsOf(ws)).toEqual([expect.objectContaining({ id, status: "active" })]);
  });

  it("refuses a reviewer's POST without the form's _csrf with 403", async () => {
    const ws = await newWorkspace(t.database);
    const id = await declared(ws);
    const cookie = await signIn(ws.reviewer);
    const declare = await post("/console/incidents", cookie, { platform: "amazon", title: "no token" });
    expect(declare.status).toBe(403);
    const close = await post(`/console/incidents/${id}/close`, cookie, { _csrf: "forged" });
    expect(close.status).toBe(403);
    expect(await incidentsOf(ws)).toEqual([expect.objectContaining({ id, status: "active" })]);
  });

  it("answers 404 for an unknown incident and for another workspace's", async () => {
    const ws = await newWorkspace(t.database);
    const other = await newWorkspace(t.database);
    const theirs = await declared(other, "their outage");
    const cookie = await signIn(ws.reviewer);
    const list = await request("/console/incidents", { cookie });
    for (const id of ["inc_nope", theirs]) {
      expect((await request(`/console/incidents/${id}`, { cookie })).status).toBe(404);
      expect((await request(`/console/incidents/${id}/review.md`, { cookie })).status).toBe(404);
      expect(
        (await post(`/console/incidents/${id}/close`, cookie, { _csrf: csrfOf(list.text) })).status,
      ).toBe(404);
    }
    expect(list.text).not.toContain("their outage");
    expect(await incidentsOf(other)).toEqual([expect.objectContaining({ id: theirs, status: "active" })]);
  });
});

it("renders a hostile title as text on the list, the incident page and the banner", async () => {
  const ws = await newWorkspace(t.database);
  const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
  const id = await declared(ws, hostile);
  const cookie = await signIn(ws.viewer);
  for (const path of ["/console/incidents", `/console/incidents/${id}`, "/console"]) {
    const page = await request(path, { cookie });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain("<script>alert(1)");
    expect(page.text).not.toContain("<img src=x");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  }
});
