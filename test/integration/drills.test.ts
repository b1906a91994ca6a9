import { describe, expect, it } from "vitest";
import type { EventBody } from "../../src/http/events/schemas.ts";
import { type Client, client } from "../support/api.ts";
import {
  CHROME_120_WIN,
  HOUR,
  MINUTE,
  newEnvironment,
  newWorkspace,
  uid,
  type Workspace,
} from "../support/factories.ts";
import { sharedEnricher, useTestApp } from "../support/harness.ts";

const t = useTestApp();

/** Six networks, one /24 each: every account has its own, so no sharing rule interferes. */
const HOMES = ["73.15.20.", "68.4.2.", "71.190.0.", "23.20.1.", "5.9.1.", "133.242.1."];
/** Comcast AS7922 in San Jose: another subnet of the switcher's own network, under 100 km from home */
const SWITCH_IP = "76.102.5.5";
const SWITCH_IP_2 = "76.102.5.6";

interface Member {
  id: string;
  ref: string;
  ip: string;
  timezone: string;
  operator: string;
  agent: string;
}

async function member(api: Client, ws: Workspace, name: string, ip: string, group: string | null) {
  const ref = uid(`${name}-`);
  const created = await api.post("/v1/accounts", ws.admin, { platform: "tiktok_shop", ref, group });
  expect(created.status).toBe(201);
  const agent = await newEnvironment(api, ws.admin, [created.body.id]);
  const timezone = (await sharedEnricher()).net(ip).timezone ?? "UTC";
  return { id: created.body.id, ref, ip, timezone, operator: `op-${name}`, agent: agent.token } as Member;
}

function ev(m: Member, at: number, over: Partial<EventBody> & { ip?: string } = {}): EventBody {
  const { ip, ...rest } = over;
  return {
    id: uid("ev-"),
    type: "login",
    occurred_at: new Date(at).toISOString(),
    account: { platform: "tiktok_shop", ref: m.ref },
    operator: m.operator,
    env: { ip: ip ?? m.ip, device_id: `dev-${m.ref}`, user_agent: CHROME_120_WIN, timezone: m.timezone },
    ...rest,
  };
}

const op = (operation: string) => ({ type: "operation" as const, operation });
const failed = (code: "http_5xx" | "timeout") => ({ result: { status: "error" as const, code } });

/** A scripted agent: moves the clock to `at`, then reports. */
async function report(api: Client, m: Member, at: number, over: Partial<EventBody> & { ip?: string } = {}) {
  t.clock.set(new Date(at));
  const res = await api.post("/v1/events", m.agent, ev(m, at, over));
  expect(res.status, JSON.stringify(res.body)).toBe(202);
}

