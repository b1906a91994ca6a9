import { describe, expect, it } from "vitest";
import type { EventBody } from "../../src/http/events/schemas.ts";
import { type Answer, type Client, client } from "../support/api.ts";
import { CHROME_120_WIN, HOUR, MINUTE, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { sharedEnricher, useTestApp } from "../support/harness.ts";

const t = useTestApp();
const START = Date.parse("2026-01-10T00:00:00Z");
/** five minutes after the last learning event: every agent reported recently */
const READY = START + 24 * HOUR + 5 * MINUTE;
const ZH = { "accept-language": "zh-CN,zh;q=0.9" };

interface Store {
  id: string;
  platform: string;
  ref: string;
  ip: string;
  device: string;
  timezone: string;
  agent: string;
}

const ev = (s: Store, at: number, over: Partial<EventBody> = {}): EventBody => ({
  id: uid("ev-"),
  type: "operation",
  operation: "inventory_sync",
  occurred_at: new Date(at).toISOString(),
  account: { platform: s.platform, ref: s.ref },
  env: { ip: s.ip, device_id: s.device, user_agent: CHROME_120_WIN, timezone: s.timezone, locale: "en-US" },
  ...over,
});

async function post(api: Client, s: Store, events: EventBody[]) {
  const res = await api.post("/v1/events", s.agent, { events });
  expect(res.status).toBe(202);
  return res.body.results as Array<{ findings: Array<{ rule: string }> }>;
}

/**
 * A clean, isolated matrix in a workspace of its own: two TikTok Shop accounts whose baselines are learned
 * (one isolated, one in group g1) and an Amazon account whose baseline is pinned; each has its own agent,
 * device, network and /24, and every agent reported five minutes ago.
 */
async function cleanMatrix() {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(READY));
  const enricher = await sharedEnricher();
  const add = async (
    name: string,
    platform: string,
    ip: string,
    extra: { group?: string; pin?: Record<string, unknown> } = {},
  ): Promise<Store> => {
    const ref = uid(`${name}-`);
    const created = await api.post("/v1/accounts", ws.admin, { platform, ref, ...extra });
    expect(created.status).toBe(201);
    const agent = await newEnvironment(api, ws.admin, [created.body.id]);
    const timezone = enricher.net(ip).timezone ?? "UTC";
    return {
      id: created.body.id,
      platform,
      ref,
      ip,
      device: `dev-${name}-${ref}`,
      timezone,
      agent: agent.token,
    };
  };
  const solo = await add("solo", "tiktok_shop", "73.15.20.10");
  const grouped = await add("grouped", "tiktok_shop", "68.4.2.11", { group: "g1" });
  const pinned = await add("pinned", "amazon", "71.190.0.12", {
    pin: { cidrs: ["71.190.0.0/24"] },
  });
  for (const s of [solo, grouped]) {
    const learning = Array.from({ length: 25 }, (_, h) => ev(s, START + h * HOUR));
    const results = await post(api, s, learning);
    expect(results.flatMap((r) => r.findings.map((f) => f.rule))).toEqual([]);
  }
  await post(api, pinned, [ev(pinned, START + 23 * HOUR), ev(pinned, START + 24 * HOUR)]);
  return { api, ws, solo, grouped, pinned };
}

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}
interface AccountReport {
  account_id: string;
  platform: string;
  ref: string;
  checks: Check[];
}

const verify = (api: Client, token: string | null, query = "", headers: Record<string, string> = {}) =>
  api.call("GET", `/v1/drills/verify${query}`, token, undefined, headers);

const failing = (res: Answer) =>
  (res.body.failed as AccountReport[]).map((a) => ({ ref: a.ref, checks: a.checks.map((c) => c.check) }));

const checkOf = (res: Answer, ref: string, check: string) =>
  (res.body.accounts as AccountReport[]).find((a) => a.ref === ref)!.checks.find((c) => c.check === check)!;

