import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp({ TETHER_SHARE_DAYS: 30 });
const START = Date.parse("2026-01-01T00:00:00Z");
const DAY = 24 * HOUR;

type Result = {
  account_id: string;
  risk: number;
  findings: Array<{ rule: string; severity: string; message: string }>;
};

/** A workspace whose accounts each have their own agent; `use` reports an event for one of them. */
async function matrix(groups: Record<string, string | null>) {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(START + 2 * DAY));
  const ids: Record<string, string> = {};
  const agents: Record<string, string> = {};
  for (const [name, group] of Object.entries(groups)) {
    const created = await api.post("/v1/accounts", ws.admin, {
      platform: "tiktok_shop",
      ref: uid(`${name}-`),
      group,
    });
    expect(created.status).toBe(201);
    ids[name] = created.body.id;
    agents[name] = (await newEnvironment(api, ws.admin, [created.body.id])).token;
  }
  const refs = async (name: string) =>
    (await api.get(`/v1/accounts/${ids[name]}`, ws.viewer)).body.ref as string;
  const use = async (name: string, at: number, env: Record<string, string>): Promise<Result> => {
    const res = await api.post(
      "/v1/events",
      agents[name]!,
      event(at, { ref: await refs(name), env: { ...LA, ...env } }),
    );
    expect(res.status).toBe(202);
    return res.body.results[0];
  };
  const associations = async (query = "") => (await api.get(`/v1/associations${query}`, ws.viewer)).body;
  const alerts = async (query = "") => (await api.get(`/v1/alerts?limit=500${query}`, ws.viewer)).body.alerts;
  return { api, ws, ids, use, associations, alerts };
}

const rulesOf = (r: Result) => r.findings.map((f) => f.rule);

describe("shared devices, IPs and subnets across isolation groups", () => {
  it("raises one critical shared_device alert naming both isolated accounts, in the second event's result", async () => {
    const { ids, use, alerts } = await matrix({ a: null, b: null });
    const first = await use("a", START, { ip: IP.home, device_id: "laptop-7" });
    expect(rulesOf(first)).toEqual([]);
    const second = await use("b", START + HOUR, {
      ip: IP.tokyo,
      device_id: "laptop-7",
      timezone: "Asia/Tokyo",
    });
    expect(second.findings).toEqual([
      expect.objectContaining({ rule: "shared_device", severity: "critical" }),
    ]);
    expect(second.risk).toBeGreaterThanOrEqual(90);
    const found = await alerts("&rule=shared_device");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      severity: "critical",
      key: "laptop-7",
      account_ids: [ids.a, ids.b].sort(),
    });
    expect(found[0].evidence).toMatchObject({
      kind: "device",
      value: "laptop-7",
      accounts: expect.arrayContaining([
        expect.objectContaining({ account_id: ids.b, first_seen_at: new Date(START + HOUR).toISOString() }),
        expect.objectContaining({
          account_id: ids.a,
          first_seen_at: new Date(START).toISOString(),
          event_id: expect.any(String),
        }),
      ]),
    });
    // The link is used again: the same alert counts it.
    await use("b", START + 2 * HOUR, { ip: IP.tokyo, device_id: "laptop-7", timezone: "Asia/Tokyo" });
    expect((await alerts("&rule=shared_device"))[0].count).toBe(2);
  });

  it("does not alert when the accounts share an isolation group", async () => {
    const { use, alerts, associations } = await matrix({ a: "eu-team", b: "eu-team" });
    await use("a", START, { ip: IP.germany, device_id: "shared-pc", timezone: "Europe/Berlin" });
    const second = await use("b", START + HOUR, {
      ip: IP.germany,
      device_id: "shared-pc",
      timezone: "Europe/Berlin",
    });
    expect(second.findings).toEqual([]);
    expect(await alerts()).toEqual([]);
    expect((await associations()).links).toEqual([]);
  });

  it("names every link when a third account joins the same device", async () => {
    const { ids, use, alerts } = await matrix({ a: null, b: "us-agency", c: null });
    await use("a", START, { ip: IP.home, device_id: "pc-1" });
    await use("b", START + HOUR, { ip: IP.otherNetwork, device_id: "pc-1" });
    const third = await use("c", START + 2 * HOUR, {
      ip: IP.virginia,
      device_id: "pc-1",
      timezone: "America/New_York",
    });
    expect(third.findings.filter((f) => f.rule === "shared_device")).toHaveLength(2);
    const pairs = (await alerts("&rule=shared_device"))
      .map((a: { account_ids: string[] }) => a.account_ids.join("+"))
      .sort();
    expect(pairs).toEqual(
      [
        [ids.a, ids.b],
        [ids.a, ids.c],
        [ids.b, ids.c],
      ]
        .map((p) => p.sort().join("+"))
        .sort(),
    );
  });

  it("raises shared_ip (high) and shared_subnet (medium) for proxies exiting through one IP or one /24", async () => {
    const { use } = await matrix({ a: null, b: null, c: null });
    await use("a", START, { ip: IP.home, device_id: "d-a" });
    const sameIp = await use("b", START + HOUR, { ip: IP.home, device_id: "d-b" });
    expect(sameIp.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: "shared_ip", severity: "high" }),
        expect.objectContaining({ rule: "shared_subnet", severity: "medium" }),
      ]),
    );
    const sameSubnet = await use("c", START + 2 * HOUR, { ip: IP.homeRenewed, device_id: "d-c" });
    expect(sameSubnet.findings.map((f) => f.rule).sort()).toEqual(["shared_subnet", "shared_subnet"]);
  });

  it("ignores the same IP used 40 days apart when the sharing window is 30 days", async () => {
    const { use, associations } = await matrix({ a: null, b: null });
    t.clock.set(new Date(START + 60 * DAY));
    await use("a", START, { ip: IP.home, device_id: "d-a" });
    const later = await use("b", START + 40 * DAY, { ip: IP.home, device_id: "d-b" });
    expect(later.findings).toEqual([]);
    expect((await associations(`?since=${new Date(START - DAY).toISOString()}`)).links).toEqual([]);
    // Within the window it links.
    const soon = await use("b", START + 20 * DAY, { ip: IP.home, device_id: "d-b" });
    expect(rulesOf(soon)).toContain("shared_ip");
  });

  it("links accounts inside one batch, from the first event, with no learning period", async () => {
    const { api, ws } = await matrix({});
    const agent = await newEnvironment(api, ws.admin);
    const res = await api.post("/v1/events", agent.token, {
      events: [
        event(START, { ref: uid("x-"), env: { ...LA, ip: IP.home, device_id: "one-box" } }),
        event(START + 60_000, { ref: uid("y-"), env: { ...LA, ip: IP.otherNetwork, device_id: "one-box" } }),
      ],
    });
    expect(res.body.results[1].findings).toEqual([expect.objectContaining({ rule: "shared_device" })]);
  });
});

