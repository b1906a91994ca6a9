import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type EventBody, MAX_INGEST_BODY_BYTES } from "../../src/http/events/schemas.ts";
import { MAX_JSON_DEPTH } from "../../src/http/middleware/json-scan.ts";
import { client } from "../support/api.ts";
import { event, newEnvironment, newWorkspace, uid, type Workspace } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import { largestLegalBatch, rowCounts } from "../support/hostile.ts";
import { expectError, expectInvalid } from "../support/routes.ts";

const t = useTestApp();
const AT = "2026-01-19T12:00:00Z";

describe("NUL and control characters", () => {
  it.each([
    ["an event id", (e: ReturnType<typeof event>) => ({ ...e, id: "ev\u0000x" }), "id"],
    [
      "a device id",
      (e: ReturnType<typeof event>) => ({ ...e, env: { ...e.env, device_id: "d\u0000" } }),
      "env.device_id",
    ],
    [
      "a user agent",
      (e: ReturnType<typeof event>) => ({ ...e, env: { ...e.env, user_agent: "UA\u0000" } }),
      "env.user_agent",
    ],
    [
      "an attribute",
      (e: ReturnType<typeof event>) => ({ ...e, attributes: { note: "a\u0000b" } }),
      "attributes.note",
    ],
    ["an operator", (e: ReturnType<typeof event>) => ({ ...e, operator: "li\nwei" }), "operator"],
  ])("answers 400 for %s and stores nothing of the batch", async (_, mutate, path) => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    t.clock.set(new Date("2026-01-20T00:00:00Z"));
    const good = event(AT, { ref: uid("s-") });
    const bad = mutate(event(AT, { ref: uid("s-") }));
    const res = await api.post("/v1/events", agent.token, { events: [good, bad] });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(`events.1.${path}`);
    expect((await api.get("/v1/accounts", ws.viewer)).body.accounts).toEqual([]);
  });

  it("answers 400 for NUL in admin names and labels", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    expect(
      (await api.post("/v1/accounts", ws.admin, { platform: "amazon", ref: uid("r-"), label: "x\u0000" }))
        .status,
    ).toBe(400);
    expect((await api.post("/v1/environments", ws.admin, { name: "vm\u0000" })).status).toBe(400);
    expect((await api.post("/v1/tokens", ws.admin, { name: "t\u0000", role: "viewer" })).status).toBe(400);
    expect(
      (await api.post("/v1/incidents", ws.reviewer, { platform: "amazon", title: "x\u0000" })).status,
    ).toBe(400);
  });
});

/** The rows of every table of workspace `ws`: what a refused request must leave exactly as it was. */
const counts = (ws: Workspace) => rowCounts(t.database.db, ws.id);

describe("lone UTF-16 surrogates", () => {
  const cases: Array<[string, string, string, (ids: { account: string }) => unknown, string]> = [
    [
      "an event's device id",
      "POST",
      "/v1/events",
      () => ({
        events: [event(AT, { ref: uid("s-") }), event(AT, { ref: uid("s-"), env: { device_id: "d\ud800" } })],
      }),
      "events.1.env.device_id",
    ],
    [
      "an event's attribute",
      "POST",
      "/v1/events",
      () => event(AT, { ref: uid("s-"), attributes: { note: "x\udfff" } }),
      "attributes.note",
    ],
    [
      "a preflight's operator",
      "POST",
      "/v1/preflight",
      () => ({ account: { platform: "amazon", ref: uid("r-") }, operation: "login", operator: "\ud800" }),
      "operator",
    ],
    [
      "an account's label",
      "POST",
      "/v1/accounts",
      () => ({ platform: "amazon", ref: uid("r-"), label: "a\ud800" }),
      "label",
    ],
    [
      "an account's label, on update",
      "PATCH",
      "/v1/accounts/:account",
      () => ({ label: "\udc00l" }),
      "label",
    ],
    ["an environment's name", "POST", "/v1/environments", () => ({ name: `vm\ud800` }), "name"],
    [
      "an incident's title",
      "POST",
      "/v1/incidents",
      () => ({ platform: "amazon", title: "down \ud800" }),
      "title",
    ],
    [
      "an override's reason",
      "POST",
      "/v1/accounts/:account/overrides",
      () => ({ operation: "binding_change", reason: "\ud800" }),
      "reason",
    ],
    ["a token's name", "POST", "/v1/tokens", () => ({ name: "t\ud800", role: "viewer" }), "name"],
  ];
  it.each(cases)(
    "answers 400 for one in %s, naming its path, and stores nothing",
    async (_, method, path, body, detail) => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      const agent = await newEnvironment(api, ws.admin);
      const account = (await api.post("/v1/accounts", ws.admin, { platform: "amazon", ref: uid("r-") })).body
        .id;
      const token = path === "/v1/events" || path === "/v1/preflight" ? agent.token : ws.admin;
      const before = await counts(ws);
      const res = await api.call(method, path.replace(":account", account), token, body({ account }));
      expectInvalid(res, detail);
      expect(await counts(ws)).toEqual(before);
    },
  );
});

