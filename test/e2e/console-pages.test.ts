import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { consoleClient, csrfOf, FORM, form } from "../support/console.ts";
import { event, IP, newEnvironment, newWorkspace, uid, type Workspace } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

// The console through the real app in-process: sessions, CSRF, roles, escaping and headers.
const t = useTestApp({ TETHER_TRUST_PROXY: true });
const XSS_OPERATOR = "<script>alert(1)</script>";
const XSS_UA = `"><img src=x onerror=alert(1)>`;

const { request, signInPage: signIn } = consoleClient(t);

/** A workspace with one case: a login whose device timezone disagrees with its IP, by a hostile operator. */
async function world(): Promise<{ ws: Workspace; account: string; caseId: string }> {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const env = await newEnvironment(api, ws.admin);
  const ref = uid("store-");
  const res = await api.post(
    "/v1/events",
    env.token,
    event("2026-01-19T12:00:00Z", {
      ref,
      operator: XSS_OPERATOR,
      env: { ip: IP.home, device_id: uid("dev-"), timezone: "Asia/Shanghai", user_agent: XSS_UA },
    }),
  );
  const account = res.body.results[0].account_id as string;
  const alerts = (await api.get(`/v1/alerts?account_id=${account}`, ws.admin)).body.alerts as Array<{
    id: string;
  }>;
  expect(alerts.length).toBeGreaterThan(0);
  return { ws, account, caseId: alerts.map((a) => a.id).sort()[0]! };
}

