import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog } from "../../db/schema/tenancy.ts";
import { client } from "../support/api.ts";
import {
  CHROME_121_WIN,
  event,
  FIREFOX_MAC,
  HOUR,
  IP,
  LA,
  MINUTE,
  newEnvironment,
  newWorkspace,
  uid,
} from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();
const START = Date.parse("2026-01-20T00:00:00Z");
/** When the tests' "now" is: well after every event they send. */
const NOW = START + 30 * 24 * HOUR;

type Result = {
  id: string;
  account_id: string;
  risk: number;
  findings: Array<{ rule: string; severity: string }>;
};

/** A fresh workspace with one agent, and an account learned over 25 hourly events from home. */
async function learnedAccount() {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const agent = await newEnvironment(api, ws.admin);
  const ref = uid("store-");
  t.clock.set(new Date(NOW));
  const res = await api.post("/v1/events", agent.token, {
    events: Array.from({ length: 25 }, (_, i) => event(START + i * HOUR, { ref })),
  });
  expect(res.status).toBe(202);
  const accountId = res.body.results[0].account_id as string;
  /** posts events for this account and returns their results */
  const send = async (...events: ReturnType<typeof event>[]): Promise<Result[]> => {
    const r = await api.post("/v1/events", agent.token, { events });
    expect(r.status).toBe(202);
    return r.body.results;
  };
  const alerts = async (query = "") =>
    (await api.get(`/v1/alerts?account_id=${accountId}${query}`, ws.viewer)).body.alerts;
  return { api, ws, agent, ref, accountId, send, alerts, after: START + 26 * HOUR };
}

const rules = (r: Result) => r.findings.map((f) => f.rule).sort();

/** A fresh workspace with one pinned Amazon account and its agent; `report` posts one event for it. */
async function pinnedAccount(pin: Record<string, unknown>) {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(NOW));
  const created = await api.post("/v1/accounts", ws.admin, { platform: "amazon", ref: uid("pinned-"), pin });
  expect(created.status).toBe(201);
  const account = created.body as { id: string; ref: string };
  const agent = await newEnvironment(api, ws.admin, [account.id]);
  /** an event from Cox (AS22773, California): outside a pin on Comcast's AS7922 */
  const fromCox = () =>
    event(START, {
      platform: "amazon",
      ref: account.ref,
      env: { ip: IP.otherNetwork, device_id: "d", ...LA },
    });
  const report = async (e: ReturnType<typeof event>) =>
    (await api.post("/v1/events", agent.token, e)).body.results[0];
  const pinAlert = async () => (await api.get("/v1/alerts?rule=pin_violation", ws.viewer)).body.alerts[0];
  return { api, ws, account, fromCox, report, pinAlert };
}

describe("learned baseline", () => {
  it("forms from learning events and becomes established after enough events and hours", async () => {
    const { api, ws, accountId } = await learnedAccount();
    const account = await api.get(`/v1/accounts/${accountId}`, ws.viewer);
    expect(account.status).toBe(200);
    expect(account.body.state).toBe("established");
    expect(account.body.event_count).toBe(25);
    const baseline = await api.get(`/v1/accounts/${accountId}/baseline`, ws.viewer);
    expect(baseline.body.values.ip).toEqual([
      expect.objectContaining({ value: IP.home, count: 25, accepted: true }),
    ]);
    expect(baseline.body.values.asn[0].value).toBe("7922");
    expect(baseline.body.values.region[0].value).toBe("US-CA");
    expect(baseline.body.values.device[0].value).toBe("dev-1");
    expect(baseline.body.values.browser[0].value).toBe("Chrome");
  });

  it("stays learning until both the event count and the hours have passed", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const ref = uid("store-");
    t.clock.set(new Date(NOW));
    // 30 events within 3 hours: enough events, not enough time.
    const burst = Array.from({ length: 30 }, (_, i) => event(START + i * 6 * MINUTE, { ref }));
    const first = await api.post("/v1/events", agent.token, { events: burst });
    const accountId = first.body.results[0].account_id;
    expect((await api.get(`/v1/accounts/${accountId}`, ws.viewer)).body.state).toBe("learning");
    // During learning a new device and a new country are recorded, not alerted.
    const odd = await api.post("/v1/events", agent.token, {
      events: [
        event(START + 4 * HOUR, {
          ref,
          env: { ip: IP.germany, device_id: "dev-2", timezone: "Europe/Berlin", locale: "de-DE" },
        }),
      ],
    });
    expect(rules(odd.body.results[0])).not.toContain("new_device");
    expect(rules(odd.body.results[0])).not.toContain("new_country");
    // 25 hours after the first event the account is established.
    await api.post("/v1/events", agent.token, { events: [event(START + 25 * HOUR, { ref })] });
    expect((await api.get(`/v1/accounts/${accountId}`, ws.viewer)).body.state).toBe("established");
  });

  it("scores the first event of a new account as not risky", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    t.clock.set(new Date(NOW));
    const res = await api.post("/v1/events", agent.token, event(START, { ref: uid("store-") }));
    expect(res.body.results[0]).toMatchObject({ risk: 0, findings: [] });
  });
});

