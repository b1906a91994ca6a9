import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { EventBody } from "../../src/http/events/schemas.ts";
import { type Client, client } from "../support/api.ts";
import { CHROME_120_WIN, HOUR, MINUTE, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { sharedEnricher, useTestApp } from "../support/harness.ts";

const t = useTestApp();
const START = Date.parse("2026-01-24T00:00:00Z");
/** the outage begins here: 30 h after the first learning event, so every account is established */
const T0 = START + 30 * HOUR;

/** Six networks (ASNs), three /24s each (two for TikTok accounts, one for Amazon), placed where their timezone is. */
const NETWORKS = [
  ["73.15.20.", "73.15.6.", "73.15.8."], // Comcast AS7922, California
  ["68.4.2.", "68.4.10.", "68.4.6."], // Cox AS22773, California
  ["71.190.0.", "71.190.8.", "71.190.10."], // Verizon AS701, New York
  ["23.20.1.", "23.20.2.", "23.20.3."], // Amazon AS14618, Virginia
  ["5.9.1.", "5.9.2.", "5.9.3."], // Hetzner AS24940, Germany
  ["133.242.1.", "133.242.2.", "133.242.3."], // SAKURA AS7684, Tokyo
];

interface Store {
  name: string;
  platform: "tiktok_shop" | "amazon";
  ref: string;
  ip: string;
  device: string;
  timezone: string;
  operator: string;
  agent: string;
  id: string;
}

async function env(ip: string) {
  const net = (await sharedEnricher()).net(ip);
  return net.timezone ?? "UTC";
}

/** 12 TikTok Shop accounts on 6 networks and 6 Amazon accounts, each with its own agent, all established. */
async function outageMatrix(opts: { office?: boolean } = {}) {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(T0));
  const stores: Store[] = [];
  const add = async (name: string, platform: Store["platform"], ip: string, group: string | null = null) => {
    const ref = uid(`${name}-`);
    const created = await api.post("/v1/accounts", ws.admin, { platform, ref, group });
    const agent = await newEnvironment(api, ws.admin, [created.body.id]);
    stores.push({
      name,
      platform,
      ref,
      ip,
      device: `dev-${name}`,
      timezone: await env(ip),
      operator: `op-${name}`,
      agent: agent.token,
      id: created.body.id,
    });
  };
  if (opts.office) {
    // Eight TikTok accounts behind one office line (one ASN, one /24), one isolation group.
    for (let i = 0; i < 8; i++) await add(`office${i}`, "tiktok_shop", `73.15.20.${10 + i}`, "office");
    for (let i = 0; i < 4; i++) await add(`tt${i}`, "tiktok_shop", `${NETWORKS[i + 1]![0]}${20 + i}`);
  } else {
    for (let i = 0; i < 12; i++)
      await add(`tt${i}`, "tiktok_shop", `${NETWORKS[i % 6]![Math.floor(i / 6)]}${10 + i}`);
  }
  for (let i = 0; i < 6; i++) await add(`amz${i}`, "amazon", `${NETWORKS[i]![2]}${100 + i}`);
  for (const s of stores) {
    const learning = Array.from({ length: 25 }, (_, h) =>
      ev(s, START + h * HOUR, { type: "operation", operation: "inventory_sync" }),
    );
    expect((await api.post("/v1/events", s.agent, { events: learning })).status).toBe(202);
  }
  const by = (name: string) => stores.find((s) => s.name === name)!;
  return { api, ws, stores, by };
}

function ev(s: Store, at: number, over: Partial<EventBody> = {}): EventBody {
  return {
    id: uid("ev-"),
    type: "login",
    occurred_at: new Date(at).toISOString(),
    account: { platform: s.platform, ref: s.ref },
    operator: s.operator,
    env: { ip: s.ip, device_id: s.device, user_agent: CHROME_120_WIN, timezone: s.timezone, locale: "en-US" },
    ...over,
  };
}

const fail = (code: "http_5xx" | "timeout" | "auth_failed" | "network_error") => ({
  result: { status: "error" as const, code, ...(code === "http_5xx" ? { http_status: 500 } : {}) },
});

