import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, freePort } from "../support/server.ts";

/**
 * The console in Debian's chromium against `tether demo`: a real server process fed the demo's matrix through
 * the API. Screenshots go to test-results/console/ (ignored by git).
 */
const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(process.cwd(), "test-results", "console");
const XSS_OPERATOR = "<script>alert(1)</script>";
const XSS_UA = `"><img src=x onerror=alert(1)>`;

interface Demo {
  child: ChildProcess;
  cwd: string;
  base: string;
  admin: string;
}

async function startDemo(): Promise<Demo> {
  const cwd = await mkdtemp(join(tmpdir(), "tether-console-"));
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, "demo", "--port", String(port)], {
    cwd,
    env: { ...process.env, DATABASE_URL: "", TETHER_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const ready = await new Promise<boolean>((done) => {
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("Press Ctrl+C")) done(true);
    });
    child.once("exit", () => done(false));
  });
  if (!ready) throw new Error(`the demo stopped:\n${out}\n${err}`);
  const admin = /Admin token \/ 管理员令牌:\s+(\S+)/.exec(out)?.[1];
  if (!admin) throw new Error(`no admin token in the demo's report:\n${out}`);
  return { child, cwd, base: `http://127.0.0.1:${port}`, admin };
}

async function stopDemo(demo: Demo | undefined): Promise<void> {
  if (!demo) return;
  if (demo.child.exitCode === null) {
    const exited = new Promise((done) => demo.child.once("exit", done));
    demo.child.kill("SIGTERM");
    const killed = setTimeout(() => demo.child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(killed);
  }
  await rm(demo.cwd, { recursive: true, force: true });
}

describe.skipIf(Boolean(process.env.DATABASE_URL) || !existsSync(CHROMIUM))(
  "the console in a browser",
  () => {
    let demo: Demo;
    let browser: Browser;
    const tokens = { reviewer: "", viewer: "" };
    let xssCase = "";

    const api = async <T = unknown>(
      method: string,
      path: string,
      body?: unknown,
      token = demo.admin,
    ): Promise<T> => {
      const res = await fetch(`${demo.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };

    /** A signed-in page in a context of its own (its own cookies), watching for dialogs. */
    async function signedIn(
      token: string,
      locale = "en-US",
    ): Promise<{ context: BrowserContext; page: Page; dialogs: string[] }> {
      const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
      context.setDefaultTimeout(20_000);
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`${demo.base}/`);
      expect(new URL(page.url()).pathname).toBe("/console/login");
      await page.fill('input[name="token"]', token);
      await Promise.all([
        page.waitForURL(`${demo.base}/console`),
        page.click('button[type="submit"].primary'),
      ]);
      return { context, page, dialogs };
    }

    beforeAll(async () => {
      demo = await startDemo();
      tokens.reviewer = (
        await api<{ token: string }>("POST", "/v1/tokens", { name: "rita (reviewer)", role: "reviewer" })
      ).token;
      tokens.viewer = (
        await api<{ token: string }>("POST", "/v1/tokens", { name: "victor (viewer)", role: "viewer" })
      ).token;
      // A store whose operator and browser carry markup: the console must show it as text.
      const env = await api<{ token: string }>("POST", "/v1/environments", {
        name: "hostile profile",
        account_ids: [],
      });
      const at = new Date(Date.now() - 5 * 60_000).toISOString();
      const posted = await api<{ results: Array<{ account_id: string }> }>(
        "POST",
        "/v1/events",
        {
          events: [
            {
              id: "xss-0001",
              type: "login",
              occurred_at: at,
              account: { platform: "amazon", ref: "xss-store" },
              operator: XSS_OPERATOR,
              env: {
                ip: "73.15.20.1",
                device_id: "dev-xss",
                timezone: "Asia/Shanghai",
                locale: "en-US",
                user_agent: XSS_UA,
              },
            },
          ],
        },
        env.token,
      );
      const alerts = await api<{ alerts: Array<{ id: string }> }>(
        "GET",
        `/v1/alerts?account_id=${posted.results[0]!.account_id}`,
      );
      xssCase = alerts.alerts.map((a) => a.id).sort()[0]!;
      await mkdir(SHOTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await stopDemo(demo);
    }, 60_000);

    it("signs in, shows the demo's Tokyo login as one case, filters to critical and acknowledges a case", async () => {
      const { context, page } = await signedIn(tokens.reviewer);
      const tokyo = page.locator("tr.case", { hasText: "tiktok_shop/us-west-04" });
      await expect(tokyo.count()).resolves.toBe(1);
      const rules = await tokyo.locator(".rule").allTextContents();
      expect(rules.sort()).toEqual(["new_country", "new_ip", "new_network", "timezone_mismatch"]);
      await expect(page.locator("tr.case", { hasText: "tiktok_shop/us-west-09" }).count()).resolves.toBe(1);
      await page.screenshot({ path: join(SHOTS, "queue.png"), fullPage: true });

      // The select submits itself (console.js): no click on "Filter".
      await Promise.all([
        page.waitForURL(/severity=critical/),
        page.selectOption('select[name="severity"]', "critical"),
      ]);
      const critical = page.locator("tr.case");
      expect(await critical.count()).toBeGreaterThan(0);
      expect(await page.locator("tr.case .sev:not(.sev-critical)").count()).toBe(0);

      const caseId = (await critical.first().getAttribute("data-case"))!;
      await critical.first().locator("a").click();
      await page.waitForURL(`${demo.base}/console/cases/${caseId}`);
      const findings = await page.locator("section.finding").count();
      await page.fill('textarea[name="note"]', "hotspot during the outage, asked the operator");
      await page.check('input[name="verdict"][value="actionable"]');
      await page.screenshot({ path: join(SHOTS, "case.png"), fullPage: true });
      await page.click('button[name="action"][value="acknowledge"]');
      await expect(page.locator(".flash").textContent()).resolves.toMatch(
        /Acknowledge: \d+ findings changed/,
      );
      await expect(page.locator("ol.audit li").first().textContent()).resolves.toContain("rita (reviewer)");

      const alert = await api<{ status: string; note: string }>("GET", `/v1/alerts/${caseId}`);
      expect(alert).toMatchObject({
        status: "acknowledged",
        note: "hotspot during the outage, asked the operator",
      });
      const audit = await api<{ audit: Array<{ target_id: string; actor_name: string }> }>(
        "GET",
        "/v1/audit?action=alert.acknowledge",
      );
      expect(audit.audit.length).toBeGreaterThanOrEqual(findings);
      expect(audit.audit.map((a) => a.target_id)).toContain(caseId);
      await context.close();
    }, 120_000);

    it("trusts the Tokyo case as a whole and shows an incident declared meanwhile on every page", async () => {
      const { context, page } = await signedIn(tokens.reviewer);
      await page.locator("tr.case", { hasText: "tiktok_shop/us-west-04" }).locator("a").click();
      await page.click('button[name="action"][value="trust"]');
      await expect(page.locator(".flash").textContent()).resolves.toMatch(/Trust: 4 findings changed/);
      const accounts = await api<{ accounts: Array<{ id: string; ref: string }> }>(
        "GET",
        "/v1/accounts?limit=100",
      );
      const tokyo = accounts.accounts.find((a) => a.ref === "us-west-04")!;
      const alerts = await api<{ alerts: Array<{ status: string; rule: string }> }>(
        "GET",
        `/v1/alerts?account_id=${tokyo.id}&since=${new Date(Date.now() - 6 * 3_600_000).toISOString()}`,
      );
      expect(
        alerts.alerts
          .filter((a) => a.status === "resolved")
          .map((a) => a.rule)
          .sort(),
      ).toEqual(expect.arrayContaining(["new_country", "new_ip", "new_network", "timezone_mismatch"]));

      await api("POST", "/v1/incidents", {
        platform: "amazon",
        title: "Seller Central login errors",
        started_at: new Date(Date.now() - 60_000).toISOString(),
      });
      await page.goto(`${demo.base}/console`);
      await expect(page.locator(".banner").first().textContent()).resolves.toContain(
        "Seller Central login errors",
      );
      // The banner opens the incident: its facts, timeline and review, and a reviewer may close it.
      await page.locator(".banner a.incident-link", { hasText: "Seller Central login errors" }).click();
      await page.waitForURL(/\/console\/incidents\/inc_/);
      await expect(page.locator("h1").textContent()).resolves.toContain("Seller Central login errors");
      expect(await page.locator("section.review h2").count()).toBeGreaterThan(0);
      await page.click('a[href="/console/incidents"]');
      await page.waitForURL(`${demo.base}/console/incidents`);
      expect(await page.locator("tbody tr", { hasText: "Seller Central login errors" }).count()).toBe(1);
      // The demo's outage, detected from its failing logins: its timeline holds the cases raised under it.
      await page.locator("tbody tr", { hasText: "tiktok_shop" }).first().locator("a").first().click();
      await page.waitForURL(/\/console\/incidents\/inc_/);
      expect(await page.locator('a[href^="/console/cases/"]').count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(SHOTS, "incident.png"), fullPage: true });
      await context.close();
    }, 120_000);

    it("shows a viewer no actions, and the server refuses a forced action and a post without the form's token", async () => {
      const viewer = await signedIn(tokens.viewer);
      await viewer.page.goto(`${demo.base}/console/cases/${xssCase}`);
      expect(await viewer.page.locator('button[name="action"]').count()).toBe(0);
      const csrf = (await viewer.page.locator('input[name="_csrf"]').first().getAttribute("value"))!;
      const forced = await viewer.context.request.post(`${demo.base}/console/cases/${xssCase}/act`, {
        headers: { origin: demo.base },
        form: { _csrf: csrf, action: "acknowledge" },
        maxRedirects: 0,
      });
      expect(forced.status()).toBe(403);
      await viewer.context.close();

      const reviewer = await signedIn(tokens.reviewer);
      const noToken = await reviewer.context.request.post(`${demo.base}/console/cases/${xssCase}/act`, {
        headers: { origin: demo.base },
        form: { action: "acknowledge" },
        maxRedirects: 0,
      });
      expect(noToken.status()).toBe(403);
      const alert = await api<{ status: string }>("GET", `/v1/alerts/${xssCase}`);
      expect(alert.status).toBe("open");
      await reviewer.context.close();
    }, 120_000);

    it("renders an operator and user agent carrying markup as text: no dialog, no injected element", async () => {
      const { context, page, dialogs } = await signedIn(tokens.reviewer);
      await page.goto(`${demo.base}/console/cases/${xssCase}`);
      await expect(page.locator("td.operator").first().textContent()).resolves.toBe(XSS_OPERATOR);
      await expect(page.locator(".ua").first().textContent()).resolves.toBe(XSS_UA);
      expect(await page.locator("img").count()).toBe(0);
      expect(await page.locator("main script").count()).toBe(0);
      await page.goto(`${demo.base}/console?account=amazon%2Fxss-store`);
      expect(await page.locator("tr.case").count()).toBe(1);
      expect(dialogs).toEqual([]);
      await context.close();
    }, 120_000);

    it("draws the demo's shared devices and networks as a graph whose nodes open the account's page", async () => {
      const { context, page } = await signedIn(tokens.viewer);
      await page.click('a[href="/console/associations"]');
      await page.waitForURL(`${demo.base}/console/associations`);
      const nodes = page.locator("figure.cluster a.node");
      expect(await nodes.count()).toBeGreaterThan(1);
      expect(await page.locator("figure.cluster path.edge").count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(SHOTS, "graph.png"), fullPage: true });

      const account = (await nodes.first().getAttribute("data-account"))!;
      await nodes.first().click();
      await page.waitForURL(`${demo.base}/console/accounts/${account}`);
      expect(await page.locator("table.baseline tbody tr").count()).toBeGreaterThan(0);
      // People read platform/ref, never the internal id.
      expect(await page.locator("main").textContent()).not.toContain(account);
      await page.screenshot({ path: join(SHOTS, "account.png"), fullPage: true });
      await context.close();
    }, 120_000);

    it("walks the same pages in Chinese", async () => {
      const { context, page } = await signedIn(tokens.viewer, "zh-CN");
      await expect(page.locator("html").getAttribute("lang")).resolves.toBe("zh-CN");
      await expect(page.locator("h1").textContent()).resolves.toContain("案件");
      await expect(page.locator("th").first().textContent()).resolves.toBe("严重程度");
      await page.locator("tr.case", { hasText: "tiktok_shop/us-west-03" }).locator("a").click();
      await expect(page.locator("section.finding h3").first().textContent()).resolves.toContain(
        "在该账号未使用过的设备上使用",
      );
      await expect(page.locator("section.finding dt").first().textContent()).resolves.toBe("时间");
      await expect(page.locator("body").textContent()).resolves.toContain("已知设备数");
      await expect(page.locator("body").textContent()).resolves.toContain("店铺当地时间");
      await page.screenshot({ path: join(SHOTS, "case-zh.png"), fullPage: true });
      // Switched back to English, remembered across pages.
      await page.click('a[lang="en"]');
      await page.goto(`${demo.base}/console`);
      await expect(page.locator("html").getAttribute("lang")).resolves.toBe("en");
      await context.close();
    }, 120_000);
  },
);