describe("path ids and query strings", () => {
  it.each([
    ["GET", "/v1/accounts/acc_%00"],
    ["PATCH", "/v1/accounts/%00"],
    ["POST", "/v1/accounts/acc%00x/overrides"],
    ["POST", "/v1/alerts/%00/acknowledge"],
    ["DELETE", "/v1/tokens/tok_%00"],
  ])("answers 400 to %s %s (a NUL in the id), naming `id`", async (method, path) => {
    const ws = await newWorkspace(t.database);
    const body =
      method === "PATCH"
        ? { label: "x" }
        : method === "POST" && path.endsWith("overrides")
          ? { operation: "login", reason: "r" }
          : undefined;
    expectInvalid(await client(t.app).call(method, path, ws.admin, body), "id");
  });

  it.each([
    ["/v1/alerts?rule=a%00b", "rule"],
    ["/v1/alerts?since=0000-01-01T00:00:00Z", "since"],
    ["/v1/associations?since=0000-06-01T00:00:00Z", "since"],
    ["/v1/associations?account_id=acc%00", "account_id"],
  ])("answers 400 to GET %s, naming the parameter", async (path, name) => {
    const ws = await newWorkspace(t.database);
    expectInvalid(await client(t.app).get(path, ws.viewer), name);
  });
});

describe("NUL inside account_ids", () => {
  it("answers 400 on create and on replace, naming the element, and stores nothing", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const env = await newEnvironment(api, ws.admin);
    const before = await counts(ws);
    expectInvalid(
      await api.post("/v1/environments", ws.admin, { name: uid("vm-"), account_ids: ["acc\u0000"] }),
      "account_ids.0",
    );
    expectInvalid(
      await api.put(`/v1/environments/${env.id}/accounts`, ws.admin, { account_ids: ["a", "\u0000"] }),
      "account_ids.1",
    );
    expect(await counts(ws)).toEqual(before);
  });
});

describe("timestamps", () => {
  it("answers 400 to an incident starting in year 0000 and declares nothing", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const before = await counts(ws);
    const res = await api.post("/v1/incidents", ws.reviewer, {
      platform: "amazon",
      title: "old",
      started_at: "0000-01-01T00:00:00Z",
    });
    expectInvalid(res, "started_at");
    expect(await counts(ws)).toEqual(before);
  });
});

describe("nesting", () => {
  it("answers 400 to attributes nested 5,000 deep, names where, and keeps serving", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const deep = `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`;
    const text = JSON.stringify(event(AT, { ref: uid("s-"), attributes: { x: "@" } })).replace('"@"', deep);
    const before = await counts(ws);
    const res = await api.call("POST", "/v1/events", agent.token, text);
    expectInvalid(res, `attributes.x${".a".repeat(MAX_JSON_DEPTH - 2)}`);
    expect(await counts(ws)).toEqual(before);
    expect((await api.post("/v1/events", agent.token, event(AT, { ref: uid("s-") }))).status).toBe(202);
  });

  it("answers 400 to a body of 100,000 nested arrays", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const res = await api.call("POST", "/v1/accounts", ws.admin, "[".repeat(100_000) + "]".repeat(100_000));
    expectInvalid(res, "0".repeat(MAX_JSON_DEPTH).split("").join("."));
  });
});

describe("the largest legal batch", () => {
  it("is accepted whole: 1000 events with every field at its longest and 4 KiB of attributes each", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const batch = largestLegalBatch();
    const text = JSON.stringify(batch);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_INGEST_BODY_BYTES);
    // within 1% of the computed limit: the limit is what legal batches need, not a guess far above it
    expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_INGEST_BODY_BYTES * 0.99);
    const res = await api.call("POST", "/v1/events", agent.token, text);
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(202);
    expect(res.body.accepted).toBe(1000);
  }, 180_000);
});

