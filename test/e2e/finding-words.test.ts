import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, HOUR, IP, LA, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp({ TETHER_SHARE_DAYS: 30 });
const START = Date.parse("2026-01-10T00:00:00Z");
const ZH = { "accept-language": "zh-CN,zh;q=0.9,en;q=0.5" };
const CJK = /[\u4e00-\u9fff]/;

/** Two isolated accounts, each with its own agent, that end up on one laptop. */
async function sharedLaptop() {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  t.clock.set(new Date(START + 2 * HOUR));
  const account = async (prefix: string) => {
    const ref = uid(prefix);
    const created = await api.post("/v1/accounts", ws.admin, { platform: "tiktok_shop", ref });
    expect(created.status).toBe(201);
    const agent = await newEnvironment(api, ws.admin, [created.body.id]);
    return { id: created.body.id as string, ref, name: `tiktok_shop/${ref}`, agent: agent.token };
  };
  const a = await account("us-store-");
  const b = await account("jp-store-");
  const first = await api.post(
    "/v1/events",
    a.agent,
    event(START, { ref: a.ref, env: { ...LA, ip: IP.home, device_id: "laptop-7" } }),
  );
  expect(first.status).toBe(202);
  const second = event(START + HOUR, {
    ref: b.ref,
    env: { ...LA, ip: IP.tokyo, device_id: "laptop-7", timezone: "Asia/Tokyo" },
  });
  return { api, ws, a, b, second };
}

describe("finding sentences in the reader's language", () => {
  it("answers an event's findings, and its replay, in Chinese for a Chinese agent, naming accounts by ref", async () => {
    const { api, a, b, second } = await sharedLaptop();
    const res = await api.call("POST", "/v1/events", b.agent, second, ZH);
    expect(res.status).toBe(202);
    const shared = res.body.results[0].findings.find((f: { rule: string }) => f.rule === "shared_device");
    expect(shared).toEqual({ rule: "shared_device", severity: "critical", message: expect.any(String) });
    expect(shared.message).toMatch(CJK);
    expect(shared.message).toContain(a.name);
    expect(shared.message).toContain(b.name);
    expect(shared.message).not.toMatch(/acc_/);
    // A replay is answered from the stored verdict: the same sentence, in the language of the replay.
    const replayed = await api.post("/v1/events", b.agent, second);
    expect(replayed.body.duplicates).toBe(1);
    const english = replayed.body.results[0].findings.find(
      (f: { rule: string }) => f.rule === "shared_device",
    );
    expect(english.message).toBe(
      `Device laptop-7 is also used by ${a.name} (no group), which must stay isolated from ${b.name} (no group)`,
    );
  });

  it("words an alert in Chinese under Accept-Language: zh-CN and in English without it; ids stay in the structure", async () => {
    const { api, ws, a, b, second } = await sharedLaptop();
    await api.post("/v1/events", b.agent, second);
    const zh = await api.call("GET", "/v1/alerts?rule=shared_device", ws.viewer, undefined, ZH);
    expect(zh.status).toBe(200);
    const [alert] = zh.body.alerts;
    expect(alert.summary).toBe(
      `设备 laptop-7 也被 ${a.name}（未分组）使用，它必须与 ${b.name}（未分组）保持隔离`,
    );
    expect(alert.account_ids).toEqual([a.id, b.id].sort());
    expect(alert.evidence.accounts.map((x: { account_id: string }) => x.account_id)).toEqual([b.id, a.id]);

    const en = await api.get(`/v1/alerts/${alert.id}`, ws.viewer);
    expect(en.body.summary).toBe(
      `Device laptop-7 is also used by ${a.name} (no group), which must stay isolated from ${b.name} (no group)`,
    );
    expect(en.body.summary).not.toMatch(/acc_/);
    const one = await api.call("GET", `/v1/alerts/${alert.id}`, ws.viewer, undefined, ZH);
    expect(one.body.summary).toBe(alert.summary);

    const acted = await api.call("POST", `/v1/alerts/${alert.id}/acknowledge`, ws.reviewer, {}, ZH);
    expect(acted.status).toBe(200);
    expect(acted.body.summary).toBe(alert.summary);

    const raw = await t.app.request(`/v1/alerts/${alert.id}`, {
      headers: { authorization: `Bearer ${ws.viewer}`, ...ZH },
    });
    expect(raw.headers.get("vary")).toMatch(/accept-language/i);
  });

  it("gives preflight reasons in the agent's language, naming the other account by ref", async () => {
    const { api, a, b } = await sharedLaptop();
    const question = {
      account: { platform: "tiktok_shop", ref: b.ref },
      operation: "publish_listing",
      env: { ...LA, ip: IP.tokyo, device_id: "laptop-7", timezone: "Asia/Tokyo" },
    };
    const zh = await api.call("POST", "/v1/preflight", b.agent, question, ZH);
    expect(zh.status).toBe(200);
    expect(zh.body.decision).toBe("deny");
    const reason = zh.body.reasons.find((r: { rule: string }) => r.rule === "shared_device");
    expect(Object.keys(reason).sort()).toEqual(["message", "rule", "severity"]);
    expect(reason.message).toMatch(CJK);
    expect(reason.message).toContain(a.name);
    expect(reason.message).not.toMatch(/acc_/);
    const en = await api.post("/v1/preflight", b.agent, question);
    const english = en.body.reasons.find((r: { rule: string }) => r.rule === "shared_device");
    expect(english.message).toContain(`also used by ${a.name}`);
  });

  it("shows the sentence in the viewer's language on the console's case page", async () => {
    const { api, ws, a, b, second } = await sharedLaptop();
    await api.post("/v1/events", b.agent, second);
    const alerts = (await api.get(`/v1/alerts?account_id=${b.id}`, ws.viewer)).body.alerts as Array<{
      id: string;
    }>;
    const caseId = alerts.map((x) => x.id).sort()[0]!;
    const login = await t.app.request("/console/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
      body: new URLSearchParams({ token: ws.viewer }).toString(),
      redirect: "manual",
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const page = async (lang: string) =>
      (
        await t.app.request(`/console/cases/${caseId}`, { headers: { cookie, "accept-language": lang } })
      ).text();
    const zh = await page("zh-CN");
    expect(zh).toContain(`设备 laptop-7 也被 ${a.name}（未分组）使用，它必须与 ${b.name}（未分组）保持隔离`);
    const en = await page("en");
    expect(en).toContain(`Device laptop-7 is also used by ${a.name} (no group)`);
  });
});