describe("benign churn", () => {
  it("does not alert on a residential IP renewal inside the same subnet and network", async () => {
    const { send, alerts, ref, after } = await learnedAccount();
    const [renewed] = await send(
      event(after, { ref, env: { ip: IP.homeRenewed, device_id: "dev-1", ...LA } }),
    );
    expect(renewed!.findings).toEqual([expect.objectContaining({ rule: "new_ip", severity: "low" })]);
    expect(renewed!.risk).toBeLessThan(40);
    expect(await alerts()).toEqual([]);
  });

  it("does not alert on a browser minor version bump", async () => {
    const { send, alerts, ref, after } = await learnedAccount();
    const [bumped] = await send(
      event(after, { ref, env: { ip: IP.home, device_id: "dev-1", ...LA, user_agent: CHROME_121_WIN } }),
    );
    expect(bumped!.findings).toEqual([]);
    expect(await alerts()).toEqual([]);
  });
});

describe("non-public addresses", () => {
  it("marks private and reserved addresses, does not geolocate them, and judges no network rule on them", async () => {
    const { api, ws, send, ref, after, accountId } = await learnedAccount();
    const results = await send(
      event(after, { ref, env: { ip: "10.20.30.40", device_id: "dev-1", ...LA } }),
      event(after + MINUTE, { ref, env: { ip: "203.0.113.9", device_id: "dev-1", ...LA } }),
    );
    expect(results.flatMap(rules)).toEqual([]);
    const stored = await api.get(`/v1/accounts/${accountId}/events?limit=2`, ws.viewer);
    expect(stored.body.events.map((e: { env: unknown }) => e.env)).toEqual([
      expect.objectContaining({ ip: "203.0.113.9", ip_class: "reserved", country: null, asn: null }),
      expect.objectContaining({
        ip: "10.20.30.40",
        ip_class: "private",
        subnet: "10.20.30.0/24",
        country: null,
        asn: null,
      }),
    ]);
    const baseline = await api.get(`/v1/accounts/${accountId}/baseline`, ws.viewer);
    expect(baseline.body.values.ip.map((v: { value: string }) => v.value)).toEqual([IP.home]);
  });
});

describe("quarantine", () => {
  it("keeps an unfamiliar IP's subnet out of the baseline, so its neighbour is not a benign renewal", async () => {
    const { send, ref, after, alerts } = await learnedAccount();
    const [first] = await send(
      event(after, { ref, env: { ip: IP.sameNetworkOtherSubnet, device_id: "dev-1", ...LA } }),
    );
    expect(first!.findings).toEqual([expect.objectContaining({ rule: "new_ip", severity: "medium" })]);
    const [neighbour] = await send(
      event(after + HOUR, { ref, env: { ip: "76.102.5.6", device_id: "dev-1", ...LA } }),
    );
    expect(neighbour!.findings).toEqual([expect.objectContaining({ rule: "new_ip", severity: "medium" })]);
    expect(await alerts("&rule=new_ip")).toHaveLength(2);
  });
});