describe("console sign-in", () => {
  it("sends / to the console and a visitor without a session to the sign-in page", async () => {
    expect((await request("/")).headers.get("location")).toBe("/console");
    const queue = await request("/console");
    expect(queue.status).toBe(303);
    expect(queue.headers.get("location")).toBe("/console/login");
  });

  it("keeps a user token sealed in an HttpOnly, SameSite=Strict cookie, Secure behind a TLS proxy", async () => {
    const ws = await newWorkspace(t.database);
    const plain = await signIn(ws.viewer);
    expect(plain.page.status).toBe(303);
    const set = plain.page.headers.get("set-cookie")!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toMatch(/Secure/);
    expect(set).not.toContain(ws.viewer);
    expect(set).not.toContain(ws.viewer.slice(-16));
    const tls = await signIn(ws.viewer, { "x-forwarded-proto": "https", origin: "https://localhost" });
    expect(tls.page.headers.get("set-cookie")).toMatch(/; Secure/);
    const queue = await request("/console", { cookie: plain.cookie });
    expect(queue.status).toBe(200);
    expect(queue.text).toContain("viewer test");
  });

  it("refuses unknown and agent tokens, a forged cookie and a revoked token's session", async () => {
    const ws = await newWorkspace(t.database);
    const env = await newEnvironment(client(t.app), ws.admin);
    expect((await signIn("ttu_nope_0000000000000000000000000000")).page.status).toBe(401);
    expect((await signIn(env.token)).page.status).toBe(401);
    const forged = await request("/console", {
      cookie: "tether_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    });
    expect(forged.headers.get("location")).toBe("/console/login");
    const { cookie } = await signIn(ws.reviewer);
    expect((await request("/console", { cookie })).status).toBe(200);
    const api = client(t.app);
    const mine = (await api.get("/v1/tokens?limit=500", ws.admin)).body.tokens.find(
      (x: { name: string }) => x.name === "reviewer test",
    );
    expect((await api.del(`/v1/tokens/${mine.id}`, ws.admin)).status).toBe(200);
    // The same app: the revocation cleared its auth cache, so the session ends at once.
    expect((await request("/console", { cookie })).headers.get("location")).toBe("/console/login");
  });

  it("signs out: the cookie is cleared", async () => {
    const ws = await newWorkspace(t.database);
    const { cookie } = await signIn(ws.viewer);
    const queue = await request("/console", { cookie });
    const out = await request("/console/logout", {
      method: "POST",
      headers: FORM,
      cookie,
      body: form({ _csrf: csrfOf(queue.text) }),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/tether_session=;.*Max-Age=0/);
  });
});

describe("console cases", () => {
  it("acknowledges a whole case with a note and verdict, visible through the API and its audit", async () => {
    const { ws, account, caseId } = await world();
    const { cookie } = await signIn(ws.reviewer);
    const page = await request(`/console/cases/${caseId}`, { cookie });
    expect(page.status).toBe(200);
    const done = await request(`/console/cases/${caseId}/act`, {
      method: "POST",
      headers: FORM,
      cookie,
      body: form({ _csrf: csrfOf(page.text), action: "acknowledge", note: "looking", verdict: "actionable" }),
    });
    expect(done.status).toBe(200);
    const api = client(t.app);
    const alerts = (await api.get(`/v1/alerts?account_id=${account}`, ws.admin)).body.alerts;
    for (const a of alerts) {
      expect(a.status).toBe("acknowledged");
      expect(a.note).toBe("looking");
      expect(a.verdict).toBe("actionable");
    }
    const audit = (await api.get(`/v1/audit?action=alert.acknowledge&target_id=${caseId}`, ws.admin)).body;
    expect(audit.audit).toHaveLength(1);
    expect(audit.audit[0].details).toMatchObject({ from: "open", to: "acknowledged", note: "looking" });
    expect(done.text).toContain("alert.acknowledge");
    expect(done.text).toContain("looking");
  });

  it("shows a viewer no actions and refuses a forced one; refuses a post without the form's token or from elsewhere", async () => {
    const { ws, account, caseId } = await world();
    const viewer = await signIn(ws.viewer);
    const page = await request(`/console/cases/${caseId}`, { cookie: viewer.cookie });
    expect(page.text).not.toContain('name="action"');
    const forced = await request(`/console/cases/${caseId}/act`, {
      method: "POST",
      headers: FORM,
      cookie: viewer.cookie,
      body: form({ _csrf: csrfOf(page.text), action: "acknowledge" }),
    });
    expect(forced.status).toBe(403);

    const reviewer = await signIn(ws.reviewer);
    const noToken = await request(`/console/cases/${caseId}/act`, {
      method: "POST",
      headers: FORM,
      cookie: reviewer.cookie,
      body: form({ action: "acknowledge" }),
    });
    expect(noToken.status).toBe(403);
    const reviewerPage = await request(`/console/cases/${caseId}`, { cookie: reviewer.cookie });
    const elsewhere = await request(`/console/cases/${caseId}/act`, {
      method: "POST",
      headers: { ...FORM, origin: "https://evil.example" },
      cookie: reviewer.cookie,
      body: form({ _csrf: csrfOf(reviewerPage.text), action: "acknowledge" }),
    });
    expect(elsewhere.status).toBe(403);
    // Another session's token is not this session's.
    const other = await signIn(ws.reviewer);
    const crossed = await request(`/console/cases/${caseId}/act`, {
      method: "POST",
      headers: FORM,
      cookie: other.cookie,
      body: form({ _csrf: csrfOf(reviewerPage.text), action: "acknowledge" }),
    });
    expect(crossed.status).toBe(403);
    const alerts = (await client(t.app).get(`/v1/alerts?account_id=${account}`, ws.admin)).body.alerts;
    for (const a of alerts) expect(a.status).toBe("open");
  });

  it("renders an operator and user agent carrying markup as text", async () => {
    const { ws, caseId } = await world();
    const { cookie } = await signIn(ws.viewer);
    const page = await request(`/console/cases/${caseId}`, { cookie });
    expect(page.text).not.toContain(XSS_OPERATOR);
    expect(page.text).not.toContain("<img src=x");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.text).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("shows internal ids nowhere a person reads, and refuses a filter it does not know", async () => {
    const { ws, account } = await world();
    const { cookie } = await signIn(ws.viewer);
    const queue = await request("/console", { cookie });
    const visible = queue.text.replace(/<[^>]+>/g, " ");
    expect(visible).not.toContain(account);
    expect(visible).toMatch(/tiktok_shop\/store-/);
    // What the filter form sends with nothing chosen.
    const blank = await request("/console?status=&severity=&rule=&platform=&account=&incident=", { cookie });
    expect(blank.status).toBe(200);
    const bad = await request("/console?severity=apocalyptic", { cookie });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/text\/html/);
  });
});

describe("console pages", () => {
  it("leave the API alone: no page headers, CSRF check or form body limit outside /console", async () => {
    const ws = await newWorkspace(t.database);
    const env = await newEnvironment(client(t.app), ws.admin);
    const events = Array.from({ length: 80 }, (_, i) =>
      event(Date.parse("2026-01-19T00:00:00Z") + i * 60_000, { ref: uid("bulk-") }),
    );
    const body = JSON.stringify({ events });
    expect(body.length).toBeGreaterThan(16 * 1024);
    const res = await t.app.request("/v1/events", {
      method: "POST",
      headers: {
        authorization: `Bearer ${env.token}`,
        "content-type": "application/json",
        origin: "https://elsewhere.example",
      },
      body,
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-security-policy")).toBeNull();
    const missing = await request("/no-such-page");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).error.code).toBe("not_found");
  });

  it("speak Chinese for Accept-Language zh-CN, and the language chosen is remembered", async () => {
    const ws = await newWorkspace(t.database);
    const { cookie } = await signIn(ws.viewer);
    const zh = await request("/console", { cookie, headers: { "accept-language": "zh-CN,zh;q=0.9" } });
    expect(zh.text).toContain('<html lang="zh-CN">');
    expect(zh.text).toContain("案件");
    const switched = await request("/console/lang?to=en&back=%2Fconsole", {
      headers: { "accept-language": "zh-CN" },
    });
    expect(switched.headers.get("location")).toBe("/console");
    const lang = switched.headers.get("set-cookie")!.split(";")[0]!;
    const en = await request("/console", {
      cookie: `${cookie}; ${lang}`,
      headers: { "accept-language": "zh-CN" },
    });
    expect(en.text).toContain('<html lang="en">');
    const away = await request("/console/lang?to=en&back=%2F%2Fevil.example");
    expect(away.headers.get("location")).toBe("/console");
  });

  it.each(["/console/login", "/docs"])(
    "%s carries a CSP without inline script and the other headers",
    async (path) => {
      const page = await request(path);
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      expect(page.headers.get("referrer-policy")).toBe("no-referrer");
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(page.text).not.toMatch(/<style/);
    },
  );
});

describe("console queue", () => {
  /** A workspace where one store's login mismatches its timezone during a declared incident and another's before. */
  async function outage() {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const env = await newEnvironment(api, ws.admin);
    const calm = uid("calm-");
    const during = uid("during-");
    await api.post("/v1/accounts", ws.admin, { platform: "tiktok_shop", ref: calm, group: "grp_a" });
    await api.post("/v1/accounts", ws.admin, { platform: "tiktok_shop", ref: during, group: "grp_b" });
    // Each store on its own network and device, so only its timezone is wrong: one case per store.
    const mismatch = (ip: string) => ({ ip, timezone: "Asia/Shanghai", device_id: uid("dev-") });
    await api.post(
      "/v1/events",
      env.token,
      event("2026-01-19T08:00:00Z", { ref: calm, env: mismatch(IP.home) }),
    );
    const declared = await api.post("/v1/incidents", ws.reviewer, {
      platform: "tiktok_shop",
      title: "Seller Center 502",
      started_at: "2026-01-19T10:00:00Z",
    });
    expect(declared.status).toBe(201);
    await api.post(
      "/v1/events",
      env.token,
      event("2026-01-19T11:00:00Z", { ref: during, env: mismatch(IP.otherNetwork) }),
    );
    return { ws, calm, during, incident: declared.body.id as string };
  }

  it("folds the cases of an active incident into one line that opens them, and filters by group", async () => {
    const { ws, calm, during, incident } = await outage();
    const { cookie } = await signIn(ws.viewer);
    const queue = await request("/console", { cookie });
    const folded = queue.text.split(`data-incident="${incident}"`)[1]!.split("</p>")[0]!;
    expect(folded).toContain("1 case on 1 account during the incident tiktok_shop: Seller Center 502");
    expect(folded).toContain(`href="/console?incident=${incident}"`);
    // Listed: the case from before the incident; the one under it only behind its line.
    expect(queue.text).toContain(`tiktok_shop/${calm}`);
    expect(queue.text).not.toContain(`tiktok_shop/${during}`);
    const opened = await request(`/console?incident=${incident}`, { cookie });
    expect(opened.text).toContain(`tiktok_shop/${during}`);
    expect(opened.text).not.toContain(`tiktok_shop/${calm}`);
    expect(opened.text).not.toContain("data-incident=");

    const grouped = await request("/console?group=grp_a", { cookie });
    expect(grouped.text).toContain(`tiktok_shop/${calm}`);
    expect(grouped.text).not.toContain("data-incident=");
    expect((await request("/console?group=grp_none", { cookie })).text).toContain(
      "No case matches these filters.",
    );
  });

  it("exports what is filtered as CSV, all of it, with spreadsheet formulas defused", async () => {
    const { ws, calm, during } = await outage();
    const api = client(t.app);
    const env = await newEnvironment(api, ws.admin);
    const formula = `=HYPERLINK("http://evil")`;
    await api.post("/v1/accounts", ws.admin, { platform: "amazon", ref: "店铺-1", group: formula });
    await api.post(
      "/v1/events",
      env.token,
      event("2026-01-19T09:00:00Z", {
        platform: "amazon",
        ref: "店铺-1",
        env: { ip: IP.germany, timezone: "Asia/Shanghai", device_id: uid("dev-") },
      }),
    );
    const { cookie } = await signIn(ws.viewer);
    const all = await request("/console/cases.csv", { cookie });
    expect(all.status).toBe(200);
    expect(all.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(all.headers.get("content-disposition")).toMatch(
      /^attachment; filename="tether-cases-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    // A byte-order mark first, so spreadsheet programs read UTF-8 (the fetch API's text() drops it).
    const raw = new Uint8Array(
      await (await t.app.request("/console/cases.csv", { headers: { cookie } })).arrayBuffer(),
    );
    expect([...raw.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(all.text.split("\r\n")[0]).toBe(
      "Case,Severity,Status,Account,Isolation group,Findings,First seen (UTC),Last seen (UTC),Incident,Link",
    );
    const rows = all.text.trimEnd().split("\r\n");
    // Folded or not, every case is exported: the export is the filter's, not the page's.
    expect(rows).toHaveLength(4);
    expect(all.text).toContain(`tiktok_shop/${during}`);
    expect(all.text).toContain("amazon/店铺-1");
    expect(all.text).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(all.text).not.toMatch(/(^|,)=HYPERLINK/m);

    const filtered = await request(`/console/cases.csv?platform=tiktok_shop&account=${calm}`, { cookie });
    expect(filtered.text.trimEnd().split("\r\n")).toHaveLength(2);
    expect(filtered.text).toContain(`tiktok_shop/${calm}`);
    const zh = await request("/console/cases.csv", { cookie, headers: { "accept-language": "zh-CN" } });
    expect(zh.text.startsWith("案件,严重程度,")).toBe(true);
    expect((await request("/console/cases.csv")).status).toBe(303);
    expect((await request("/console/cases.csv?severity=loud", { cookie })).status).toBe(400);
  });
});