/** A scripted agent asks preflight at `at` from its own environment. */
async function ask(api: Client, m: Member, at: number, operation: string) {
  t.clock.set(new Date(at));
  const res = await api.post("/v1/preflight", m.agent, {
    account: { platform: "tiktok_shop", ref: m.ref },
    operation,
    operator: m.operator,
    env: { ip: m.ip, device_id: `dev-${m.ref}`, user_agent: CHROME_120_WIN, timezone: m.timezone },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { decision: string; drill_id: string | null; incident: { id: string } | null };
}

/** A team of six (group `team-a`) and one account outside it, each with its own agent, all with a baseline. */
async function team(start: number) {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(start - 2 * HOUR));
  const members: Member[] = [];
  for (const [i, net] of HOMES.entries())
    members.push(await member(api, ws, `m${i}`, `${net}${10 + i}`, "team-a"));
  const outsider = await member(api, ws, "out", "73.15.6.50", null);
  for (const m of [...members, outsider]) {
    const learning = [0, 1, 2].map((k) => ev(m, start - 2 * HOUR + k * MINUTE, op("inventory_sync")));
    expect((await api.post("/v1/events", m.agent, { events: learning })).status).toBe(202);
  }
  return { api, ws, members, outsider };
}

const at = (base: number, minutes: number) => base + minutes * MINUTE;

describe("drills", () => {
  it("scores a simulated team exactly, and a better-behaved second drill of the same scope shows its improvement", async () => {
    const D1 = Date.parse("2026-02-02T09:00:00Z");
    const { api, ws, members, outsider } = await team(D1);
    // The switcher lives on Comcast in California: its switch stays under 100 km, so only the incident rule speaks.
    const [switcher, syncer, blind, asker, stormer, editor] = members as [
      Member,
      Member,
      Member,
      Member,
      Member,
      Member,
    ];

    t.clock.set(new Date(D1));
    const viewerTry = await api.post("/v1/drills", ws.viewer, {
      platform: "tiktok_shop",
      planned_minutes: 60,
    });
    expect(viewerTry.status).toBe(403);
    const started = await api.post("/v1/drills", ws.reviewer, {
      platform: "tiktok_shop",
      scope: { group: "team-a" },
      title: "TikTok Shop login outage rehearsal",
      planned_minutes: 60,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const drill = started.body;
    // Among the incidents, it is marked as the rehearsal it is.
    expect((await api.get(`/v1/incidents/${drill.id}`, ws.viewer)).body.kind).toBe("drill");
    expect(drill).toMatchObject({
      platform: "tiktok_shop",
      scope: { group: "team-a", account_ids: null },
      planned_minutes: 60,
      status: "active",
      started_at: new Date(D1).toISOString(),
      planned_end_at: new Date(at(D1, 60)).toISOString(),
      ended_at: null,
    });
    // To everything else the drill is an incident on the platform.
    const incident = (await api.get(`/v1/incidents/${drill.id}`, ws.viewer)).body;
    expect(incident).toMatchObject({ id: drill.id, source: "declared", status: "active" });

    // The team: two ask first, one does not, one switches networks, one retries in a storm, one edits a binding.
    const a0 = await ask(api, asker, at(D1, 5), "publish_listing");
    expect(a0).toMatchObject({ decision: "allow", drill_id: drill.id, incident: { id: drill.id } });
    await report(api, asker, at(D1, 6), op("publish_listing"));
    await ask(api, syncer, at(D1, 7), "inventory_sync");
    await report(api, syncer, at(D1, 8), op("inventory_sync"));
    await report(api, blind, at(D1, 10), op("publish_listing"));
    await report(api, outsider, at(D1, 10));
    await report(api, blind, at(D1, 11));
    await report(api, switcher, at(D1, 12), { ip: SWITCH_IP });
    for (let k = 0; k < 5; k++) await report(api, stormer, at(D1, 15 + k), failed("http_5xx"));
    const denied = await ask(api, editor, at(D1, 20), "binding_change");
    expect(denied).toMatchObject({ decision: "deny", drill_id: drill.id });
    t.clock.set(new Date(at(D1, 21)));
    const granted = await api.post(`/v1/accounts/${editor.id}/overrides`, ws.reviewer, {
      operation: "binding_change",
      minutes: 30,
      reason: "the bank asked for it",
    });
    expect(granted.status).toBe(201);
    expect(await ask(api, editor, at(D1, 22), "binding_change")).toMatchObject({
      decision: "allow",
      drill_id: drill.id,
    });
    await report(api, editor, at(D1, 23), op("binding_change"));

    // Every alert raised in the drill names it.
    const alerts = (await api.get(`/v1/alerts?incident_id=${drill.id}`, ws.viewer)).body.alerts as Array<{
      id: string;
      rule: string;
      drill_id: string | null;
    }>;
    expect(alerts.map((a) => a.rule).sort()).toEqual([
      "incident_network_switch",
      "retry_storm",
      "sensitive_op_during_incident",
    ]);
    for (const a of alerts) expect(a.drill_id).toBe(drill.id);
    const storm = alerts.find((a) => a.rule === "retry_storm")!;
    expect((await api.get(`/v1/alerts/${storm.id}`, ws.viewer)).body.drill_id).toBe(drill.id);

    // The first answer: 18 minutes after the first drill alert (the switch, at minute 12).
    t.clock.set(new Date(at(D1, 30)));
    expect((await api.post(`/v1/alerts/${storm.id}/acknowledge`, ws.reviewer, {})).status).toBe(200);
    t.clock.set(new Date(at(D1, 40)));
    const ended = await api.post(`/v1/drills/${drill.id}/end`, ws.reviewer, {});
    expect(ended.body).toMatchObject({ status: "closed", ended_at: new Date(at(D1, 40)).toISOString() });
    expect((await api.post(`/v1/drills/${drill.id}/end`, ws.reviewer, {})).status).toBe(409);

    const firstAnswer = await api.get(`/v1/drills/${drill.id}/report`, ws.viewer);
    expect(firstAnswer.status, JSON.stringify(firstAnswer.body)).toBe(200);
    const first = firstAnswer.body;
    expect(first.window).toEqual({
      from: new Date(D1).toISOString(),
      to: new Date(at(D1, 40)).toISOString(),
    });
    expect(first.figures).toEqual({
      accounts: 6,
      environments: 6,
      network_switches: 1,
      retry_storms: 1,
      sensitive_performed: 1,
      sensitive_denied: 1,
      sensitive_allowed_by_override: 1,
      // asker, syncer and editor asked; blind (2), switcher (1) and stormer (5) did not
      operations: 11,
      asked_first: 3,
      without_asking: 8,
      compliance: 0.273,
      alerts: 3,
      first_ack_seconds: 18 * 60,
    });
    expect(first.participants.accounts.map((a: { ref: string }) => a.ref).sort()).toEqual(
      members.map((m) => m.ref).sort(),
    );
    expect(
      first.improvised_actions.map((a: Record<string, unknown>) => ({
        ref: a.ref,
        switches: (a.network_switches as unknown[]).length,
        storms: a.retry_storms,
        sensitive: (a.sensitive_operations as Array<{ operation: string }>).map((s) => s.operation),
        denials: a.preflight_denials,
        overrides: a.overrides,
      })),
    ).toEqual(
      [
        { ref: switcher.ref, switches: 1, storms: 0, sensitive: [], denials: 0, overrides: 0 },
        { ref: stormer.ref, switches: 0, storms: 1, sensitive: [], denials: 0, overrides: 0 },
        { ref: editor.ref, switches: 0, storms: 0, sensitive: ["binding_change"], denials: 1, overrides: 1 },
      ].sort((a, b) => a.ref.localeCompare(b.ref)),
    );
    expect(first.acknowledgement).toEqual({
      first_alert_at: new Date(at(D1, 12)).toISOString(),
      first_answer_at: new Date(at(D1, 30)).toISOString(),
      seconds: 1080,
    });
    expect(first.real_incidents).toEqual([]);
    expect(first.comparison).toBeNull();

    // A day later, the same scope again: everyone asks first; the switcher still slips once, and is caught fast.
    const D2 = D1 + 24 * HOUR;
    t.clock.set(new Date(D2));
    const second = (
      await api.post("/v1/drills", ws.reviewer, {
        platform: "tiktok_shop",
        scope: { group: "team-a" },
        planned_minutes: 30,
      })
    ).body;
    await ask(api, asker, at(D2, 1), "publish_listing");
    await report(api, asker, at(D2, 2), op("publish_listing"));
    await ask(api, syncer, at(D2, 3), "inventory_sync");
    await report(api, syncer, at(D2, 4), op("inventory_sync"));
    await ask(api, blind, at(D2, 5), "publish_listing");
    await report(api, blind, at(D2, 6), op("publish_listing"));
    await ask(api, stormer, at(D2, 7), "login");
    await report(api, stormer, at(D2, 8));
    expect(await ask(api, editor, at(D2, 9), "binding_change")).toMatchObject({ decision: "deny" });
    await report(api, switcher, at(D2, 10), { ip: SWITCH_IP_2 });
    const slip = (await api.get(`/v1/alerts?incident_id=${second.id}`, ws.viewer)).body.alerts;
    expect(slip.map((a: { rule: string }) => a.rule)).toEqual(["incident_network_switch"]);
    t.clock.set(new Date(at(D2, 12)));
    expect((await api.post(`/v1/alerts/${slip[0].id}/acknowledge`, ws.reviewer, {})).status).toBe(200);

    // Past its planned end the drill has ended by itself, at that end.
    t.clock.set(new Date(at(D2, 45)));
    const over = (await api.get(`/v1/drills/${second.id}`, ws.viewer)).body;
    expect(over).toMatchObject({ status: "closed", ended_at: new Date(at(D2, 30)).toISOString() });

    const better = (await api.get(`/v1/drills/${second.id}/report`, ws.viewer)).body;
    expect(better.figures).toEqual({
      accounts: 5,
      environments: 5,
      network_switches: 1,
      retry_storms: 0,
      sensitive_performed: 0,
      sensitive_denied: 1,
      sensitive_allowed_by_override: 0,
      operations: 5,
      asked_first: 4,
      without_asking: 1,
      compliance: 0.8,
      alerts: 1,
      first_ack_seconds: 120,
    });
    expect(better.comparison.previous_drill_id).toBe(drill.id);
    const changes = Object.fromEntries(
      better.comparison.changes.map(
        (c: { figure: string; change: number | null; improved: boolean | null }) => [
          c.figure,
          [c.change, c.improved],
        ],
      ),
    );
    expect(changes).toEqual({
      accounts: [-1, null],
      environments: [-1, null],
      network_switches: [0, null],
      retry_storms: [-1, true],
      sensitive_performed: [-1, true],
      sensitive_denied: [0, null],
      sensitive_allowed_by_override: [-1, true],
      operations: [-6, null],
      asked_first: [1, null],
      without_asking: [-7, true],
      compliance: [0.527, true],
      alerts: [-2, null],
      first_ack_seconds: [-960, true],
    });

    // The list carries each drill's headline figures, newest first.
    const listed = (await api.get("/v1/drills", ws.viewer)).body.drills;
    expect(listed.map((d: { id: string }) => d.id)).toEqual([second.id, drill.id]);
    expect(listed[1].figures).toEqual(first.figures);

    const md = await t.app.request(`/v1/drills/${second.id}/report?format=md`, {
      headers: { authorization: `Bearer ${ws.viewer}` },
    });
    expect(md.headers.get("content-type")).toContain("text/markdown");
    const text = await md.text();
    expect(text).toContain("# Drill report: tiktok_shop drill / 演练报告：tiktok_shop drill");
    expect(text).toContain("| Preflight compliance / 预检遵守率 | 0.8 | 0.273 | +0.527 | better / 改善 |");
    expect(text).toContain(`tiktok_shop/${switcher.ref}`);
    expect(text).toContain(`Compared with drill ${drill.id}`);
    expect(text).toContain(`对比对象：同一范围的演练 ${drill.id}`);
    expect(text).not.toContain(switcher.id);

    // Another workspace sees no such drill.
    const other = await newWorkspace(t.database);
    expect((await api.get(`/v1/drills/${drill.id}`, other.viewer)).status).toBe(404);
    expect((await api.get(`/v1/drills/${drill.id}/report`, other.viewer)).status).toBe(404);
    expect((await api.post(`/v1/drills/${drill.id}/end`, other.reviewer, {})).status).toBe(404);
    expect((await api.post(`/v1/drills/${drill.id}/end`, ws.viewer, {})).status).toBe(403);
  });

  it("reports a real outage detected during a drill as real, never as the drill", async () => {
    const D = Date.parse("2026-02-09T09:00:00Z");
    const { api, ws, members } = await team(D);
    t.clock.set(new Date(D));
    const drill = (
      await api.post("/v1/drills", ws.reviewer, { platform: "tiktok_shop", planned_minutes: 30 })
    ).body;
    // Four of seven accounts, on four networks, fail on the platform's side within four minutes.
    for (const [i, m] of members.slice(0, 4).entries())
      await report(api, m, at(D, 5 + i), failed("http_5xx"));

    const active = (await api.get("/v1/incidents?status=active", ws.viewer)).body.incidents;
    const real = active.find((i: { id: string }) => i.id !== drill.id);
    expect(active).toHaveLength(2);
    expect(real).toMatchObject({ platform: "tiktok_shop", source: "detected", status: "active" });
    const detectedAlert = (await api.get(`/v1/alerts?rule=platform_incident`, ws.viewer)).body.alerts;
    expect(detectedAlert).toHaveLength(1);
    expect(detectedAlert[0]).toMatchObject({ incident_id: real.id, drill_id: null });

    const during = (await api.get(`/v1/drills/${drill.id}/report`, ws.viewer)).body;
    expect(during.real_incidents.map((i: { id: string; source: string }) => [i.id, i.source])).toEqual([
      [real.id, "detected"],
    ]);
    const md = await (
      await t.app.request(`/v1/drills/${drill.id}/report?format=md`, {
        headers: { authorization: `Bearer ${ws.viewer}` },
      })
    ).text();
    expect(md).toContain("## Real incidents during the drill / 演练期间发生的真实故障");
    expect(md).toContain(real.id);

    // After its planned end the drill no longer freezes anything; the real outage ended after its quiet hold.
    const later = await ask(api, members[5]!, at(D, 45), "binding_change");
    expect(later).toMatchObject({ decision: "allow", drill_id: null, incident: null });
    expect((await api.get(`/v1/drills/${drill.id}`, ws.viewer)).body).toMatchObject({
      status: "closed",
      ended_at: new Date(at(D, 30)).toISOString(),
    });
  });
});

describe("drills in the console", () => {
  async function page(path: string, cookie: string) {
    const res = await t.app.request(path, { headers: { cookie }, redirect: "manual" });
    return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
  }

  it("badges a drill in the incident list and page, and links its report; a real incident has neither", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    t.clock.set(new Date("2026-02-16T09:00:00Z"));
    const drill = (
      await api.post("/v1/drills", ws.reviewer, {
        platform: "amazon",
        title: "Amazon outage rehearsal",
        planned_minutes: 20,
      })
    ).body;
    const real = (
      await api.post("/v1/incidents", ws.reviewer, { platform: "amazon", title: "Amazon is down" })
    ).body;
    const login = await t.app.request("/console/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
      body: new URLSearchParams({ token: ws.viewer }).toString(),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    const session = (login.headers.get("set-cookie") ?? "").split(";")[0]!;

    const list = await page("/console/incidents", `${session}; tether_lang=en`);
    const rowOf = (html: string, id: string) =>
      new RegExp(`<tr[^>]*data-incident="${id}"[^>]*>([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "";
    expect(rowOf(list.text, drill.id)).toContain('<span class="state state-drill">drill</span>');
    expect(rowOf(list.text, real.id)).not.toContain("state-drill");
    const zh = await page("/console/incidents", `${session}; tether_lang=zh-CN`);
    expect(rowOf(zh.text, drill.id)).toContain('<span class="state state-drill">演练</span>');

    const shown = await page(`/console/incidents/${drill.id}`, `${session}; tether_lang=en`);
    expect(shown.text).toContain(`href="/console/incidents/${drill.id}/drill-report.md"`);
    // Its figures, each beside the previous drill of the same scope (none yet).
    const figure = (html: string, name: string) =>
      new RegExp(`<tr data-figure="${name}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "";
    expect(figure(shown.text, "network_switches")).toContain("<td>Network switches</td><td>0</td>");
    expect(shown.text).toContain("This is the first drill of this scope: nothing to compare with yet.");
    const other = await page(`/console/incidents/${real.id}`, `${session}; tether_lang=en`);
    expect(other.text).not.toContain("drill-report.md");
    expect(other.text).not.toContain("data-figure=");

    // A second drill of the same scope is compared with the first, in the reader's language.
    expect((await api.post(`/v1/drills/${drill.id}/end`, ws.reviewer)).status).toBe(200);
    t.clock.set(new Date("2026-02-16T10:00:00Z"));
    const second = (
      await api.post("/v1/drills", ws.reviewer, {
        platform: "amazon",
        title: "Second rehearsal",
        planned_minutes: 20,
      })
    ).body;
    const again = await page(`/console/incidents/${second.id}`, `${session}; tether_lang=zh-CN`);
    expect(again.text).toContain(drill.id);
    expect(figure(again.text, "network_switches")).toMatch(/<td>0<\/td><td>0<\/td><td>0<\/td>/);
    expect(again.text).not.toContain("This is the first drill");

    const md = await page(`/console/incidents/${drill.id}/drill-report.md`, session);
    expect(md.status).toBe(200);
    expect(md.type).toContain("text/markdown");
    expect(md.text).toContain("# Drill report: Amazon outage rehearsal / 演练报告：Amazon outage rehearsal");
    expect((await page(`/console/incidents/${real.id}/drill-report.md`, session)).status).toBe(404);
  });
});