describe("per-account deviation rules", () => {
  it("raises new_device (high) for a device the account never used", async () => {
    const { send, alerts, ref, after, accountId } = await learnedAccount();
    const [r] = await send(event(after, { ref, env: { ip: IP.home, device_id: "dev-stranger", ...LA } }));
    expect(r!.findings).toEqual([expect.objectContaining({ rule: "new_device", severity: "high" })]);
    expect(r!.risk).toBeGreaterThanOrEqual(70);
    expect(await alerts()).toEqual([
      expect.objectContaining({
        rule: "new_device",
        severity: "high",
        key: "dev-stranger",
        account_ids: [accountId],
        count: 1,
      }),
    ]);
  });

  it("raises new_country (high) for a login from another country", async () => {
    const { send, alerts, ref, after } = await learnedAccount();
    const [r] = await send(
      event(after + 2 * 24 * HOUR, {
        ref,
        env: {
          ip: IP.tokyo,
          device_id: "dev-1",
          timezone: "Asia/Tokyo",
          locale: "en-US",
          user_agent: LA.user_agent,
        },
      }),
    );
    expect(rules(r!)).toEqual(expect.arrayContaining(["new_country", "new_network", "new_ip"]));
    expect(r!.findings.find((f) => f.rule === "new_country")!.severity).toBe("high");
    expect(rules(r!)).not.toContain("new_region");
    expect((await alerts("&rule=new_country"))[0]).toMatchObject({ key: "JP", severity: "high" });
  });

  it("raises new_network (medium) for another ISP in the same region, without new_country or new_region", async () => {
    const { send, ref, after } = await learnedAccount();
    const [r] = await send(event(after, { ref, env: { ip: IP.otherNetwork, device_id: "dev-1", ...LA } }));
    expect(rules(r!)).toEqual(["new_ip", "new_network"]);
    expect(r!.findings.find((f) => f.rule === "new_network")!.severity).toBe("medium");
    expect(r!.findings.find((f) => f.rule === "new_ip")!.severity).toBe("medium");
  });

  it("raises new_region inside a known country", async () => {
    const { send, ref, after } = await learnedAccount();
    const [r] = await send(
      event(after + 24 * HOUR, {
        ref,
        env: { ip: IP.virginia, device_id: "dev-1", ...LA, timezone: "America/New_York" },
      }),
    );
    expect(rules(r!)).toContain("new_region");
    expect(rules(r!)).not.toContain("new_country");
  });

  it("raises ua_changed (low) when the browser family changes", async () => {
    const { send, ref, after } = await learnedAccount();
    const [r] = await send(
      event(after, { ref, env: { ip: IP.home, device_id: "dev-1", ...LA, user_agent: FIREFOX_MAC } }),
    );
    expect(r!.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "ua_changed", severity: "low" })]),
    );
  });

  it("raises locale_changed (low) for another variant of a known language", async () => {
    const { send, ref, after } = await learnedAccount();
    const [r] = await send(
      event(after, { ref, env: { ip: IP.home, device_id: "dev-1", ...LA, locale: "en-GB" } }),
    );
    expect(r!.findings).toEqual([expect.objectContaining({ rule: "locale_changed", severity: "low" })]);
  });

  it("raises a medium locale_changed, and an alert, when the language itself is new (en-US → zh-CN)", async () => {
    const { send, ref, after, api, ws } = await learnedAccount();
    const [r] = await send(
      event(after, { ref, env: { ip: IP.home, device_id: "dev-1", ...LA, locale: "zh-CN" } }),
    );
    expect(r!.findings).toEqual([
      expect.objectContaining({
        rule: "locale_changed",
        severity: "medium",
        message: expect.stringContaining("a language this account has never used"),
      }),
    ]);
    const alerts = (await api.get(`/v1/alerts?account_id=${r!.account_id}&rule=locale_changed`, ws.viewer))
      .body;
    expect(alerts.alerts).toEqual([expect.objectContaining({ severity: "medium", status: "open" })]);
  });
});

