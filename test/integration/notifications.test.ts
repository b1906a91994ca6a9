import { createHmac } from "node:crypto";
import { sql } from "drizzle-orm";
import pino from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  DEFAULT_DELIVERY,
  type DelivererContext,
  type DeliveryOptions,
  deliverDue,
  NOTIFICATION_RETENTION_DAYS,
  pruneDelivered,
} from "../../src/services/deliver-notifications.ts";
import { rows } from "../../src/store/db.ts";
import { loadPepper } from "../../src/store/tenancy.ts";
import { type Client, client } from "../support/api.ts";
import { event, IP, newEnvironment, newWorkspace, uid, type Workspace } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import { type Receiver, startReceiver } from "../support/receiver.ts";

const t = useTestApp();
const OPTIONS: DeliveryOptions = { ...DEFAULT_DELIVERY, random: () => 0.5, timeoutMs: 5_000 };
let ctx: DelivererContext;
let rx: Receiver;
beforeAll(async () => {
  const pepper = await loadPepper(t.database.db, undefined);
  ctx = { db: t.database.db, clock: t.clock, logger: pino({ level: "silent" }), pepperKey: pepper.key };
  rx = await startReceiver();
});
afterAll(() => rx?.close());

const deliver = () => deliverDue({ ctx, options: OPTIONS });

interface Fixture {
  api: Client;
  ws: Workspace;
  agent: string;
}

async function fixture(): Promise<Fixture> {
  const api = client(t.app);
  const ws = await newWorkspace(t.database);
  const env = await newEnvironment(api, ws.admin);
  return { api, ws, agent: env.token };
}

/** An alert of a new account (its timezone does not match its IP), as one ingested batch. */
async function raiseAlert(f: Fixture, ref = uid("store-")) {
  const res = await f.api.post(
    "/v1/events",
    f.agent,
    event(t.clock.now().getTime() - 60_000, {
      ref,
      env: { ip: IP.home, device_id: uid("dev-"), timezone: "Asia/Shanghai" },
    }),
  );
  expect(res.status).toBe(202);
  const accountId = res.body.results[0].account_id as string;
  const alerts = (await f.api.get(`/v1/alerts?account_id=${accountId}`, f.ws.admin)).body.alerts;
  expect(alerts.length).toBeGreaterThan(0);
  return { ref, accountId, alerts: alerts as Array<{ id: string; rule: string; severity: string }> };
}

