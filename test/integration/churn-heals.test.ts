import { sql } from "drizzle-orm";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { createMetrics } from "../../src/metrics.ts";
import { rows } from "../../src/store/db.ts";
import { client } from "../support/api.ts";
import { consoleClient } from "../support/console.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { sharedEnricher, useTestApp } from "../support/harness.ts";

const t = useTestApp();
const { request, signIn } = consoleClient(t);
const START = Date.parse("2026-01-20T00:00:00Z");
const NOW = START + 60 * 24 * HOUR;
/** Edge on Windows: another browser family on the baseline's OS family */
const EDGE_WIN =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 Edg/121.0.2277.83";
const FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0";

type Result = {
  id: string;
  account_id: string;
  risk: number;
  findings: Array<{ rule: string; severity: string }>;
};
type BaselineValue = {
  value: string;
  accepted: boolean;
  healed_at: string | null;
  heal: { clean_events: number; since: string | null; blocked: boolean } | null;
};
type Env = Record<string, unknown>;

/**
 * A workspace with one agent and an account learned over 25 hourly events from home; `send` posts events
 * of that account from `env` at the given hours after learning (each call one batch).
 */
async function learnedAccount(options: { group?: string; pin?: Env; settings?: Env } = {}) {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(NOW));
  if (options.settings)
    expect((await api.patch("/v1/settings", ws.admin, options.settings)).status).toBe(200);
  const ref = uid("store-");
  const created = await api.post("/v1/accounts", ws.admin, {
    platform: "tiktok_shop",
    ref,
    ...(options.group ? { group: options.group } : {}),
    ...(options.pin ? { pin: options.pin } : {}),
  });
  expect(created.status).toBe(201);
  const accountId = created.body.id as string;
  const agent = await newEnvironment(api, ws.admin, [accountId]);
  const learned = await api.post("/v1/events", agent.token, {
    events: Array.from({ length: 25 }, (_, i) => event(START + i * HOUR, { ref })),
  });
  expect(learned.status).toBe(202);
  const after = START + 26 * HOUR;
  const send = async (hours: number[], env: Env = {}, app = t.app): Promise<Result[]> => {
    const r = await client(app).post("/v1/events", agent.token, {
      events: hours.map((h) =>
        event(after + h * HOUR, { ref, env: { ip: IP.home, device_id: "dev-1", ...LA, ...env } }),
      ),
    });
    expect(r.status).toBe(202);
    return r.body.results;
  };
  const alerts = async (rule: string) =>
    (await api.get(`/v1/alerts?account_id=${accountId}&rule=${rule}`, ws.viewer)).body.alerts as Array<{
      id: string;
      status: string;
      verdict: string | null;
      count: number;
    }>;
  const value = async (kind: string, v: string): Promise<BaselineValue | undefined> => {
    const res = await api.get(`/v1/accounts/${accountId}/baseline`, ws.viewer);
    expect(res.status).toBe(200);
    return (res.body.values[kind] as BaselineValue[] | undefined)?.find((x) => x.value === v);
  };
  return { api, ws, agent, ref, accountId, send, alerts, value };
}

const RENEWED = { ip: IP.sameNetworkOtherSubnet };
/** n hours, `step` apart, from `from` */
const hours = (n: number, step: number, from = 0) => Array.from({ length: n }, (_, i) => from + i * step);
const rules = (r: Result) => r.findings.map((f) => `${f.rule}/${f.severity}`).sort();