describe("rules that do not wait for learning", () => {
  it("raises timezone_mismatch when the device timezone disagrees with the IP's location, from the first event", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    t.clock.set(new Date(NOW));
    const res = await api.post(
      "/v1/events",
      agent.token,
      event(START, {
        ref: uid("store-"),
        env: { ip: IP.home, device_id: "d", timezone: "Asia/Shanghai", locale: "zh-CN" },
      }),
    );
    expect(res.body.results[0].findings).toEqual([
      expect.objectContaining({ rule: "timezone_mismatch", severity: "medium" }),
    ]);
    // Same offset, other zone name: not a mismatch.
    const same = await api.post(
      "/v1/events",
      agent.token,
      event(START, {
        ref: uid("store-"),
        env: { ip: IP.otherNetwork, device_id: "d2", timezone: "America/Vancouver", locale: "en-US" },
      }),
    );
    expect(same.body.results[0].findings).toEqual([]);
  });

  it("raises timezone_mismatch against the baseline for a new zone that matches the IP", async () => {
    const { send, ref, after } = await learnedAccount();
    const [r] = await send(
      event(after + 24 * HOUR, {
        ref,
        env: { ip: IP.virginia, device_id: "dev-1", ...LA, timezone: "America/New_York" },
      }),
    );
    expect(r!.findings.find((f) => f.rule === "timezone_mismatch")).toMatchObject({ severity: "medium" });
  });

  it("raises impossible_travel for California then Tokyo one hour later, judged on occurred_at", async () => {
    const { send, ref, after, alerts } = await learnedAccount();
    const tokyo = { ip: IP.tokyo, device_id: "dev-1", timezone: "Asia/Tokyo", locale: "en-US" };
    const [r] = await send(event(after + HOUR, { ref, env: tokyo }));
    expect(r!.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "impossible_travel", severity: "high" })]),
    );
    expect((await alerts("&rule=impossible_travel"))[0].evidence).toMatchObject({
      distance_km: expect.any(Number),
    });
    // The same trip spread over two days is possible.
    const later = await learnedAccount();
    const [slow] = await later.send(event(later.after + 48 * HOUR, { ref: later.ref, env: tokyo }));
    expect(rules(slow!)).not.toContain("impossible_travel");
  });

  it("judges a late, replayed event where it belongs in time", async () => {
    const { send, ref, after } = await learnedAccount();
    // Home events at after and after+2h are known; a Tokyo event that occurred between them arrives last.
    await send(event(after, { ref }), event(after + 2 * HOUR, { ref }));
    const [late] = await send(
      event(after + HOUR, {
        ref,
        env: { ip: IP.tokyo, device_id: "dev-1", timezone: "Asia/Tokyo", locale: "en-US" },
      }),
    );
    expect(rules(late!)).toContain("impossible_travel");
  });

  it("raises env_hopping for three IPs within one hour, and not for two in the same network", async () => {
    const { send, ref, after } = await learnedAccount();
    const two = await send(
      event(after, { ref, env: { ip: IP.homeRenewed, device_id: "dev-1", ...LA } }),
      event(after + 10 * MINUTE, { ref, env: { ip: IP.home, device_id: "dev-1", ...LA } }),
    );
    expect(two.flatMap(rules)).not.toContain("env_hopping");
    const [third] = await send(
      event(after + 20 * MINUTE, { ref, env: { ip: IP.homeRenewed2, device_id: "dev-1", ...LA } }),
    );
    expect(third!.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: "env_hopping", severity: "high" })]),
    );
  });

  it("raises env_hopping for two networks within one hour", async () => {
    const { send, ref, after } = await learnedAccount();
    const [, second] = await send(
      event(after, { ref }),
      event(after + 30 * MINUTE, { ref, env: { ip: IP.otherNetwork, device_id: "dev-1", ...LA } }),
    );
    expect(rules(second!)).toContain("env_hopping");
  });

  it("raises pin_violation on the first event of a pinned account", async () => {
    const { api, ws, account, fromCox, report } = await pinnedAccount({
      countries: ["US"],
      asns: [7922],
      timezones: ["America/Los_Angeles"],
    });
    const result = await report(fromCox());
    expect(result.findings).toEqual([expect.objectContaining({ rule: "pin_violation", severity: "high" })]);
    expect(result.risk).toBeGreaterThanOrEqual(70);
    const alerts = (await api.get(`/v1/alerts?rule=pin_violation`, ws.viewer)).body.alerts;
    expect(alerts).toEqual([expect.objectContaining({ key: "asns:22773", account_ids: [account.id] })]);
    // An event inside the pin is fine.
    const ok = await report(event(START + 3 * HOUR, { platform: "amazon", ref: account.ref }));
    expect(ok.findings).toEqual([]);
  });

  it("raises unbound_environment when an agent reports an account its environment is not bound to", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    t.clock.set(new Date(NOW));
    const mine = await api.post("/v1/accounts", ws.admin, { platform: "tiktok_shop", ref: uid("a-") });
    const other = await api.post("/v1/accounts", ws.admin, { platform: "tiktok_shop", ref: uid("b-") });
    const agent = await newEnvironment(api, ws.admin, [mine.body.id]);
    const res = await api.post("/v1/events", agent.token, event(START, { ref: other.body.ref }));
    expect(res.body.results[0].findings).toEqual([
      expect.objectContaining({ rule: "unbound_environment", severity: "medium" }),
    ]);
    const own = await api.post(
      "/v1/events",
      agent.token,
      event(START, { ref: mine.body.ref, env: { ip: IP.otherNetwork, device_id: "dev-mine", ...LA } }),
    );
    expect(own.body.results[0].findings).toEqual([]);
  });

  it("registers an unknown account in learning, bound to the reporting agent's environment", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    t.clock.set(new Date(NOW));
    const res = await api.post("/v1/events", agent.token, event(START, { ref: uid("new-") }));
    const account = await api.get(`/v1/accounts/${res.body.results[0].account_id}`, ws.viewer);
    expect(account.body).toMatchObject({ state: "learning", environment_ids: [agent.id], event_count: 1 });
  });
});