async function post(api: Client, s: Store, ...events: EventBody[]) {
  const res = await api.post("/v1/events", s.agent, { events });
  expect(res.status).toBe(202);
  return res.body.results as Array<{ findings: Array<{ rule: string; severity: string }> }>;
}

/** A phone's hotspot: T-Mobile US, AS21928, a network no store here uses. */
const HOTSPOT = "172.56.21.87";

const preflight = (api: Client, s: Store, operation: string, envOver: Record<string, string> = {}) =>
  api.post("/v1/preflight", s.agent, {
    account: { platform: s.platform, ref: s.ref },
    operation,
    operator: s.operator,
    env: {
      ip: s.ip,
      device_id: s.device,
      user_agent: CHROME_120_WIN,
      timezone: s.timezone,
      locale: "en-US",
      ...envOver,
    },
  });

describe("a simulated TikTok Shop outage", () => {
  it("detects one incident, flags the improvised actions, guards preflight, and closes after a quiet hold", async () => {
    const { api, ws, stores, by } = await outageMatrix();
    const tiktok = stores.filter((s) => s.platform === "tiktok_shop");
    // Before: every TikTok account logs in fine, five minutes earlier (inside the detection window, so all 12
    // count as active).
    for (const s of tiktok) await post(api, s, ev(s, T0 - 5 * MINUTE));

    // Within 5 minutes, 7 TikTok accounts on 6 networks fail their logins.
    for (const [i, s] of tiktok.slice(0, 7).entries()) {
      await post(api, s, ev(s, T0 + i * 40_000, fail(i % 2 === 0 ? "http_5xx" : "timeout")));
    }
    const active = (await api.get("/v1/incidents?status=active", ws.viewer)).body.incidents;
    expect(active).toHaveLength(1);
    const incident = active[0];
    expect(incident).toMatchObject({
      platform: "tiktok_shop",
      source: "detected",
      status: "active",
      region: null,
    });
    // Evidence is the moment the quorum was reached: the 4th of 12 accounts (30 %), from 4 networks.
    expect(incident.evidence).toMatchObject({
      active_accounts: 12,
      failing_accounts: 4,
      networks: 4,
      share: 0.333,
      // The 4th failure came 3 × 40 s after the first: detection is 120 s late in event time, and no later.
      first_failure_at: new Date(T0).toISOString(),
      quorum_met_at: new Date(T0 + 120_000).toISOString(),
      detection_latency_seconds: 120,
    });
    expect(incident.started_at).toBe(new Date(T0).toISOString());
    expect((await api.get("/v1/alerts?rule=platform_incident", ws.viewer)).body.alerts).toEqual([
      expect.objectContaining({ incident_id: incident.id, severity: "high", account_ids: [] }),
    ]);

    // tt7 switches to a network it never used: critical, grouped under the incident.
    const switcher = by("tt7");
    t.clock.set(new Date(T0 + 6 * MINUTE));
    const [switched] = await post(
      api,
      switcher,
      ev(switcher, T0 + 5 * MINUTE, {
        env: { ip: "5.9.200.7", device_id: switcher.device, timezone: "Europe/Berlin", locale: "en-US" },
      }),
    );
    expect(switched!.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: "incident_network_switch", severity: "critical" }),
      ]),
    );
    const switchAlert = (await api.get("/v1/alerts?rule=incident_network_switch", ws.viewer)).body.alerts[0];
    expect(switchAlert).toMatchObject({ incident_id: incident.id, account_ids: [switcher.id] });

    // tt8 retries its login 6 times in 10 minutes.
    const stormer = by("tt8");
    t.clock.set(new Date(T0 + 12 * MINUTE));
    const storm = await post(
      api,
      stormer,
      ...Array.from({ length: 6 }, (_, i) => ev(stormer, T0 + 2 * MINUTE + i * 90_000, fail("http_5xx"))),
    );
    expect(storm[5]!.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "retry_storm", severity: "high" })]),
    );
    expect((await api.get("/v1/alerts?rule=retry_storm", ws.viewer)).body.alerts[0]).toMatchObject({
      incident_id: incident.id,
      account_ids: [stormer.id],
    });

    // tt10's listings fail to publish: the images cannot be processed.
    const publisher = by("tt10");
    await post(
      api,
      publisher,
      ev(publisher, T0 + 3 * MINUTE, {
        type: "operation",
        operation: "publish_listing",
        ...fail("http_5xx"),
      }),
    );

    // tt9 rebinds its shop to "prove itself".
    const binder = by("tt9");
    const [bound] = await post(
      api,
      binder,
      ev(binder, T0 + 11 * MINUTE, { type: "operation", operation: "binding_change" }),
    );
    expect(bound!.findings).toEqual([
      expect.objectContaining({ rule: "sensitive_op_during_incident", severity: "high" }),
    ]);

    // Preflight during the incident.
    const deniedBinding = await preflight(api, binder, "binding_change");
    expect(deniedBinding.body).toMatchObject({ decision: "deny", incident: { id: incident.id } });
    expect(deniedBinding.body.reasons).toEqual([
      expect.objectContaining({ rule: "sensitive_op_during_incident" }),
    ]);
    const deniedLogin = await preflight(api, stormer, "login");
    expect(deniedLogin.body.decision).toBe("deny");
    expect(deniedLogin.body.reasons).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "retry_storm" })]),
    );
    // The improvised switch is denied, not warned: a borrowed laptop, or a login from a phone's hotspot.
    const borrowed = await preflight(api, by("tt10"), "publish_listing", { device_id: "borrowed-laptop" });
    expect(borrowed.body.decision).toBe("deny");
    expect(borrowed.body.reasons.map((r: { rule: string }) => r.rule)).toEqual(
      expect.arrayContaining(["new_device", "incident_network_switch"]),
    );
    const hotspot = await preflight(api, by("tt10"), "login", { ip: HOTSPOT });
    expect(hotspot.body).toMatchObject({ decision: "deny", incident: { id: incident.id } });
    expect(hotspot.body.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: "incident_network_switch", severity: "critical" }),
      ]),
    );
    expect(hotspot.body.break_glass).toMatch(
      /^Do not work around this\. .* POST \/v1\/accounts\/acc_\w+\/overrides /,
    );
    const tt10 = by("tt10");
    const zhHotspot = await api.call(
      "POST",
      "/v1/preflight",
      tt10.agent,
      {
        account: { platform: tt10.platform, ref: tt10.ref },
        operation: "login",
        env: {
          ip: HOTSPOT,
          device_id: tt10.device,
          user_agent: CHROME_120_WIN,
          timezone: tt10.timezone,
        },
      },
      { "accept-language": "zh-CN" },
    );
    expect(zhHotspot.body.break_glass).toContain("请不要绕过此限制");

    const allowed = await preflight(api, by("tt11"), "publish_listing");
    expect(allowed.body).toMatchObject({
      decision: "allow",
      reasons: [],
      incident: { id: incident.id },
      break_glass: null,
    });
    // Amazon is not failing: its accounts may do sensitive work.
    expect((await preflight(api, by("amz0"), "binding_change")).body).toMatchObject({
      decision: "allow",
      incident: null,
    });

    // 20 quiet minutes after the last failure (tt8's at T0 + 9.5 min), the incident is over.
    t.clock.set(new Date(T0 + 30 * MINUTE));
    expect((await preflight(api, binder, "binding_change")).body).toMatchObject({
      decision: "allow",
      incident: null,
    });
    const closed = (await api.get(`/v1/incidents/${incident.id}`, ws.viewer)).body;
    expect(closed).toMatchObject({
      status: "closed",
      ended_at: new Date(T0 + 9.5 * MINUTE + 15 * MINUTE).toISOString(),
    });
    expect((await api.get("/v1/incidents?status=active", ws.viewer)).body.incidents).toEqual([]);
    expect((await api.get("/v1/incidents", ws.viewer)).body.incidents).toHaveLength(1);

    // After: four accounts log in fine again; then the review.
    t.clock.set(new Date(T0 + 40 * MINUTE));
    for (const s of tiktok.slice(0, 4)) await post(api, s, ev(s, T0 + 35 * MINUTE));
    const review = (await api.get(`/v1/incidents/${incident.id}/review`, ws.viewer)).body;
    expect(review.detection).toEqual({
      first_failure_at: new Date(T0).toISOString(),
      quorum_met_at: new Date(T0 + 120_000).toISOString(),
      latency_seconds: 120,
    });
    const row = (s: Store) =>
      review.improvised_actions.find((r: { account_id: string }) => r.account_id === s.id);
    expect(row(switcher)).toMatchObject({
      operator: switcher.operator,
      network_switches: [expect.objectContaining({ ip: "5.9.200.7" })],
    });
    expect(row(stormer)).toMatchObject({ operator: stormer.operator, retry_storms: 1, preflight_denials: 1 });
    expect(row(binder)).toMatchObject({
      operator: binder.operator,
      sensitive_operations: [expect.objectContaining({ operation: "binding_change" })],
      preflight_denials: 1,
    });
    const rate = (category: string) =>
      review.success_rates.find(
        (r: { platform: string; category: string }) =>
          r.platform === "tiktok_shop" && r.category === category,
      );
    // Logins: before 12 of 12; during 7 failures + tt7's successful switch + 6 failed retries = 1 of 14; after 4 of 4.
    expect(rate("logins")).toMatchObject({
      before: { ok: 12, total: 12, rate: 1 },
      during: { ok: 1, total: 14, rate: 0.071 },
      after: { ok: 4, total: 4, rate: 1 },
    });
    expect(rate("publishing")).toMatchObject({ during: { ok: 0, total: 1, rate: 0 } });
    const md = await api.call("GET", `/v1/incidents/${incident.id}/review?format=md`, ws.viewer);
    expect(md.status).toBe(200);
    expect(md.body).toContain("Timeline / 时间线");
    expect(md.body).toContain(binder.ref);
    expect(md.body).toContain("Detected / 检测: 120 s after the first platform-side failure");
  });

  it("honours a reviewer's time-boxed override in preflight, audited, until it expires", async () => {
    const { api, ws, stores, by } = await outageMatrix();
    await api.post("/v1/incidents", ws.reviewer, {
      platform: "tiktok_shop",
      title: "TikTok Shop US login failures",
    });
    const s = by("tt3");
    expect((await preflight(api, s, "password_change")).body.decision).toBe("deny");
    const granted = await api.post(`/v1/accounts/${s.id}/overrides`, ws.reviewer, {
      operation: "password_change",
      minutes: 30,
      reason: "the password leaked; support ticket 4711",
    });
    expect(granted.status).toBe(201);
    const overridden = await preflight(api, s, "password_change");
    expect(overridden.body.decision).toBe("allow");
    expect(overridden.body.reasons).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "override", severity: "info" })]),
    );
    // Only that operation and that account.
    expect((await preflight(api, s, "binding_change")).body.decision).toBe("deny");
    expect((await preflight(api, by("tt4"), "password_change")).body.decision).toBe("deny");
    t.clock.set(new Date(T0 + 31 * MINUTE));
    expect((await preflight(api, s, "password_change")).body.decision).toBe("deny");
    expect(stores.length).toBe(18);
    const listed = await api.get(`/v1/accounts/${s.id}/overrides`, ws.viewer);
    expect(listed.body.overrides).toEqual([
      expect.objectContaining({ operation: "password_change", created_by: "reviewer test" }),
    ]);
  });
});