async function channel(f: Fixture, body: Record<string, unknown>) {
  const res = await f.api.post("/v1/channels", f.ws.admin, {
    name: uid("ch-"),
    min_severity: "info",
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const path = (p: string) => `${rx.url}${p}`;
const arrivals = (p: string) => rx.got.filter((r) => r.url.startsWith(p));

describe("deliveries to each kind of channel", () => {
  it("signs a webhook the Standard Webhooks way, shows its secret once, names accounts platform/ref", async () => {
    const f = await fixture();
    const hook = `/wh-${uid()}`;
    const ch = await channel(f, { kind: "webhook", url: path(hook) });
    expect(ch.secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const read = await f.api.get(`/v1/channels/${ch.id}`, f.ws.admin);
    expect(read.body).toMatchObject({ id: ch.id, has_secret: true });
    expect(JSON.stringify(read.body)).not.toContain(ch.secret.slice(6));
    expect(JSON.stringify((await f.api.get("/v1/channels", f.ws.admin)).body)).not.toContain(
      ch.secret.slice(6),
    );

    const [stored] = await rows<{ secret_sealed: string }>(
      t.database.db,
      sql`select secret_sealed from channels where id = ${ch.id}`,
    );
    expect(stored!.secret_sealed).toMatch(/^v1\./);
    expect(stored!.secret_sealed).not.toContain(ch.secret.slice(6));

    const { ref, alerts } = await raiseAlert(f);
    expect(await deliver()).toBeGreaterThan(0);
    const [got] = arrivals(hook);
    expect(arrivals(hook)).toHaveLength(1);
    // The signature is verified as of the moment it was sent (the library checks the timestamp's age).
    vi.useFakeTimers({ toFake: ["Date"], now: t.clock.now() });
    const payload = new Webhook(ch.secret).verify(got!.body, {
      "webhook-id": got!.headers["webhook-id"] as string,
      "webhook-timestamp": got!.headers["webhook-timestamp"] as string,
      "webhook-signature": got!.headers["webhook-signature"] as string,
    }) as { type: string; data: { alerts: Array<{ id: string; accounts: string[] }> } };
    expect(payload.type).toBe("alert.created");
    expect(payload.data.alerts.map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(payload.data.alerts[0]!.accounts).toEqual([`tiktok_shop/${ref}`]);
    // People read the title and the sentences: accounts by platform/ref there, never by internal id.
    const words = JSON.stringify([
      got!.json.data.title,
      got!.json.data.alerts.map((a: { text: string }) => a.text),
    ]);
    expect(words).not.toMatch(/acc_[0-9a-z]{26}/);
    // A tampered body does not verify.
    expect(() =>
      new Webhook(ch.secret).verify(got!.body.replace("alert.created", "alert.resolved"), {
        "webhook-id": got!.headers["webhook-id"] as string,
        "webhook-timestamp": got!.headers["webhook-timestamp"] as string,
        "webhook-signature": got!.headers["webhook-signature"] as string,
      }),
    ).toThrow();
    vi.useRealTimers();
    const log = (await f.api.get(`/v1/channels/${ch.id}/deliveries`, f.ws.admin)).body.deliveries;
    expect(log).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "delivered", status_code: 200, event: "alert.created" }),
    ]);
  });

  it("signs a DingTalk robot's URL with timestamp and sign, in Chinese markdown", async () => {
    const f = await fixture();
    const hook = `/robot/send-${uid()}`;
    const secret = `SEC${uid()}${uid()}`;
    await channel(f, { kind: "dingtalk", url: path(`${hook}?access_token=abc`), secret });
    const { ref } = await raiseAlert(f);
    await deliver();
    const [got] = arrivals(hook);
    const url = new URL(got!.url, rx.url);
    expect(url.searchParams.get("access_token")).toBe("abc");
    const timestamp = url.searchParams.get("timestamp")!;
    expect(Number(timestamp)).toBe(t.clock.now().getTime());
    // DingTalk: sign = urlEncode(base64(HmacSHA256(key = secret, data = timestamp + "\n" + secret)))
    const expected = createHmac("sha256", Buffer.from(secret, "utf8"))
      .update(Buffer.from(`${timestamp}\n${secret}`, "utf8"))
      .digest("base64");
    expect(url.searchParams.get("sign")).toBe(expected);
    expect(got!.url).toContain(`sign=${encodeURIComponent(expected)}`);
    expect(got!.json.msgtype).toBe("markdown");
    expect(got!.json.markdown.title).toMatch(/新增 \d+ 条告警/);
    expect(got!.json.markdown.text).toContain(`tiktok_shop/${ref}`);
  });

  it("signs a Feishu bot's body with timestamp and sign", async () => {
    const f = await fixture();
    const hook = `/open-apis/bot/v2/hook/${uid()}`;
    const secret = uid("fs-");
    await channel(f, { kind: "feishu", url: path(hook), secret, language: "en" });
    await raiseAlert(f);
    await deliver();
    const [got] = arrivals(hook);
    const { timestamp, sign, msg_type, content } = got!.json;
    expect(Number(timestamp)).toBe(Math.floor(t.clock.now().getTime() / 1000));
    // Feishu: sign = base64(HmacSHA256(key = timestamp + "\n" + secret, data = empty))
    const expected = createHmac("sha256", Buffer.from(`${timestamp}\n${secret}`, "utf8"))
      .update(Buffer.alloc(0))
      .digest("base64");
    expect(sign).toBe(expected);
    expect(msg_type).toBe("text");
    expect(content.text).toMatch(/new alerts?, worst/);
  });

  it("posts WeCom markdown and Slack text", async () => {
    const f = await fixture();
    const wecom = `/cgi-bin/webhook/send-${uid()}`;
    const slack = `/services/${uid()}`;
    await channel(f, { kind: "wecom", url: path(wecom) });
    await channel(f, { kind: "slack", url: path(slack) });
    const { ref, alerts } = await raiseAlert(f);
    await deliver();
    expect(arrivals(wecom)).toHaveLength(1);
    expect(arrivals(wecom)[0]!.json).toEqual({
      msgtype: "markdown",
      markdown: { content: expect.any(String) },
    });
    expect(arrivals(wecom)[0]!.json.markdown.content).toContain(`tiktok_shop/${ref}`);
    expect(arrivals(slack)).toHaveLength(1);
    expect(arrivals(slack)[0]!.json.text).toMatch(/^\*\d+ new alerts?, worst \w+\*/);
    for (const a of alerts) {
      expect((await f.api.post(`/v1/alerts/${a.id}/acknowledge`, f.ws.reviewer, {})).status).toBe(200);
    }
    await deliver();
    expect(
      arrivals(slack)
        .slice(1)
        .map((r) => r.json.text.split("\n")[0]),
    ).toEqual(alerts.map(() => "*1 alert acknowledged*"));
    expect(arrivals(wecom)[1]!.json.markdown.content).toContain("1 条告警已确认");
  });

  it("triggers, acknowledges and resolves a PagerDuty event with one dedup_key", async () => {
    const f = await fixture();
    const hook = `/v2/enqueue-${uid()}`;
    await channel(f, { kind: "pagerduty", url: path(hook), secret: "R0UTINGKEY" });
    const { alerts } = await raiseAlert(f);
    await deliver();
    const [trigger] = arrivals(hook);
    expect(trigger!.json).toMatchObject({
      routing_key: "R0UTINGKEY",
      event_action: "trigger",
      payload: { source: "tether", severity: expect.stringMatching(/^(critical|error|warning|info)$/) },
    });
    const severity = alerts.some((a) => a.severity === "critical")
      ? "critical"
      : alerts.some((a) => a.severity === "high")
        ? "error"
        : alerts.some((a) => a.severity === "medium")
          ? "warning"
          : "info";
    expect(trigger!.json.payload.severity).toBe(severity);
    const dedup = trigger!.json.dedup_key as string;
    expect(dedup).toMatch(/^tether:/);

    for (const a of alerts) {
      expect((await f.api.post(`/v1/alerts/${a.id}/acknowledge`, f.ws.reviewer, {})).status).toBe(200);
    }
    await deliver();
    for (const a of alerts) {
      expect((await f.api.post(`/v1/alerts/${a.id}/resolve`, f.ws.reviewer, {})).status).toBe(200);
    }
    await deliver();
    const actions = arrivals(hook).map((r) => [r.json.event_action, r.json.dedup_key]);
    expect(actions[0]).toEqual(["trigger", dedup]);
    expect(actions.slice(1).every(([, key]) => key === dedup)).toBe(true);
    expect(actions.map(([action]) => action)).toEqual([
      "trigger",
      ...alerts.map(() => "acknowledge"),
      ...alerts.map(() => "resolve"),
    ]);
  });
});

describe("retries", () => {
  const log = async (f: Fixture, id: string) =>
    (await f.api.get(`/v1/channels/${id}/deliveries`, f.ws.admin)).body.deliveries.reverse();

  it("retries a 500 twice with backoff and delivers once, with three attempts logged", async () => {
    const f = await fixture();
    const hook = `/flaky-${uid()}`;
    const ch = await channel(f, { kind: "slack", url: path(hook) });
    await raiseAlert(f);
    rx.script.push({ status: 500 }, { status: 500 });
    await deliver();
    expect(arrivals(hook)).toHaveLength(1);
    // Not due again until the backoff has passed: 10 s for the first retry, 20 s for the second.
    await deliver();
    expect(arrivals(hook)).toHaveLength(1);
    t.clock.advance(9_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(1);
    t.clock.advance(1_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(2);
    t.clock.advance(19_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(2);
    t.clock.advance(1_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(3);
    t.clock.advance(3_600_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(3);
    expect(
      (await log(f, ch.id)).map((d: { attempt: number; outcome: string; status_code: number }) => [
        d.attempt,
        d.outcome,
        d.status_code,
      ]),
    ).toEqual([
      [1, "retry", 500],
      [2, "retry", 500],
      [3, "delivered", 200],
    ]);
  });

  it("does not retry a 400", async () => {
    const f = await fixture();
    const hook = `/refuses-${uid()}`;
    const ch = await channel(f, { kind: "slack", url: path(hook) });
    await raiseAlert(f);
    rx.script.push({ status: 400, body: "invalid_payload" });
    await deliver();
    t.clock.advance(24 * 3_600_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(1);
    expect(await log(f, ch.id)).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: "failed",
        status_code: 400,
        error: "HTTP 400: invalid_payload",
      }),
    ]);
  });

  it("waits as long as a 429's Retry-After asks", async () => {
    const f = await fixture();
    const hook = `/busy-${uid()}`;
    const ch = await channel(f, { kind: "slack", url: path(hook) });
    await raiseAlert(f);
    rx.script.push({ status: 429, headers: { "retry-after": "120" } });
    await deliver();
    t.clock.advance(119_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(1);
    t.clock.advance(1_000);
    await deliver();
    expect(arrivals(hook)).toHaveLength(2);
    expect((await log(f, ch.id)).map((d: { outcome: string }) => d.outcome)).toEqual(["retry", "delivered"]);
  });

  it("retries a receiver that is down, and gives up after the last attempt", async () => {
    const f = await fixture();
    const down = await startReceiver();
    await down.close();
    const ch = await channel(f, { kind: "slack", url: `${down.url}/gone` });
    await raiseAlert(f);
    for (let i = 0; i < OPTIONS.maxAttempts + 2; i++) {
      await deliver();
      t.clock.advance(OPTIONS.maxDelayMs * 2);
    }
    const attempts = await log(f, ch.id);
    expect(attempts).toHaveLength(OPTIONS.maxAttempts);
    expect(attempts.at(-1)).toMatchObject({ outcome: "failed", status_code: null, error: "ECONNREFUSED" });
    expect(attempts.slice(0, -1).every((d: { outcome: string }) => d.outcome === "retry")).toBe(true);
  });
});

describe("several deliverers at once", () => {
  it("send each message once", async () => {
    const f = await fixture();
    const hook = `/once-${uid()}`;
    const ch = await channel(f, { kind: "webhook", url: path(hook) });
    await raiseAlert(f);
    await raiseAlert(f);
    await Promise.all([deliver(), deliver(), deliver()]);
    t.clock.advance(OPTIONS.leaseMs * 2);
    await deliver();
    const owed = await rows<{ id: string; status: string }>(
      t.database.db,
      sql`select id, status from notification_outbox where channel_id = ${ch.id} order by id`,
    );
    expect(owed.length).toBeGreaterThanOrEqual(2);
    expect(owed.every((m) => m.status === "delivered")).toBe(true);
    const ids = arrivals(hook).map((r) => r.headers["webhook-id"] as string);
    expect([...ids].sort()).toEqual(owed.map((m) => m.id).sort());
  });
});

describe("erasure", () => {
  it("leaves no owed or sent message naming an erased account", async () => {
    const f = await fixture();
    await channel(f, { kind: "slack", url: path(`/erased-${uid()}`) });
    const { accountId } = await raiseAlert(f);
    await deliver();
    await raiseAlert(f, uid("other-"));
    expect((await f.api.del(`/v1/accounts/${accountId}`, f.ws.admin)).status).toBe(200);
    const naming = await rows<{ n: number }>(
      t.database.db,
      sql`select count(*)::int as n from notification_outbox r where strpos(r::text, ${accountId}) > 0`,
    );
    expect(naming[0]!.n).toBe(0);
  });
});

describe("retention", () => {
  it("forgets delivered messages and their attempts after the retention, never an owed one", async () => {
    const f = await fixture();
    const sent = await channel(f, { kind: "slack", url: path(`/kept-${uid()}`) });
    const down = await startReceiver();
    await down.close();
    const owing = await channel(f, { kind: "slack", url: `${down.url}/gone` });
    await raiseAlert(f);
    await deliver();
    const count = async (table: "notification_outbox" | "notification_deliveries", id: string) =>
      (
        await rows<{ n: number }>(
          t.database.db,
          sql`select count(*)::int as n from ${sql.raw(table)} where channel_id = ${id}`,
        )
      )[0]!.n;
    expect(await count("notification_outbox", sent.id)).toBe(1);
    t.clock.advance(NOTIFICATION_RETENTION_DAYS * 86_400_000 - 60_000);
    await pruneDelivered({ ctx });
    expect(await count("notification_outbox", sent.id)).toBe(1);
    expect(await count("notification_deliveries", sent.id)).toBe(1);
    t.clock.advance(120_000);
    await pruneDelivered({ ctx });
    expect(await count("notification_outbox", sent.id)).toBe(0);
    expect(await count("notification_deliveries", sent.id)).toBe(0);
    // still owed (retrying): kept, though its first attempt's log line is gone
    expect(await count("notification_outbox", owing.id)).toBe(1);
  });
});

describe("grouping and filters", () => {
  it("sends alerts of one incident as one message", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const refs = [uid("a-"), uid("b-"), uid("c-")];
    const ids: string[] = [];
    for (const ref of refs) {
      ids.push((await api.post("/v1/accounts", ws.admin, { platform: "amazon", ref })).body.id);
    }
    const env = await newEnvironment(api, ws.admin, ids);
    const f = { api, ws, agent: env.token };
    const hook = `/grouped-${uid()}`;
    await channel(f, { kind: "webhook", url: path(hook), rules: ["sensitive_op_during_incident"] });
    const incident = await api.post("/v1/incidents", ws.reviewer, {
      platform: "amazon",
      title: "Amazon login outage",
      started_at: new Date(t.clock.now().getTime() - 3_600_000).toISOString(),
    });
    expect(incident.status).toBe(201);
    const res = await api.post("/v1/events", env.token, {
      events: refs.map((ref) =>
        event(t.clock.now().getTime() - 60_000, {
          ref,
          platform: "amazon",
          type: "operation",
          operation: "binding_change",
        }),
      ),
    });
    expect(res.status).toBe(202);
    const alerts = (await api.get(`/v1/alerts?incident_id=${incident.body.id}`, ws.admin)).body.alerts;
    expect(alerts.filter((a: { rule: string }) => a.rule === "sensitive_op_during_incident")).toHaveLength(3);
    await deliver();
    expect(arrivals(hook)).toHaveLength(1);
    const data = arrivals(hook)[0]!.json.data;
    expect(data.alerts).toHaveLength(3);
    expect(data.alerts.flatMap((a: { accounts: string[] }) => a.accounts).sort()).toEqual(
      refs.map((r) => `amazon/${r}`).sort(),
    );
  });

  it("sends nothing below a channel's minimum severity, nor to a disabled channel", async () => {
    const f = await fixture();
    const high = `/high-${uid()}`;
    const off = `/off-${uid()}`;
    await channel(f, { kind: "slack", url: path(high), min_severity: "critical" });
    const disabled = await channel(f, { kind: "slack", url: path(off) });
    expect((await f.api.patch(`/v1/channels/${disabled.id}`, f.ws.admin, { enabled: false })).status).toBe(
      200,
    );
    const { alerts } = await raiseAlert(f);
    expect(alerts.some((a) => a.severity === "critical")).toBe(false);
    await deliver();
    expect(arrivals(high)).toHaveLength(0);
    expect(arrivals(off)).toHaveLength(0);
  });
});

describe("POST /v1/channels/{id}/test", () => {
  it("sends a test message now and answers the attempt", async () => {
    const f = await fixture();
    const hook = `/test-${uid()}`;
    const ch = await channel(f, { kind: "wecom", url: path(hook) });
    const res = await f.api.post(`/v1/channels/${ch.id}/test`, f.ws.admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      event: "test",
      attempt: 1,
      outcome: "delivered",
      status_code: 200,
      message_id: null,
    });
    expect(arrivals(hook)[0]!.json.markdown.content).toContain("tether 测试消息");
    rx.script.push({ status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' });
    const refused = await f.api.post(`/v1/channels/${ch.id}/test`, f.ws.admin);
    expect(refused.body).toMatchObject({ outcome: "failed", error: "93000 invalid webhook url" });
  });
});