describe("alerts", () => {
  it("deduplicates 100 identical violations into one alert with count 100", async () => {
    const { send, alerts, ref, after } = await learnedAccount();
    const stranger = (i: number) =>
      event(after + i * MINUTE, { ref, env: { ip: IP.home, device_id: "dev-stranger", ...LA } });
    await send(...Array.from({ length: 50 }, (_, i) => stranger(i)));
    await send(...Array.from({ length: 50 }, (_, i) => stranger(50 + i)));
    const found = await alerts("&rule=new_device");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ count: 100, status: "open", key: "dev-stranger" });
    expect(found[0].first_seen_at).toBe(new Date(after).toISOString());
    expect(found[0].last_seen_at).toBe(new Date(after + 99 * MINUTE).toISOString());
  });

  it("stores nothing twice when a batch is sent again, and answers with the stored verdicts", async () => {
    const { api, agent, ws, ref, after, accountId, alerts } = await learnedAccount();
    const batch = {
      events: [
        event(after, { ref, env: { ip: IP.home, device_id: "dev-x", ...LA } }),
        event(after + MINUTE, { ref }),
      ],
    };
    const first = await api.post("/v1/events", agent.token, batch);
    expect(first.body).toMatchObject({ accepted: 2, duplicates: 0 });
    const again = await api.post("/v1/events", agent.token, batch);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 2 });
    // The stored verdicts come back; the risk factors describe the baseline at judging time and are not kept.
    const stored = (r: Record<string, unknown>) => ({ ...r, risk_factors: null });
    expect(again.body.results).toEqual(first.body.results.map(stored));
    const account = await api.get(`/v1/accounts/${accountId}`, ws.viewer);
    expect(account.body.event_count).toBe(27);
    const events = await api.get(`/v1/accounts/${accountId}/events?limit=500`, ws.viewer);
    expect(events.body.events).toHaveLength(27);
    expect((await alerts("&rule=new_device"))[0].count).toBe(1);
    // A repeat inside one batch counts as a duplicate too.
    const dup = event(after + 2 * MINUTE, { ref });
    const inner = await api.post("/v1/events", agent.token, { events: [dup, dup] });
    expect(inner.body).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it("trust adds the value to the baseline, resolves the alert, and removes the cause of the next alert", async () => {
    const { api, ws, send, alerts, ref, after, accountId } = await learnedAccount();
    const stranger = (at: number) =>
      event(at, { ref, env: { ip: IP.home, device_id: "dev-new-laptop", ...LA } });
    await send(stranger(after));
    const [alert] = await alerts("&rule=new_device");
    // Without trust the next event from that device alerts again (same alert, count 2).
    const [again] = await send(stranger(after + MINUTE));
    expect(rules(again!)).toContain("new_device");

    const trusted = await api.post(`/v1/alerts/${alert.id}/trust`, ws.reviewer, {
      note: "new laptop for the US team",
    });
    expect(trusted.status).toBe(200);
    expect(trusted.body).toMatchObject({ status: "resolved", note: "new laptop for the US team", count: 2 });
    const [next] = await send(stranger(after + 2 * MINUTE));
    expect(rules(next!)).not.toContain("new_device");
    expect(await alerts("&rule=new_device&status=open")).toEqual([]);
    // A different new device still alerts.
    const [other] = await send(
      event(after + 3 * MINUTE, { ref, env: { ip: IP.home, device_id: "dev-other", ...LA } }),
    );
    expect(rules(other!)).toContain("new_device");

    const baseline = await api.get(`/v1/accounts/${accountId}/baseline`, ws.viewer);
    expect(baseline.body.values.device).toEqual(
      expect.arrayContaining([expect.objectContaining({ value: "dev-new-laptop", accepted: true })]),
    );
    const audit = await t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, ws.id), eq(auditLog.targetId, alert.id)));
    expect(audit).toEqual([
      expect.objectContaining({
        action: "alert.trust",
        actorName: "reviewer test",
        targetType: "alert",
        details: expect.objectContaining({
          from: "open",
          to: "resolved",
          trusted: { kind: "baseline", account_id: accountId, values: [["device", "dev-new-laptop"]] },
        }),
      }),
    ]);
  });

  it("trust on a pin violation widens the pin", async () => {
    const { api, ws, account, fromCox, report, pinAlert } = await pinnedAccount({ asns: [7922] });
    await report(fromCox());
    await api.post(`/v1/alerts/${(await pinAlert()).id}/trust`, ws.admin);
    const widened = await api.get(`/v1/accounts/${account.id}`, ws.viewer);
    expect(widened.body.pin.asns).toEqual([7922, 22773]);
    expect((await report(fromCox())).findings).toEqual([]);
  });

  it("records every workflow action in the audit log with actor and time", async () => {
    const { api, ws, send, alerts, ref, after } = await learnedAccount();
    await send(event(after, { ref, env: { ip: IP.home, device_id: "dev-z", ...LA } }));
    const [alert] = await alerts("&rule=new_device");
    t.clock.set(new Date(NOW + MINUTE));
    expect((await api.post(`/v1/alerts/${alert.id}/acknowledge`, ws.reviewer)).body.status).toBe(
      "acknowledged",
    );
    const dismissed = await api.post(`/v1/alerts/${alert.id}/dismiss`, ws.reviewer, {
      verdict: "false_positive",
      note: "test device",
    });
    expect(dismissed.body).toMatchObject({ status: "dismissed", verdict: "false_positive" });
    const audit = await t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, ws.id), eq(auditLog.targetId, alert.id)))
      .orderBy(auditLog.id);
    expect(audit.map((a) => a.action)).toEqual(["alert.acknowledge", "alert.dismiss"]);
    expect(audit[1]!.at.toISOString()).toBe(new Date(NOW + MINUTE).toISOString());
    expect(audit[1]!.details).toMatchObject({ verdict: "false_positive", note: "test device" });
    // A dismissed alert no longer absorbs the same finding: the next one opens a new alert.
    await send(event(after + HOUR, { ref, env: { ip: IP.home, device_id: "dev-z", ...LA } }));
    expect(await alerts("&rule=new_device&status=open")).toHaveLength(1);
  });

  it("lists alerts newest first with filters and cursor pagination", async () => {
    const { api, ws, send, ref, after } = await learnedAccount();
    for (let i = 0; i < 5; i++)
      await send(event(after + i * HOUR, { ref, env: { ip: IP.home, device_id: `dev-${i}-new`, ...LA } }));
    const page1 = await api.get("/v1/alerts?rule=new_device&limit=2", ws.viewer);
    expect(page1.body.alerts.map((a: { key: string }) => a.key)).toEqual(["dev-4-new", "dev-3-new"]);
    const page2 = await api.get(
      `/v1/alerts?rule=new_device&limit=2&cursor=${page1.body.next_cursor}`,
      ws.viewer,
    );
    expect(page2.body.alerts.map((a: { key: string }) => a.key)).toEqual(["dev-2-new", "dev-1-new"]);
    const page3 = await api.get(
      `/v1/alerts?rule=new_device&limit=2&cursor=${page2.body.next_cursor}`,
      ws.viewer,
    );
    expect(page3.body).toMatchObject({ next_cursor: null });
    expect(page3.body.alerts).toHaveLength(1);
    expect((await api.get("/v1/alerts?severity=critical", ws.viewer)).body.alerts).toEqual([]);
  });
});