describe("churn that heals", () => {
  it("heals a renewal into another /24 of the same ASN and region after 20 clean events over 72 h", async () => {
    const { api, ws, accountId, send, alerts, value } = await learnedAccount();
    // 19 clean events, 4 h apart (72 h), in several batches: the streak is kept in the database
    const first = await send(hours(10, 4), RENEWED);
    expect(rules(first[0]!)).toEqual(["new_ip/medium"]);
    for (const h of hours(9, 4, 40)) expect(rules((await send([h], RENEWED))[0]!)).toEqual(["new_ip/medium"]);
    const [alert] = await alerts("new_ip");
    expect(alert).toMatchObject({ status: "open", count: 19 });
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({
      accepted: false,
      healed_at: null,
      heal: { clean_events: 19, blocked: false },
    });

    // the 20th still raised new_ip; it is the one that heals the value
    const [twentieth] = await send([76], RENEWED);
    expect(rules(twentieth!)).toEqual(["new_ip/medium"]);
    const ip = await value("ip", IP.sameNetworkOtherSubnet);
    expect(ip).toMatchObject({ accepted: true, heal: null });
    expect(ip!.healed_at).toBe(new Date(START + 26 * HOUR + 76 * HOUR).toISOString());
    expect(await value("subnet", "76.102.5.0/24")).toMatchObject({ accepted: true });
    const [resolved] = await alerts("new_ip");
    expect(resolved).toMatchObject({ id: alert!.id, status: "resolved", verdict: "auto_learned", count: 20 });

    const audit = (
      await api.get(`/v1/audit?actor=system&target_id=${accountId}&action=baseline.auto_learned`, ws.admin)
    ).body.audit as Array<{ actor_name: string; details: Record<string, unknown> }>;
    expect(audit.map((a) => a.details.kind).sort()).toEqual(["ip", "subnet"]);
    expect(audit.find((a) => a.details.kind === "ip")).toMatchObject({
      actor_name: "system",
      details: {
        value: IP.sameNetworkOtherSubnet,
        clean_events: 20,
        count: 20,
        first_seen_at: new Date(START + 26 * HOUR).toISOString(),
        last_seen_at: new Date(START + 26 * HOUR + 76 * HOUR).toISOString(),
      },
    });
    const alertAudit = (await api.get(`/v1/audit?action=alert.auto_learned&target_id=${alert!.id}`, ws.admin))
      .body.audit;
    expect(alertAudit).toHaveLength(1);
    expect(alertAudit[0]).toMatchObject({
      actor_name: "system",
      details: { from: "open", to: "resolved", verdict: "auto_learned" },
    });

    // the console's account page says how each value got into the baseline, in both languages
    const cookie = await signIn(ws.viewer);
    const row = (html: string, kind: string, v: string) =>
      html
        .split(`data-kind="${kind}"`)
        .find((r) => r.includes(`>${v}<`))!
        .split("</tr>")[0]!;
    const en = (
      await request(`/console/accounts/${accountId}`, { cookie, headers: { "accept-language": "en" } })
    ).text;
    expect(row(en, "ip", IP.sameNetworkOtherSubnet)).toContain("source-auto_learned");
    expect(row(en, "ip", IP.sameNetworkOtherSubnet)).toContain("healed by itself");
    expect(row(en, "ip", IP.home)).toContain("source-learned");
    const zh = (
      await request(`/console/accounts/${accountId}`, { cookie, headers: { "accept-language": "zh-CN" } })
    ).text;
    expect(row(zh, "ip", IP.sameNetworkOtherSubnet)).toContain("已自动学习");
    const kase = await request(`/console/cases/${alert!.id}`, {
      cookie,
      headers: { "accept-language": "en" },
    });
    expect(kase.text).toContain("system · alert.auto_learned · open → resolved · auto_learned");

    // afterwards the value is normal: no finding, and a risk like the original network's
    const [healed] = await send([80], RENEWED);
    const [home] = await send([81]);
    expect(healed!.findings).toEqual([]);
    expect(home!.findings).toEqual([]);
    expect(twentieth!.risk).toBeGreaterThanOrEqual(40);
    expect(Math.abs(healed!.risk - home!.risk)).toBeLessThanOrEqual(10);
    expect(healed!.risk).toBeLessThan(twentieth!.risk);
  });

  it("does not heal before the streak spans 72 hours, however many events it has", async () => {
    const { send, alerts, value } = await learnedAccount();
    await send(hours(30, 2), RENEWED); // 30 events over 58 h
    // another server process on the same database carries the streak on: it lives in the database
    const other = createApp({
      database: t.database,
      env: t.env,
      clock: t.clock,
      logger: pino({ level: "silent" }),
      enricher: await sharedEnricher(),
      metrics: createMetrics(),
    });
    await send([71], RENEWED, other);
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({
      accepted: false,
      heal: { clean_events: 31 },
    });
    expect((await alerts("new_ip"))[0]).toMatchObject({ status: "open" });
    const [at72] = await send([72], RENEWED);
    expect(rules(at72!)).toEqual(["new_ip/medium"]);
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({ accepted: true });
    expect((await alerts("new_ip"))[0]).toMatchObject({ status: "resolved", verdict: "auto_learned" });
    expect((await send([73], RENEWED))[0]!.findings).toEqual([]);
  });

  it("heals on the workspace's own thresholds", async () => {
    const { api, ws, send, alerts, value } = await learnedAccount({
      settings: { heal_events: 3, heal_hours: 2 },
    });
    expect((await api.get("/v1/settings", ws.viewer)).body.effective.heal).toEqual({ events: 3, hours: 2 });
    await send([0, 1, 1.5], RENEWED);
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({ accepted: false });
    await send([2], RENEWED);
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({ accepted: true });
    expect((await alerts("new_ip"))[0]).toMatchObject({ status: "resolved", verdict: "auto_learned" });
  });

  it("resolves the alert of a second address in the healed subnet once it no longer deviates", async () => {
    const { api, ws, accountId, send, alerts, value } = await learnedAccount({
      settings: { heal_events: 3, heal_hours: 2 },
    });
    const SIBLING = { ip: "76.102.5.77" };
    // Both addresses of the renewed /24 alert on their own (key: the IP) before the subnet is normal.
    expect(rules((await send([0], RENEWED))[0]!)).toEqual(["new_ip/medium"]);
    expect(rules((await send([1], SIBLING))[0]!)).toEqual(["new_ip/medium"]);
    // The first address heals, and the subnet with it; the sibling's alert is still about an unknown IP.
    await send([2], RENEWED);
    await send([3], RENEWED);
    expect(await value("subnet", "76.102.5.0/24")).toMatchObject({ accepted: true });
    const open = (await alerts("new_ip")).filter((a) => a.status === "open");
    expect(open).toHaveLength(1);
    // The sibling's next event is only a low renewal inside a known subnet: it is normal now, and so is its alert.
    expect(rules((await send([4], SIBLING))[0]!)).toEqual(["new_ip/low"]);
    expect(await value("ip", SIBLING.ip)).toMatchObject({ accepted: true });
    expect((await alerts("new_ip")).find((a) => a.id === open[0]!.id)).toMatchObject({
      status: "resolved",
      verdict: "auto_learned",
    });
    const audit = (
      await api.get(`/v1/audit?actor=system&target_id=${accountId}&action=baseline.auto_learned`, ws.admin)
    ).body.audit as Array<{ details: Record<string, unknown> }>;
    expect(audit.find((a) => a.details.value === SIBLING.ip)?.details).toMatchObject({
      kind: "ip",
      reason: "no_longer_deviates",
    });
  });

  it("starts the streak again after an event with another deviation", async () => {
    const { ws, accountId, send, alerts, value } = await learnedAccount();
    await send(hours(10, 4), RENEWED);
    // the same network, but a browser locale never seen: another finding on that event
    const [deviating] = await send([40], { ...RENEWED, locale: "en-GB" });
    expect(rules(deviating!)).toEqual(["locale_changed/low", "new_ip/medium"]);
    expect((await value("ip", IP.sameNetworkOtherSubnet))!.heal).toMatchObject({
      clean_events: 0,
      since: null,
    });
    await send(hours(19, 4, 44), RENEWED); // 19 clean events over 72 h: one short
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({
      accepted: false,
      heal: { clean_events: 19 },
    });
    expect((await alerts("new_ip"))[0]).toMatchObject({ status: "open" });
    const page = await request(`/console/accounts/${accountId}`, {
      cookie: await signIn(ws.viewer),
      headers: { "accept-language": "en" },
    });
    expect(page.text).toContain("19 of 20 clean uses to heal");
    await send([120], RENEWED);
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({ accepted: true });
  });

  it("never heals a new country", async () => {
    const { send, alerts, value } = await learnedAccount();
    const results = await send(hours(30, 4, 48), { ip: IP.tokyo, timezone: "Asia/Tokyo" });
    for (const r of results) expect(rules(r)).toContain("new_country/high");
    expect(await value("ip", IP.tokyo)).toMatchObject({ accepted: false, heal: { blocked: true } });
    expect(await value("country", "JP")).toMatchObject({ accepted: false });
    for (const rule of ["new_country", "new_ip"])
      expect((await alerts(rule))[0]).toMatchObject({ status: "open" });
  });

  it("never heals a device shared with another group's account, nor the network it came with", async () => {
    const { api, ws, agent, send, alerts, value } = await learnedAccount({ group: "team-a" });
    const other = await api.post("/v1/events", agent.token, {
      events: [
        event(START + 26 * HOUR, { ref: uid("other-"), env: { ip: IP.otherNetwork, device_id: "dev-x" } }),
      ],
    });
    expect(other.status).toBe(202);
    const results = await send(hours(30, 4, 1), { ...RENEWED, device_id: "dev-x" });
    for (const r of results) expect(rules(r)).toContain("shared_device/critical");
    expect(await value("device", "dev-x")).toMatchObject({ accepted: false });
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({
      accepted: false,
      heal: { blocked: true },
    });
    for (const rule of ["new_device", "new_ip"])
      expect((await alerts(rule))[0]).toMatchObject({ status: "open" });
    expect(ws).toBeTruthy();
  });

  it("never heals a value that violates the pin", async () => {
    const { send, alerts, value } = await learnedAccount({ pin: { cidrs: ["73.15.20.0/24"] } });
    const results = await send(hours(30, 4), RENEWED);
    for (const r of results) expect(rules(r)).toEqual(["new_ip/medium", "pin_violation/high"]);
    expect(await value("ip", IP.sameNetworkOtherSubnet)).toMatchObject({
      accepted: false,
      heal: { blocked: true },
    });
    expect((await alerts("new_ip"))[0]).toMatchObject({ status: "open" });
  });

  it("heals a browser change on the same OS family; a change of both families does not heal", async () => {
    // ua_changed is low: it quarantines only where low findings alert
    const { api, ws, send, alerts, value } = await learnedAccount({
      settings: { alert_min_severity: "low" },
    });
    const channel = await api.post("/v1/channels", ws.admin, {
      name: uid("ch-"),
      kind: "webhook",
      url: "http://127.0.0.1:9/hook",
      min_severity: "info",
      rules: ["ua_changed"],
    });
    expect(channel.status).toBe(201);
    const edge = await send(hours(20, 4), { user_agent: EDGE_WIN });
    expect(rules(edge[0]!)).toEqual(["ua_changed/low"]);
    expect(await value("browser", "Edge")).toMatchObject({ accepted: true });
    expect((await alerts("ua_changed"))[0]).toMatchObject({ status: "resolved", verdict: "auto_learned" });
    expect((await send([80], { user_agent: EDGE_WIN }))[0]!.findings).toEqual([]);
    // channels that want the rule hear of the opening and of the resolve
    const owed = await rows<{ event: string }>(
      t.database.db,
      sql`select event from notification_outbox where channel_id = ${channel.body.id} order by event`,
    );
    expect(owed.map((o) => o.event)).toEqual(["alert.created", "alert.resolved"]);

    await send(hours(25, 4, 84), { user_agent: FIREFOX_MAC });
    expect(await value("browser", "Firefox")).toMatchObject({ accepted: false });
    expect(await value("os", "Mac OS")).toMatchObject({ accepted: false });
    const open = (await alerts("ua_changed")).filter((a) => a.status === "open");
    expect(open).toHaveLength(2);
  });
});
