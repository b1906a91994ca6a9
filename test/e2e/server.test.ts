import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { event, HOUR, IP, LA, uid } from "../support/factories.ts";
import { BIN, scratchPostgres, startServerProcess } from "../support/server.ts";

const ADMIN = `e2e-admin-${uid()}`;

// Each test starts real server processes (about 3 s each when the machine is idle, far more when it is not).
const PROCESS_TIMEOUT = 120_000;

describe("tether serve, as a real process", () => {
  let dataDir: string;
  let pg: Awaited<ReturnType<typeof scratchPostgres>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tether-e2e-"));
    pg = await scratchPostgres();
    env = {
      TETHER_DATA_DIR: dataDir,
      TETHER_BOOTSTRAP_TOKEN: ADMIN,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await pg?.drop();
  });

  it(
    "ingests over HTTP, serves alerts, and keeps its data across a restart",
    async () => {
      const first = await startServerProcess(env);
      const call = async (path: string, token: string, body?: unknown) => {
        const res = await fetch(`${first.url}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      let accountId: string;
      let agentToken: string;
      try {
        const whoami = await call("/v1/whoami", ADMIN);
        expect(whoami.body).toMatchObject({
          role: "admin",
          workspace: { slug: "default" },
          source_ip: "127.0.0.1",
        });

        const env1 = await call("/v1/environments", ADMIN, { name: "vm-us-01" });
        expect(env1.status).toBe(201);
        agentToken = env1.body.token;
        // A recent past, so the events are never "from the future" for the real clock.
        const start = Date.now() - 3 * 24 * HOUR;
        const learning = Array.from({ length: 25 }, (_, i) =>
          event(start + i * HOUR, { ref: "us-store-17" }),
        );
        const ingest = await call("/v1/events", agentToken, { events: learning });
        expect(ingest.status).toBe(202);
        expect(ingest.body.accepted).toBe(25);
        accountId = ingest.body.results[0].account_id;

        const violation = event(start + 30 * HOUR, {
          ref: "us-store-17",
          env: { ip: IP.home, device_id: "dev-intruder", ...LA },
        });
        const judged = await call("/v1/events", agentToken, violation);
        expect(judged.body.results[0].findings).toEqual([
          expect.objectContaining({ rule: "new_device", severity: "high" }),
        ]);

        const alerts = await call("/v1/alerts", ADMIN);
        expect(alerts.body.alerts).toEqual([
          expect.objectContaining({ rule: "new_device", account_ids: [accountId] }),
        ]);
        expect(await first.stop()).toBe(0);
      } finally {
        await first.stop();
      }

      const second = await startServerProcess(env);
      try {
        const get = async (path: string, token: string) =>
          (
            await fetch(`${second.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
          ).json() as Promise<any>;
        expect((await get("/v1/alerts", ADMIN)).alerts).toEqual([
          expect.objectContaining({ rule: "new_device", count: 1 }),
        ]);
        expect(await get(`/v1/accounts/${accountId}`, ADMIN)).toMatchObject({
          state: "established",
          event_count: 26,
        });
        expect((await get("/v1/whoami", agentToken)).environment_id).toMatch(/^env_/);
        // The bootstrap token does not mint a second workspace on restart.
        expect(second.output()).not.toContain("Admin token");
      } finally {
        expect(await second.stop()).toBe(0);
      }
    },
    PROCESS_TIMEOUT,
  );

  it(
    "prints a generated admin token once on first start when none is configured",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "tether-e2e-boot-"));
      const pgBoot = await scratchPostgres();
      try {
        const server = await startServerProcess({
          TETHER_DATA_DIR: dir,
          ...(pgBoot ? { DATABASE_URL: pgBoot.url } : {}),
        });
        await server.stop();
        const token = /\n\s+(ttu_[A-Za-z0-9_-]+)\n/.exec(server.output())?.[1];
        expect(token).toBeDefined();
        const again = await startServerProcess({
          TETHER_DATA_DIR: dir,
          ...(pgBoot ? { DATABASE_URL: pgBoot.url } : {}),
        });
        try {
          const res = await fetch(`${again.url}/v1/whoami`, {
            headers: { authorization: `Bearer ${token}` },
          });
          expect(res.status).toBe(200);
          expect(again.output()).not.toContain("ttu_");
        } finally {
          await again.stop();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
        await pgBoot?.drop();
      }
    },
    PROCESS_TIMEOUT,
  );

  it("refuses to start with an invalid configuration and says why", () => {
    const res = spawnSync(process.execPath, [BIN, "serve"], {
      env: { ...process.env, PORT: "not-a-port", TETHER_MAX_KMH: "-5" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("PORT");
    expect(res.stderr).toContain("TETHER_MAX_KMH");
  });
});
