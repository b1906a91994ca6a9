import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { event, IP, newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import { type Receiver, startReceiver } from "../support/receiver.ts";
import { expectError, expectInvalid } from "../support/routes.ts";
import { freePort, scratchPostgres, startServerProcess } from "../support/server.ts";

const t = useTestApp();

describe("channels through the API", () => {
  it("lets admins manage channels and no one else; another workspace's channel is not found", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const other = await newWorkspace(t.database);
    const body = {
      name: "ops robot",
      kind: "dingtalk",
      url: "https://oapi.dingtalk.com/robot/send?access_token=x",
    };
    for (const token of [ws.viewer, ws.reviewer]) {
      expectError(await api.post("/v1/channels", token, body), 403, "forbidden");
      expectError(await api.get("/v1/channels", token), 403, "forbidden");
    }
    const created = await api.post("/v1/channels", ws.admin, { ...body, secret: "SECabc" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: "dingtalk",
      language: "zh-CN",
      min_severity: "medium",
      rules: null,
      enabled: true,
      has_secret: true,
      secret: null,
    });
    const id = created.body.id as string;
    expectError(await api.get(`/v1/channels/${id}`, ws.viewer), 403, "forbidden");
    expectError(await api.get(`/v1/channels/${id}`, other.admin), 404, "not_found");
    expectError(await api.patch(`/v1/channels/${id}`, other.admin, { enabled: false }), 404, "not_found");
    expectError(await api.del(`/v1/channels/${id}`, other.admin), 404, "not_found");
    expect((await api.get("/v1/channels", other.admin)).body.channels).toEqual([]);

    const patched = await api.patch(`/v1/channels/${id}`, ws.admin, {
      min_severity: "high",
      rules: ["shared_device"],
      language: "en",
    });
    expect(patched.body).toMatchObject({ min_severity: "high", rules: ["shared_device"], language: "en" });
    expect((await api.get("/v1/channels", ws.admin)).body.channels).toEqual([patched.body]);
    expect((await api.del(`/v1/channels/${id}`, ws.admin)).status).toBe(200);
    expectError(await api.get(`/v1/channels/${id}`, ws.admin), 404, "not_found");
  });

  it("shows a webhook's generated secret once", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const created = await api.post("/v1/channels", ws.admin, {
      name: "siem",
      kind: "webhook",
      url: "http://127.0.0.1:9/in",
    });
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(created.body.language).toBe("en");
    const again = JSON.stringify([
      (await api.get(`/v1/channels/${created.body.id}`, ws.admin)).body,
      (await api.get("/v1/channels", ws.admin)).body,
    ]);
    expect(again).not.toContain(created.body.secret.slice("whsec_".length));
    expect(again).not.toContain('"secret"');
  });

  it.each([
    ["ftp://example.com/hook", "url"],
    ["file:///etc/passwd", "url"],
    ["https://user:pass@example.com/hook", "url"],
    ["not a url", "url"],
  ])("refuses %s as a channel URL", async (url, path) => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    expectInvalid(await api.post("/v1/channels", ws.admin, { name: "x", kind: "slack", url }), path);
  });

  it("asks for PagerDuty's routing key and refuses a secret where the kind takes none", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    expectInvalid(await api.post("/v1/channels", ws.admin, { name: "pd", kind: "pagerduty" }), "secret");
    const pd = await api.post("/v1/channels", ws.admin, { name: "pd", kind: "pagerduty", secret: "R0UTING" });
    expect(pd.body).toMatchObject({ url: "https://events.pagerduty.com/v2/enqueue", secret: null });
    expectInvalid(
      await api.post("/v1/channels", ws.admin, {
        name: "s",
        kind: "slack",
        url: "http://127.0.0.1:9/",
        secret: "x",
      }),
      "secret",
    );
  });
});

const ADMIN = `e2e-admin-${uid()}`;

describe("a notification survives a crash of the server", () => {
  let dataDir: string;
  let pg: Awaited<ReturnType<typeof scratchPostgres>>;
  let receiver: Receiver | null = null;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tether-notify-"));
    pg = await scratchPostgres();
  });
  afterAll(async () => {
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
    await pg?.drop();
  });

  it("delivers, after a SIGKILL and a restart, an alert raised while the receiver was down", async () => {
    const env = {
      TETHER_DATA_DIR: dataDir,
      TETHER_BOOTSTRAP_TOKEN: ADMIN,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    };
    const port = await freePort();
    const first = await startServerProcess(env);
    const call = async (base: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read loosely
      return { status: res.status, body: (await res.json()) as any };
    };
    const until = async <T>(what: string, probe: () => Promise<T | null>): Promise<T> => {
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        const found = await probe();
        if (found !== null) return found;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`gave up waiting for ${what}`);
    };
    let channelId: string;
    try {
      const channel = await call(first.url, "/v1/channels", ADMIN, {
        name: "on-call",
        kind: "slack",
        url: `http://127.0.0.1:${port}/hook`,
        min_severity: "info",
      });
      expect(channel.status).toBe(201);
      channelId = channel.body.id;
      const agent = await call(first.url, "/v1/environments", ADMIN, { name: "vm-1" });
      const ingested = await call(first.url, "/v1/events", agent.body.token, {
        events: [
          event(Date.now() - 60_000, {
            ref: "us-store-1",
            env: { ip: IP.home, device_id: uid("dev-"), timezone: "Asia/Shanghai" },
          }),
        ],
      });
      expect(ingested.status).toBe(202);
      // The first attempt finds nothing listening: the message stays owed.
      const [failed] = await until("a failed attempt", async () => {
        const log = (await call(first.url, `/v1/channels/${channelId}/deliveries`, ADMIN)).body.deliveries;
        return log.length > 0 ? log : null;
      });
      expect(failed).toMatchObject({ attempt: 1, outcome: "retry", status_code: null });
    } finally {
      first.child.kill("SIGKILL");
      await first.exited;
    }

    receiver = await startReceiver(port);
    const second = await startServerProcess(env);
    try {
      const [got] = await until("the message", async () => (receiver!.got.length > 0 ? receiver!.got : null));
      expect(got!.json.text).toContain("tiktok_shop/us-store-1");
      const log = await until("the delivered attempt", async () => {
        const l = (await call(second.url, `/v1/channels/${channelId!}/deliveries`, ADMIN)).body.deliveries;
        return l[0]?.outcome === "delivered" ? l : null;
      });
      expect(log.map((d: { attempt: number; outcome: string }) => [d.attempt, d.outcome])).toEqual([
        [2, "delivered"],
        [1, "retry"],
      ]);
      expect(receiver.got).toHaveLength(1);
    } finally {
      await second.stop();
    }
  }, 240_000);
});