describe("GET /v1/drills/verify", () => {
  it("passes a clean, isolated matrix with every check of every account", async () => {
    const { api, ws, solo, grouped, pinned } = await cleanMatrix();
    const res = await verify(api, ws.viewer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      verdict: "pass",
      checked_at: new Date(READY).toISOString(),
      failed: [],
    });
    expect(res.body.id).toMatch(/^drv_/);
    const accounts = res.body.accounts as AccountReport[];
    expect(accounts.map((a) => a.ref).sort()).toEqual([solo.ref, grouped.ref, pinned.ref].sort());
    for (const a of accounts) {
      expect(a.checks.map((c) => c.check)).toEqual([
        "baseline",
        "open_alerts",
        "isolation",
        "heartbeat",
        "incident",
      ]);
      expect(a.checks.every((c) => c.ok)).toBe(true);
    }
    expect(checkOf(res, pinned.ref, "baseline").detail).toBe("baseline pinned");
    expect(checkOf(res, solo.ref, "baseline").detail).toBe("baseline established");
    expect(checkOf(res, solo.ref, "heartbeat").detail).toBe("agent heartbeat 5 min ago");
    expect(res.body.summary).toBe("all 3 accounts are ready for the drill");
  });

  it("fails both accounts of a device shared across groups, naming the other one, even once the alert is dismissed", async () => {
    const { api, ws, solo, grouped } = await cleanMatrix();
    await post(api, grouped, [
      ev(grouped, READY - MINUTE, { env: { ...ev(grouped, 0).env, device_id: solo.device } }),
    ]);
    const res = await verify(api, ws.viewer);
    expect(res.status).toBe(412);
    expect(res.body.verdict).toBe("fail");
    expect(failing(res)).toEqual(
      expect.arrayContaining([
        { ref: solo.ref, checks: ["open_alerts", "isolation"] },
        { ref: grouped.ref, checks: expect.arrayContaining(["open_alerts", "isolation"]) },
      ]),
    );
    expect(checkOf(res, grouped.ref, "isolation").detail).toBe(
      `shared with another group in the last 30 days: device ${solo.device} with tiktok_shop/${solo.ref} (isolated)`,
    );
    expect(checkOf(res, solo.ref, "isolation").detail).toContain(
      `with tiktok_shop/${grouped.ref} (group g1)`,
    );

    const alerts = (await api.get("/v1/alerts?rule=shared_device", ws.viewer)).body.alerts;
    expect(alerts).toHaveLength(1);
    expect((await api.post(`/v1/alerts/${alerts[0].id}/dismiss`, ws.reviewer, {})).status).toBe(200);
    const after = await verify(api, ws.viewer);
    expect(after.status).toBe(412);
    expect(checkOf(after, solo.ref, "open_alerts").ok).toBe(true);
    expect(checkOf(after, solo.ref, "isolation").ok).toBe(false);
  });

  it("passes the isolation check of a device sharing a reviewer trusted", async () => {
    const { api, ws, solo, grouped } = await cleanMatrix();
    await post(api, grouped, [
      ev(grouped, READY - MINUTE, { env: { ...ev(grouped, 0).env, device_id: solo.device } }),
    ]);
    const alerts = (await api.get("/v1/alerts?rule=shared_device", ws.viewer)).body.alerts;
    expect((await api.post(`/v1/alerts/${alerts[0].id}/trust`, ws.reviewer, {})).status).toBe(200);
    const res = await verify(api, ws.viewer, `?account_ids=${solo.id},${grouped.id}`);
    expect(checkOf(res, solo.ref, "isolation").ok).toBe(true);
    expect(checkOf(res, grouped.ref, "isolation").ok).toBe(true);
    // The device is still new to the grouped account's own baseline: that alert stays open.
    expect(failing(res)).toEqual([{ ref: grouped.ref, checks: ["open_alerts"] }]);
    expect(checkOf(res, grouped.ref, "open_alerts").detail).toMatch(
      /^1 open alert: new_device \(alr_[0-9a-z]+\)$/,
    );
  });

  it("fails every account whose agents have been silent for more than 15 minutes, and passes again after a heartbeat", async () => {
    const { api, ws, solo, grouped, pinned } = await cleanMatrix();
    t.clock.set(new Date(READY + 11 * MINUTE));
    const stale = await verify(api, ws.viewer);
    expect(stale.status).toBe(412);
    expect(failing(stale).map((a) => a.checks)).toEqual([["heartbeat"], ["heartbeat"], ["heartbeat"]]);
    expect(checkOf(stale, solo.ref, "heartbeat").detail).toBe(
      "last agent heartbeat 16 min ago, more than 15 min",
    );
    for (const s of [solo, grouped, pinned]) {
      const beat = {
        id: uid("hb-"),
        type: "heartbeat",
        occurred_at: new Date(READY + 11 * MINUTE).toISOString(),
      };
      expect((await api.post("/v1/events", s.agent, beat)).status).toBe(202);
    }
    expect((await verify(api, ws.viewer)).status).toBe(200);
  });

  it("fails an account with an open new_device alert and names the alert", async () => {
    const { api, ws, solo } = await cleanMatrix();
    const results = await post(api, solo, [
      ev(solo, READY - MINUTE, { env: { ...ev(solo, 0).env, device_id: "dev-unknown-laptop" } }),
    ]);
    expect(results[0]!.findings.map((f) => f.rule)).toContain("new_device");
    const res = await verify(api, ws.viewer);
    expect(res.status).toBe(412);
    expect(failing(res)).toEqual([{ ref: solo.ref, checks: ["open_alerts"] }]);
    expect(checkOf(res, solo.ref, "open_alerts").detail).toMatch(
      /^1 open alert: new_device \(alr_[0-9a-z]+\)$/,
    );
  });

  it("fails the accounts of a platform with an active incident, and only those", async () => {
    const { api, ws, pinned } = await cleanMatrix();
    const declared = await api.post("/v1/incidents", ws.reviewer, {
      platform: "amazon",
      title: "Seller Central down",
    });
    expect(declared.status).toBe(201);
    const res = await verify(api, ws.viewer);
    expect(res.status).toBe(412);
    expect(failing(res)).toEqual([{ ref: pinned.ref, checks: ["incident"] }]);
    expect(checkOf(res, pinned.ref, "incident").detail).toBe(
      `an active incident on amazon: Seller Central down (since ${new Date(READY).toISOString()})`,
    );
    expect((await verify(api, ws.viewer, "?platform=tiktok_shop")).status).toBe(200);
  });

  it("fails an account still learning and one no environment is bound to", async () => {
    const { api, ws } = await cleanMatrix();
    const ref = uid("new-");
    expect((await api.post("/v1/accounts", ws.admin, { platform: "shopee", ref })).status).toBe(201);
    const res = await verify(api, ws.viewer, "?platform=shopee");
    expect(res.status).toBe(412);
    expect(failing(res)).toEqual([{ ref, checks: ["baseline", "heartbeat"] }]);
    expect(checkOf(res, ref, "baseline").detail).toBe(
      "baseline still learning (0 events so far); pin it or let it finish learning",
    );
    expect(checkOf(res, ref, "heartbeat").detail).toBe(
      "no environment is bound to this account, so no agent watches it",
    );
  });

  it("scopes by platform, group and account ids, combined, in the query and in a POST body", async () => {
    const { api, ws, solo, grouped, pinned } = await cleanMatrix();
    const refs = (res: Answer) => (res.body.accounts as AccountReport[]).map((a) => a.ref).sort();
    expect(refs(await verify(api, ws.viewer, "?platform=amazon"))).toEqual([pinned.ref]);
    expect(refs(await verify(api, ws.viewer, "?group=g1"))).toEqual([grouped.ref]);
    expect(refs(await verify(api, ws.viewer, `?account_ids=${solo.id},${pinned.id}`))).toEqual(
      [solo.ref, pinned.ref].sort(),
    );
    expect(
      refs(await verify(api, ws.viewer, `?platform=tiktok_shop&account_ids=${solo.id},${pinned.id}`)),
    ).toEqual([solo.ref]);
    expect(refs(await api.post("/v1/drills/verify", ws.viewer, { account_ids: [pinned.id] }))).toEqual([
      pinned.ref,
    ]);
    expect(
      refs(await api.post("/v1/drills/verify", ws.viewer, { platform: "tiktok_shop", group: "g1" })),
    ).toEqual([grouped.ref]);
    const all = await api.post("/v1/drills/verify", ws.viewer, {});
    expect(all.status).toBe(200);
    expect(refs(all)).toHaveLength(3);
    const bare = await api.call("POST", "/v1/drills/verify", ws.viewer);
    expect(bare.status).toBe(200);
    expect(refs(bare)).toHaveLength(3);
  });

  it("fails a scope that matches no account", async () => {
    const { api, ws } = await cleanMatrix();
    const res = await verify(api, ws.viewer, "?group=nobody");
    expect(res.status).toBe(412);
    expect(res.body).toMatchObject({ verdict: "fail", accounts: [], failed: [] });
    expect(res.body.summary).toBe("no account in scope: nothing to verify");
  });

  it.each([
    ["GET", "?platform=Tik%20Tok", undefined],
    ["GET", "?account_ids=", undefined],
    ["GET", "?account_ids=a,,b", undefined],
    ["GET", "?group=", undefined],
    ["POST", "", { account_ids: [] }],
    ["POST", "", { account_ids: "acc_1" }],
    ["POST", "", { platform: "amazon", colour: "blue" }],
  ])("refuses a bad scope: %s %s %j", async (method, query, body) => {
    const { api, ws } = await cleanMatrix();
    const res = await api.call(method, `/v1/drills/verify${query}`, ws.viewer, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
  });

  it("answers 401 without a token and 403 to an agent", async () => {
    const { api, solo } = await cleanMatrix();
    expect((await verify(api, null)).status).toBe(401);
    expect((await verify(api, "ttu_nope")).status).toBe(401);
    expect((await verify(api, solo.agent)).status).toBe(403);
    expect((await api.get("/v1/drills/verifications", solo.agent)).status).toBe(403);
  });

  it("answers 404 for another workspace's account ids, naming nothing of it", async () => {
    const mine = await cleanMatrix();
    const theirs = await cleanMatrix();
    const res = await verify(mine.api, mine.ws.viewer, `?account_ids=${mine.solo.id},${theirs.solo.id}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
    expect(res.body.error.message).toBe(`no account ${theirs.solo.id} in this workspace`);
    expect(JSON.stringify(res.body)).not.toContain(theirs.solo.ref);
    const post = await mine.api.post("/v1/drills/verify", mine.ws.viewer, {
      account_ids: [theirs.pinned.id],
    });
    expect(post.status).toBe(404);
  });

  it("saves every run: listed newest first, fetched by id in the reader's language, private to the workspace", async () => {
    const { api, ws, solo } = await cleanMatrix();
    const passed = await verify(api, ws.viewer, "?platform=tiktok_shop");
    const failed = await api.post("/v1/drills/verify", ws.reviewer, { group: "nobody" });
    const listed = await api.get("/v1/drills/verifications", ws.viewer);
    expect(listed.status).toBe(200);
    expect(listed.body.verifications).toEqual([
      {
        id: failed.body.id,
        scope: { group: "nobody" },
        verdict: "fail",
        checked_at: new Date(READY).toISOString(),
        summary: "no account in scope: nothing to verify",
        accounts: 0,
        failed: 0,
        created_by: "reviewer test",
      },
      {
        id: passed.body.id,
        scope: { platform: "tiktok_shop" },
        verdict: "pass",
        checked_at: new Date(READY).toISOString(),
        summary: "all 2 accounts are ready for the drill",
        accounts: 2,
        failed: 0,
        created_by: "viewer test",
      },
    ]);
    const page1 = await api.get("/v1/drills/verifications?limit=1", ws.viewer);
    expect(page1.body.verifications.map((v: { id: string }) => v.id)).toEqual([failed.body.id]);
    const page2 = await api.get(
      `/v1/drills/verifications?limit=1&cursor=${page1.body.next_cursor}`,
      ws.viewer,
    );
    expect(page2.body.verifications.map((v: { id: string }) => v.id)).toEqual([passed.body.id]);
    expect(page2.body.next_cursor).toBeNull();

    const fetched = await api.get(`/v1/drills/verifications/${passed.body.id}`, ws.viewer);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual({
      ...passed.body,
      scope: { platform: "tiktok_shop" },
      created_by: "viewer test",
    });
    const zh = await api.call("GET", `/v1/drills/verifications/${passed.body.id}`, ws.viewer, undefined, ZH);
    expect(zh.body.accounts.find((a: AccountReport) => a.ref === solo.ref).checks[0].detail).toBe(
      "基线已建立",
    );

    const other = await newWorkspace(t.database);
    expect((await api.get(`/v1/drills/verifications/${passed.body.id}`, other.viewer)).status).toBe(404);
    expect((await api.get("/v1/drills/verifications", other.viewer)).body.verifications).toEqual([]);
  });

  it("keeps no ref of an account erased since in its saved runs", async () => {
    const { api, ws, solo, grouped } = await cleanMatrix();
    await post(api, grouped, [
      ev(grouped, READY - MINUTE, { env: { ...ev(grouped, 0).env, device_id: solo.device } }),
    ]);
    const run = await verify(api, ws.viewer, `?account_ids=${grouped.id}`);
    expect(checkOf(run, grouped.ref, "isolation").detail).toContain(`tiktok_shop/${solo.ref}`);
    expect((await api.del(`/v1/accounts/${solo.id}`, ws.admin)).status).toBe(200);
    const saved = await api.get(`/v1/drills/verifications/${run.body.id}`, ws.viewer);
    expect(JSON.stringify(saved.body)).not.toContain(`tiktok_shop/${solo.ref}`);
    expect(checkOf(saved, grouped.ref, "isolation").detail).toContain("with a deleted account (isolated)");
  });

  it("words the details in Chinese for Accept-Language zh-CN, naming accounts platform/ref", async () => {
    const { api, ws, solo, grouped } = await cleanMatrix();
    await post(api, grouped, [
      ev(grouped, READY - MINUTE, { env: { ...ev(grouped, 0).env, device_id: solo.device } }),
    ]);
    const res = await verify(api, ws.viewer, "", ZH);
    expect(res.status).toBe(412);
    expect(checkOf(res, grouped.ref, "isolation").detail).toBe(
      `最近 30 天内与其他分组共用：设备 ${solo.device}（与 tiktok_shop/${solo.ref} 共用，对方为独立账号）`,
    );
    expect(checkOf(res, grouped.ref, "heartbeat").detail).toBe("代理心跳在 1 分钟前");
    expect(res.body.summary).toBe("3 个账号中有 2 个尚不具备演练条件");
  });
});