describe("GET /v1/associations", () => {
  it("shows a chain A–B (device), B–C (IP), C–D (subnet) as one cluster of four", async () => {
    const { ids, use, associations } = await matrix({ a: null, b: "team-1", c: "team-2", d: null });
    await use("a", START, { ip: IP.tokyo, device_id: "dev-ab", timezone: "Asia/Tokyo" });
    await use("b", START + HOUR, { ip: IP.home, device_id: "dev-ab" });
    await use("c", START + 2 * HOUR, { ip: IP.home, device_id: "dev-c" });
    await use("c", START + 3 * HOUR, { ip: IP.sameNetworkOtherSubnet, device_id: "dev-c" });
    await use("d", START + 4 * HOUR, { ip: "76.102.5.77", device_id: "dev-d" });
    const body = await associations();
    const kinds = body.links.map(
      (l: { kind: string; account_ids: string[] }) => `${l.kind}:${[...l.account_ids].sort().join("+")}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        `device:${[ids.a, ids.b].sort().join("+")}`,
        `ip:${[ids.b, ids.c].sort().join("+")}`,
        `subnet:${[ids.c, ids.d].sort().join("+")}`,
      ]),
    );
    expect(body.clusters).toEqual([
      {
        account_ids: [ids.a, ids.b, ids.c, ids.d].sort(),
        groups: ["team-1", "team-2", null],
        kinds: ["device", "ip", "subnet"],
        links: body.links.length,
      },
    ]);
    const deviceOnly = await associations("?kind=device");
    expect(deviceOnly.links).toHaveLength(1);
    expect(deviceOnly.links[0]).toMatchObject({
      value: "dev-ab",
      first_seen_at: new Date(START + HOUR).toISOString(),
    });
    expect((await associations("?platform=amazon")).links).toEqual([]);
  });

  it("after trust, the next event on that link raises nothing while a new link of the same account still does", async () => {
    const { api, ws, ids, use, alerts, associations } = await matrix({ a: null, b: null, c: null });
    await use("a", START, { ip: IP.home, device_id: "twin" });
    await use("b", START + HOUR, { ip: IP.tokyo, device_id: "twin", timezone: "Asia/Tokyo" });
    const [alert] = await alerts("&rule=shared_device");
    const trusted = await api.post(`/v1/alerts/${alert.id}/trust`, ws.reviewer, {
      note: "same owner, approved",
    });
    expect(trusted.body.status).toBe("resolved");

    const again = await use("b", START + 2 * HOUR, {
      ip: IP.tokyo,
      device_id: "twin",
      timezone: "Asia/Tokyo",
    });
    expect(rulesOf(again)).not.toContain("shared_device");
    expect(await alerts("&rule=shared_device&status=open")).toEqual([]);
    const link = (await associations()).links.find((l: { value: string }) => l.value === "twin");
    expect(link).toMatchObject({ allowed: true });
    expect((await associations()).clusters).toEqual([]);

    const fresh = await use("c", START + 3 * HOUR, {
      ip: IP.germany,
      device_id: "twin",
      timezone: "Europe/Berlin",
    });
    expect(fresh.findings.filter((f) => f.rule === "shared_device")).toHaveLength(2);
    const open = await alerts("&rule=shared_device&status=open");
    expect(open.map((a: { account_ids: string[] }) => a.account_ids.includes(ids.c!))).toEqual([true, true]);
  });
});

describe("the subnet rule is a workspace setting", () => {
  it("can be switched off", async () => {
    const { api, ws, use } = await matrix({ a: null, b: null });
    await api.patch("/v1/settings", ws.admin, { shared_subnet_enabled: false });
    await use("a", START, { ip: IP.home, device_id: "d-a" });
    const b = await use("b", START + HOUR, { ip: IP.homeRenewed, device_id: "d-b" });
    expect(b.findings).toEqual([]);
  });

  it("can use a wider prefix: the same /16 links two different /24s", async () => {
    const { api, ws, use } = await matrix({ a: null, b: null });
    await api.patch("/v1/settings", ws.admin, { shared_subnet_ipv4_prefix: 16 });
    await use("a", START, { ip: "73.15.20.1", device_id: "d-a" });
    const b = await use("b", START + HOUR, { ip: "73.15.99.7", device_id: "d-b" });
    expect(b.findings).toEqual([
      expect.objectContaining({ rule: "shared_subnet", message: expect.stringContaining("73.15.0.0/16") }),
    ]);
  });
});