describe("late, replayed failures", () => {
  it("extend the incident they belong to instead of opening another one", async () => {
    const { api, ws, stores } = await outageMatrix();
    const tiktok = stores.filter((s) => s.platform === "tiktok_shop");
    for (const [i, s] of tiktok.slice(0, 4).entries())
      await post(api, s, ev(s, T0 + i * 30_000, fail("http_5xx")));
    // An hour later the incident has closed by itself (15 quiet minutes after T0 + 1.5 min) …
    t.clock.set(new Date(T0 + HOUR));
    const [closed] = (await api.get("/v1/incidents", ws.viewer)).body.incidents;
    expect(closed).toMatchObject({ status: "closed", ended_at: new Date(T0 + 16.5 * MINUTE).toISOString() });
    // … when agents that were offline deliver their spooled failures from inside the outage.
    for (const [i, s] of tiktok.slice(4, 8).entries())
      await post(api, s, ev(s, T0 + 2 * MINUTE + i * 30_000, fail("timeout")));
    const incidents = (await api.get("/v1/incidents", ws.viewer)).body.incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      id: closed.id,
      status: "closed",
      ended_at: new Date(T0 + 18.5 * MINUTE).toISOString(),
    });
    expect((await api.get("/v1/alerts?rule=platform_incident", ws.viewer)).body.alerts).toHaveLength(1);
  });
});