describe("env_hopping episodes", () => {
  it("keeps one alert for an episode that grows from two to three networks", async () => {
    const { send, alerts, ref, after } = await learnedAccount();
    await send(
      event(after, { ref, env: { ip: IP.otherNetwork, device_id: "dev-1", ...LA } }),
      event(after + 20 * MINUTE, { ref, env: { ip: IP.home, device_id: "dev-1", ...LA } }),
      event(after + 40 * MINUTE, {
        ref,
        env: { ip: IP.virginia, device_id: "dev-1", ...LA, timezone: "America/New_York" },
      }),
    );
    const hopping = await alerts("&rule=env_hopping");
    expect(hopping).toHaveLength(1);
    expect(hopping[0].count).toBeGreaterThanOrEqual(2);
    expect(hopping[0].evidence.asns).toEqual([7922, 14618, 22773]);
  });
});

describe("review fixes", () => {
  it("lets only an admin widen a pin through trust; a reviewer's attempt changes nothing", async () => {
    const { api, ws, account, fromCox, report, pinAlert } = await pinnedAccount({ asns: [7922] });
    await report(fromCox());
    const alert = await pinAlert();
    const refused = await api.post(`/v1/alerts/${alert.id}/trust`, ws.reviewer);
    expect(refused.status).toBe(403);
    expect((await api.get(`/v1/alerts/${alert.id}`, ws.viewer)).body.status).toBe("open");
    expect((await api.get(`/v1/accounts/${account.id}`, ws.viewer)).body.pin).toEqual({ asns: [7922] });
  });

  it("trusts one hopping episode for a day, not forever", async () => {
    const { api, ws, send, ref, after, alerts } = await learnedAccount();
    const hop = (at: number) => [
      event(at, { ref }),
      event(at + 20 * MINUTE, { ref, env: { ip: IP.otherNetwork, device_id: "dev-1", ...LA } }),
    ];
    await send(...hop(after));
    const [alert] = await alerts("&rule=env_hopping");
    expect((await api.post(`/v1/alerts/${alert.id}/trust`, ws.reviewer)).status).toBe(200);
    const [, sameDay] = await send(...hop(after + 3 * HOUR));
    expect(rules(sameDay!)).not.toContain("env_hopping");
    t.clock.set(new Date(NOW + 2 * 24 * HOUR));
    const [, later] = await send(...hop(after + 5 * 24 * HOUR));
    expect(rules(later!)).toContain("env_hopping");
  });

  it("keeps an alert's latest evidence when a late event adds to its count", async () => {
    const { send, ref, after, alerts } = await learnedAccount();
    const stranger = (at: number, id: string) =>
      event(at, { ref, id, env: { ip: IP.home, device_id: "dev-late", ...LA } });
    await send(stranger(after + 2 * HOUR, "late-newest"));
    await send(stranger(after, "late-older"));
    const [alert] = await alerts("&rule=new_device");
    expect(alert).toMatchObject({ count: 2, last_seen_at: new Date(after + 2 * HOUR).toISOString() });
    expect(alert.evidence.event_id).toBe("late-newest");
  });

  it("refuses events older than TETHER_MAX_EVENT_AGE_DAYS", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    t.clock.set(new Date(NOW));
    const res = await api.post("/v1/events", agent.token, event(NOW - 100 * 24 * HOUR, { ref: uid("old-") }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: "occurred_at", message: "is more than 90 days in the past" },
    ]);
  });

  it("judges a late event from the account's learning period as learning", async () => {
    const { send, ref } = await learnedAccount();
    const [late] = await send(
      event(START + 30 * MINUTE, { ref, env: { ip: IP.home, device_id: "dev-early", ...LA } }),
    );
    expect(rules(late!)).not.toContain("new_device");
  });
});
