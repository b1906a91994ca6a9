import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();
const START = Date.parse("2026-01-20T00:00:00Z");
const NOW = START + 30 * 24 * HOUR;

/** DigitalOcean AS14061, Santa Clara, US-CA: a proxy leaking into a cloud exit in the account's own region. */
const DIGITALOCEAN = "137.184.0.1";
/** 31173 Services AB AS39351 (Mullvad VPN), Amsterdam. */
const MULLVAD = "185.65.134.1";
/** T-Mobile USA AS21928: a phone hotspot. */
const TMOBILE = "172.56.0.1";

type Finding = { rule: string; severity: string; message: string };
type Result = { id: string; account_id: string; risk: number; findings: Finding[] };

/** An account learned over 25 hourly events from a residential ISP (Comcast), with its sender. */
async function residentialAccount(home: string = IP.home) {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const agent = await newEnvironment(api, ws.admin);
  const ref = uid("store-");
  t.clock.set(new Date(NOW));
  const learned = await api.post("/v1/events", agent.token, {
    events: Array.from({ length: 25 }, (_, i) =>
      event(START + i * HOUR, { ref, env: { ip: home, device_id: "dev-1", ...LA } }),
    ),
  });
  expect(learned.status).toBe(202);
  const send = async (ip: string, at = START + 26 * HOUR, lang = "en"): Promise<Result> => {
    const r = await api.call(
      "POST",
      "/v1/events",
      agent.token,
      { events: [event(at, { ref, env: { ip, device_id: "dev-1", ...LA } })] },
      { "accept-language": lang },
    );
    expect(r.status).toBe(202);
    return r.body.results[0];
  };
  return { api, ws, agent, ref, accountId: learned.body.results[0].account_id as string, send };
}

const finding = (r: Result, rule: string) => r.findings.find((f) => f.rule === rule);

describe("network types", () => {
  it("a move from a residential ISP to a datacenter in the same region raises datacenter_network (high), not just new_network", async () => {
    const { api, ws, accountId, send } = await residentialAccount();
    const r = await send(DIGITALOCEAN);
    expect(finding(r, "datacenter_network")).toMatchObject({ severity: "high" });
    expect(finding(r, "datacenter_network")!.message).toContain("AS14061");
    expect(finding(r, "new_network")).toMatchObject({ severity: "medium" });
    expect(finding(r, "new_country")).toBeUndefined();
    // A high finding floors the risk well above a benign ISP change's.
    expect(r.risk).toBeGreaterThanOrEqual(70);

    const alerts = (await api.get(`/v1/alerts?account_id=${accountId}&rule=datacenter_network`, ws.viewer))
      .body.alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: "high", key: "hosting:AS14061" });
    expect(alerts[0].evidence).toMatchObject({
      asn: 14061,
      network_type: "hosting",
      classified_by: "list",
      known_types: ["residential"],
    });
  });

  it("a benign ISP change stays new_network (medium) without datacenter_network", async () => {
    const { send } = await residentialAccount();
    const r = await send(IP.otherNetwork);
    expect(finding(r, "new_network")).toMatchObject({ severity: "medium" });
    expect(finding(r, "datacenter_network")).toBeUndefined();
  });

  it("a VPN provider raises it too, and a mobile hotspot does not", async () => {
    const { send } = await residentialAccount();
    const vpn = await send(MULLVAD);
    expect(finding(vpn, "datacenter_network")).toMatchObject({ severity: "high" });
    const hotspot = await send(TMOBILE, START + 40 * HOUR);
    expect(finding(hotspot, "datacenter_network")).toBeUndefined();
    expect(finding(hotspot, "new_network")).toBeDefined();
  });

  it("says what it saw in Chinese", async () => {
    const { send } = await residentialAccount();
    const r = await send(DIGITALOCEAN, START + 26 * HOUR, "zh-CN");
    expect(finding(r, "datacenter_network")!.message).toContain("机房/云主机");
    expect(finding(r, "datacenter_network")!.message).toContain("家庭宽带");
  });

  it("an account that normally works from a cloud host is not flagged for it", async () => {
    const { send } = await residentialAccount(IP.virginia);
    const r = await send("23.20.1.77");
    expect(finding(r, "datacenter_network")).toBeUndefined();
  });

  it("trusting the alert accepts the network type: the next datacenter event does not raise it again", async () => {
    const { api, ws, accountId, send } = await residentialAccount();
    await send(DIGITALOCEAN);
    const [alert] = (await api.get(`/v1/alerts?account_id=${accountId}&rule=datacenter_network`, ws.viewer))
      .body.alerts;
    const trusted = await api.post(`/v1/alerts/${alert.id}/trust`, ws.reviewer, {
      note: "our cloud browser",
    });
    expect(trusted.status).toBe(200);
    const next = await send("137.184.0.77", START + 30 * HOUR);
    expect(finding(next, "datacenter_network")).toBeUndefined();
  });

  it("shows the network type of stored events", async () => {
    const { api, ws, accountId, send } = await residentialAccount();
    await send(DIGITALOCEAN);
    const events = (await api.get(`/v1/accounts/${accountId}/events?limit=1`, ws.viewer)).body.events;
    expect(events[0].env).toMatchObject({ ip: DIGITALOCEAN, asn: 14061, network_type: "hosting" });
  });
});

describe("pin.network_types", () => {
  async function pinned(networkTypes: unknown) {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    t.clock.set(new Date(NOW));
    const created = await api.post("/v1/accounts", ws.admin, {
      platform: "amazon",
      ref: uid("pinned-"),
      pin: { network_types: networkTypes },
    });
    const agent = created.status === 201 ? await newEnvironment(api, ws.admin, [created.body.id]) : null;
    const report = async (ip: string) =>
      (
        await api.post(
          "/v1/events",
          agent!.token,
          event(START, { platform: "amazon", ref: created.body.ref, env: { ip, device_id: "d", ...LA } }),
        )
      ).body.results[0] as Result;
    return { created, report };
  }

  it("a network type outside the pin is a pin violation from the first event", async () => {
    const { created, report } = await pinned(["residential", "mobile"]);
    expect(created.status).toBe(201);
    expect(created.body.pin).toEqual({ network_types: ["residential", "mobile"] });
    const r = await report(DIGITALOCEAN);
    expect(finding(r, "pin_violation")).toMatchObject({ severity: "high" });
    expect(finding(r, "pin_violation")!.message).toContain("hosting");
    expect(finding(await report(IP.home), "pin_violation")).toBeUndefined();
    expect(finding(await report(TMOBILE), "pin_violation")).toBeUndefined();
  });

  it("refuses an unknown network type with a 400 naming the field", async () => {
    const { created } = await pinned(["datacenter"]);
    expect(created.status).toBe(400);
    expect(JSON.stringify(created.body)).toContain("pin.network_types.0");
  });
});