describe("what is not a platform outage", () => {
  it("opens no incident when three accounts fail with auth_failed at once", async () => {
    const { api, ws, stores } = await outageMatrix();
    const tiktok = stores.filter((s) => s.platform === "tiktok_shop").slice(0, 3);
    for (const s of tiktok) await post(api, s, ev(s, T0, fail("auth_failed")));
    expect((await api.get("/v1/incidents", ws.viewer)).body.incidents).toEqual([]);
  });

  it("counts only the accounts active in the window: 3 of 10 active failing open it, however many are idle", async () => {
    const { api, ws, stores } = await outageMatrix();
    const tiktok = stores.filter((s) => s.platform === "tiktok_shop");
    // 10 of the 12 TikTok accounts work in the window; 2 have been idle since they learned (days ago).
    for (const s of tiktok.slice(0, 10)) await post(api, s, ev(s, T0 - 3 * MINUTE));
    const [a, b, c] = tiktok;
    await post(api, a!, ev(a!, T0, fail("http_5xx")));
    await post(api, b!, ev(b!, T0 + 20_000, fail("timeout")));
    // Two of ten is not yet 30 %.
    expect((await api.get("/v1/incidents", ws.viewer)).body.incidents).toEqual([]);
    await post(api, c!, ev(c!, T0 + 40_000, fail("http_5xx")));
    // The third failure is the batch that meets the quorum: 3 of the 10 active (not of all 12) is 30 %.
    const [incident] = (await api.get("/v1/incidents?status=active", ws.viewer)).body.incidents;
    expect(incident.evidence).toMatchObject({
      active_accounts: 10,
      failing_accounts: 3,
      share: 0.3,
      detection_latency_seconds: 40,
    });
    expect(incident.started_at).toBe(new Date(T0).toISOString());
  });

  it("opens no incident when one office network fails for 8 accounts", async () => {
    const { api, ws, stores } = await outageMatrix({ office: true });
    const office = stores.filter((s) => s.name.startsWith("office"));
    for (const [i, s] of office.entries()) await post(api, s, ev(s, T0 + i * 20_000, fail("network_error")));
    expect((await api.get("/v1/incidents", ws.viewer)).body.incidents).toEqual([]);
    expect((await api.get("/v1/alerts?rule=platform_incident", ws.viewer)).body.alerts).toEqual([]);
  });
});

