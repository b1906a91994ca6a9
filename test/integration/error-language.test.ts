import { describe, expect, it } from "vitest";
import { type Answer, client } from "../support/api.ts";
import { event, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp({ TETHER_MAX_BODY_BYTES: 4096 });
const AT = "2026-01-19T12:00:00Z";
const ZH = { "accept-language": "zh-CN,zh;q=0.9,en;q=0.8" };
const CJK = /[\u4e00-\u9fff]/;
/** Two English words in a row: what is left of an English sentence (quoted values and codes aside). */
const ENGLISH = /[a-z]{4,} [a-z]{4,}/;
const unquoted = (text: string) => text.replace(/"[^"]*"/g, '""');

const details = (a: Answer): Array<{ path: string; message: string }> => a.body.error.details ?? [];

type Ask = (headers: Record<string, string>) => Promise<Answer>;

interface Case {
  name: string;
  status: number;
  code: string;
  /** today's English message, unchanged */
  english: string;
  ask: () => Promise<Ask>;
}

const cases: Case[] = [
  {
    name: "malformed JSON",
    status: 400,
    code: "bad_request",
    english: "the body is not valid JSON",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      return (h) => api.call("POST", "/v1/accounts", ws.admin, '{"platform": "amazon",', h);
    },
  },
  {
    name: "a wrong type",
    status: 400,
    code: "bad_request",
    english: "the request does not match the schema",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      const agent = await newEnvironment(api, ws.admin);
      return (h) => api.call("POST", "/v1/events", agent.token, { ...event(AT), occurred_at: 5 }, h);
    },
  },
  {
    name: "a missing field and an unknown one",
    status: 400,
    code: "bad_request",
    english: "the request does not match the schema",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      return (h) => api.call("POST", "/v1/accounts", ws.admin, { ref: uid("r-"), colour: "blue" }, h);
    },
  },
  {
    name: "an oversize body",
    status: 413,
    code: "payload_too_large",
    english: "the body is larger than 4096 bytes",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      const body = { platform: "amazon", ref: uid("r-"), label: "x".repeat(5000) };
      return (h) => api.call("POST", "/v1/accounts", ws.admin, body, h);
    },
  },
  {
    name: "a bad IP",
    status: 400,
    code: "bad_request",
    english: "the request does not match the schema",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      const agent = await newEnvironment(api, ws.admin);
      const e = event(AT);
      return (h) =>
        api.call("POST", "/v1/events", agent.token, { ...e, env: { ...e.env, ip: "999.1.1.1" } }, h);
    },
  },
  {
    name: "an event from the future",
    status: 400,
    code: "bad_request",
    english: "some events are invalid",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      const agent = await newEnvironment(api, ws.admin);
      return (h) => api.call("POST", "/v1/events", agent.token, event("2026-01-21T00:00:00Z"), h);
    },
  },
  {
    name: "an unknown token",
    status: 401,
    code: "unauthorized",
    english: "unknown or revoked token",
    ask: async () => {
      const api = client(t.app);
      return (h) => api.call("GET", "/v1/accounts", `tth_${uid()}`, undefined, h);
    },
  },
  {
    name: "a role that may not",
    status: 403,
    code: "forbidden",
    english: "a viewer token may not do this (needs admin)",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      return (h) => api.call("POST", "/v1/accounts", ws.viewer, { platform: "amazon", ref: uid("r-") }, h);
    },
  },
  {
    name: "another workspace's id",
    status: 404,
    code: "not_found",
    english: "account not found",
    ask: async () => {
      const api = client(t.app);
      const mine = await newWorkspace(t.database);
      const theirs = await newWorkspace(t.database);
      const created = await api.post("/v1/accounts", theirs.admin, { platform: "amazon", ref: uid("r-") });
      expect(created.status).toBe(201);
      return (h) => api.call("GET", `/v1/accounts/${created.body.id}`, mine.viewer, undefined, h);
    },
  },
  {
    name: "a body that is not JSON",
    status: 415,
    code: "bad_request",
    english: "Content-Type must be application/json (UTF-8)",
    ask: async () => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      return (h) =>
        api.call("POST", "/v1/accounts", ws.admin, "platform=amazon", { ...h, "content-type": "text/plain" });
    },
  },
];

describe("error messages in the caller's language", () => {
  it.each(cases)("answers $name with the same status and code in English and Chinese", async (c) => {
    const ask = await c.ask();
    const en = await ask({});
    const zh = await ask(ZH);

    expect(en.status).toBe(c.status);
    expect(en.body.error.code).toBe(c.code);
    expect(zh.status).toBe(c.status);
    expect(zh.body.error.code).toBe(c.code);
    expect(Object.keys(zh.body.error).sort()).toEqual(Object.keys(en.body.error).sort());
    expect(details(zh).map((d) => d.path)).toEqual(details(en).map((d) => d.path));

    expect(en.body.error.message).toBe(c.english);
    for (const text of [en.body.error.message, ...details(en).map((d) => d.message)])
      expect(text).not.toMatch(CJK);

    for (const text of [zh.body.error.message, ...details(zh).map((d) => d.message)]) {
      expect(text).toMatch(CJK);
      expect(unquoted(text)).not.toMatch(ENGLISH);
    }
  });

  it("says each detail in Chinese by its path", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const e = event(AT);
    const res = await api.call(
      "POST",
      "/v1/events",
      agent.token,
      { ...e, env: { ...e.env, ip: "999.1.1.1" } },
      ZH,
    );
    expect(res.body.error).toMatchObject({
      message: "请求不符合接口定义",
      details: [{ path: "env.ip", message: "必须是 IPv4 或 IPv6 地址" }],
    });
    const missing = await api.call("POST", "/v1/accounts", ws.admin, { ref: uid("r-"), colour: "blue" }, ZH);
    expect(missing.body.error.details).toEqual(
      expect.arrayContaining([
        { path: "platform", message: "为必填项" },
        { path: "colour", message: "不是可识别的字段" },
      ]),
    );
  });

  it("marks error answers as varying by Accept-Language", async () => {
    const ws = await newWorkspace(t.database);
    const inits: RequestInit[] = [
      { headers: { authorization: `Bearer ${ws.viewer}` } },
      {
        method: "POST",
        headers: { authorization: `Bearer ${ws.admin}`, "content-type": "text/plain" },
        body: "x",
      },
    ];
    for (const init of inits) {
      const res = await t.app.request("/v1/accounts/acc_nothing", init);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("vary") ?? "").toMatch(/accept-language/i);
    }
  });

  it("answers English to a caller that asks for another language", async () => {
    const api = client(t.app);
    const res = await api.call("GET", "/v1/accounts", `tth_${uid()}`, undefined, {
      "accept-language": "de-DE",
    });
    expect(res.body.error.message).toBe("unknown or revoked token");
  });
});