describe("media types and encodings", () => {
  it.each(["gzip", "deflate", "br"])(
    "answers 415 to Content-Encoding %s, naming identity, and stores nothing",
    async (encoding) => {
      const api = client(t.app);
      const ws = await newWorkspace(t.database);
      const agent = await newEnvironment(api, ws.admin);
      const before = await counts(ws);
      const res = await t.app.request("/v1/events", {
        method: "POST",
        headers: {
          authorization: `Bearer ${agent.token}`,
          "content-type": "application/json",
          "content-encoding": encoding,
        },
        body: gzipSync(JSON.stringify(event(AT, { ref: uid("s-") }))),
      });
      expect(res.headers.get("accept-encoding")).toBe("identity");
      expectError({ status: res.status, body: await res.json() }, 415, "bad_request");
      expect(await counts(ws)).toEqual(before);
    },
  );

  it("answers 415 to JSON declared in another charset", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const res = await api.call(
      "POST",
      "/v1/accounts",
      ws.admin,
      { platform: "amazon", ref: uid("r-") },
      {
        "content-type": "application/json; charset=iso-8859-1",
      },
    );
    expectError(res, 415, "bad_request");
    expect((await api.get("/v1/accounts", ws.viewer)).body.accounts).toEqual([]);
  });

  it("answers 400 to bytes that are not UTF-8", async () => {
    const ws = await newWorkspace(t.database);
    const body = Buffer.concat([
      Buffer.from('{"platform":"amazon","ref":"r-'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const res = await t.app.request("/v1/accounts", {
      method: "POST",
      headers: { authorization: `Bearer ${ws.admin}`, "content-type": "application/json" },
      body,
    });
    expectInvalid({ status: res.status, body: await res.json() }, "body");
  });
});

describe("JSON that parses but is refused", () => {
  it.each([
    ["a key given twice", '{"platform":"amazon","ref":"r-dup","label":"a","label":"b"}', "label"],
    [
      "constructor.prototype",
      '{"platform":"amazon","ref":"r-ctor","constructor":{"prototype":{"x":1}}}',
      "constructor.prototype",
    ],
  ])("answers 400 to %s, naming it", async (_, text, path) => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    expectInvalid(await api.call("POST", "/v1/accounts", ws.admin, text), path);
    expect((await api.get("/v1/accounts", ws.viewer)).body.accounts).toEqual([]);
  });

  it.each([
    ["repeat a key", '"k":1,"k":2', "attributes.k"],
    ["hold a __proto__ key", '"__proto__":{"admin":true}', "attributes.__proto__"],
  ])("answers 400 to an event whose attributes %s, and stores nothing", async (_, members, path) => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const text = JSON.stringify(event(AT, { ref: uid("s-"), attributes: { k: 1 } })).replace(
      '"k":1',
      members,
    );
    expectInvalid(await api.call("POST", "/v1/events", agent.token, text), path);
    expect((await api.get("/v1/accounts", ws.viewer)).body.accounts).toEqual([]);
  });
});

describe("unknown event fields", () => {
  it.each([
    [
      "a misspelt top-level field",
      (e: EventBody) => ({ ...e, occured_at: e.occurred_at }),
      "events.0.occured_at",
    ],
    [
      "a misspelt env field",
      (e: EventBody) => ({ ...e, env: { ...e.env, devise_id: "d" } }),
      "events.0.env.devise_id",
    ],
    [
      "a misspelt result field",
      (e: EventBody) => ({ ...e, result: { status: "ok", cod: "x" } }),
      "events.0.result.cod",
    ],
  ])("answers 400 to %s, naming it, and stores nothing", async (_, mutate, path) => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const res = await api.post("/v1/events", agent.token, {
      events: [mutate(event(AT, { ref: uid("s-") }))],
    });
    expectInvalid(res, path);
    expect((await api.get("/v1/accounts", ws.viewer)).body.accounts).toEqual([]);
  });

  it("answers 400 to an unknown preflight field", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const res = await api.post("/v1/preflight", agent.token, {
      account: { platform: "amazon", ref: uid("r-") },
      operation: "login",
      operatr: "li.wei",
    });
    expectInvalid(res, "operatr");
  });
});

describe("streamed bodies", () => {
  /** A body of `chunks` MiB that counts how many were pulled from it. */
  function stream(chunks: number) {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    const counter = { pulled: 0 };
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (counter.pulled >= chunks) return c.close();
        counter.pulled++;
        c.enqueue(chunk);
      },
    });
    return { body, counter };
  }

  it("reads a body without Content-Length up to the ingest limit and no further", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const agent = await newEnvironment(api, ws.admin);
    const { body, counter } = stream(200);
    const res = await t.app.request("/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expectError({ status: res.status, body: await res.json() }, 413, "payload_too_large");
    const limitMiB = MAX_INGEST_BODY_BYTES / (1024 * 1024);
    expect(counter.pulled).toBeGreaterThanOrEqual(Math.floor(limitMiB));
    expect(counter.pulled).toBeLessThanOrEqual(Math.ceil(limitMiB) + 2);
  });

  it("hands an empty body without Content-Type on to the route", async () => {
    const ws = await newWorkspace(t.database);
    const post = async (path: string) => {
      const res = await t.app.request(path, {
        method: "POST",
        headers: { authorization: `Bearer ${ws.admin}` },
        body: stream(0).body,
        duplex: "half",
      } as RequestInit);
      return { status: res.status, body: await res.json() };
    };
    expectError(await post(`/v1/alerts/${"alr_00000000000000000000000000"}/acknowledge`), 404, "not_found");
    expectInvalid(await post("/v1/accounts"), "platform", "ref");
  });
});