describe("preflight outside incidents", () => {
  it("is recorded for audit but never feeds the baseline", async () => {
    const { api, ws, by } = await outageMatrix();
    const s = by("tt2");
    const asked = await preflight(api, s, "login", { device_id: "probe-device" });
    expect(asked.body).toMatchObject({ decision: "warn", incident: null });
    expect(asked.body.reasons).toEqual([expect.objectContaining({ rule: "new_device", severity: "high" })]);
    // Asked again, the same device is still new: the first question left no trace in the baseline …
    expect((await preflight(api, s, "login", { device_id: "probe-device" })).body.decision).toBe("warn");
    const baseline = (await api.get(`/v1/accounts/${s.id}/baseline`, ws.viewer)).body;
    expect(baseline.values.device.map((v: { value: string }) => v.value)).toEqual([s.device]);
    expect((await api.get(`/v1/accounts/${s.id}`, ws.viewer)).body.event_count).toBe(25);
    // … but both questions are on record.
    const recorded = await t.database.db.execute(
      sql`select decision, operation from preflights where workspace_id = ${ws.id} and account_id = ${s.id}`,
    );
    const rows = (Array.isArray(recorded) ? recorded : (recorded as { rows: unknown[] }).rows) as Array<{
      decision: string;
    }>;
    expect(rows.map((r) => r.decision)).toEqual(["warn", "warn"]);
  });
});
