import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOk, TetherClient } from "../../agents/node/client.ts";
import { initAgent, listen, relay, runAgent, setConfig, storedEvents } from "../support/agent.ts";
import { uid } from "../support/factories.ts";
import { freePort, scratchPostgres, startServerProcess } from "../support/server.ts";

const ADMIN = `e2e-admin-${uid()}`;
const SLOW = 180_000;

describe("tether-agent check and exec against a real server process", () => {
  let dataDir: string;
  let pg: Awaited<ReturnType<typeof scratchPostgres>>;
  let server: Awaited<ReturnType<typeof startServerProcess>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tether-agent-e2e-"));
    pg = await scratchPostgres();
    server = await startServerProcess({
      TETHER_DATA_DIR: dataDir,
      TETHER_BOOTSTRAP_TOKEN: ADMIN,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    });
  }, SLOW);
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await pg?.drop();
  });

  it(
    "exits 0, 10 and 20 as the server decides allow, warn and deny; exec runs, passes through and reports",
    async () => {
      const front = relay(server.url);
      const base = await listen(front);
      try {
        const agent = await initAgent(server.url, ADMIN, undefined);
        await setConfig(agent.dir, { server: base });
        const { target } = agent;

        const allow = await runAgent(
          ["check", "--account", target.account, "--op", "inventory_sync"],
          agent.env,
        );
        expect(allow.code, allow.stderr).toBe(0);
        expect(allow.stdout).toMatch(/: allow/);

        const marker = join(agent.dir, "ran");
        const ran = await runAgent(
          [
            "exec",
            "--account",
            target.account,
            "--op",
            "publish_listing",
            "--",
            process.execPath,
            "-e",
            `require("fs").writeFileSync(${JSON.stringify(marker)}, "x"); process.stdout.write("from-the-command"); process.exit(3)`,
          ],
          agent.env,
        );
        expect(ran.code).toBe(3);
        expect(ran.stdout).toContain("from-the-command");
        expect(existsSync(marker)).toBe(true);
        const stored = await new TetherClient({ base: server.url, token: ADMIN }).get<{
          events: Array<Record<string, unknown>>;
        }>(`/v1/accounts/${target.id}/events`);
        expect(stored.body.events).toHaveLength(1);
        expect(stored.body.events[0]).toMatchObject({
          type: "operation",
          operation: "publish_listing",
          result: { status: "error", code: "command_failed" },
        });

        // An environment not bound to the account: unbound_environment (medium) → warn.
        const admin = new TetherClient({ base: server.url, token: ADMIN });
        const other = expectOk(
          await admin.post<{ token: string }>("/v1/environments", { name: uid("vm-"), account_ids: [] }),
          "environment",
        );
        const stranger = await initAgent(server.url, ADMIN, other.token);
        const warn = await runAgent(
          ["check", "--account", target.account, "--op", "inventory_sync"],
          stranger.env,
        );
        expect(warn.code, warn.stderr).toBe(10);
        expect(warn.stdout).toMatch(/unbound_environment/);

        expectOk(
          await admin.post("/v1/incidents", { platform: target.platform, title: "checkout outage" }),
          "incident",
        );
        const deny = await runAgent(
          ["check", "--account", target.account, "--op", "password_change"],
          agent.env,
        );
        expect(deny.code, deny.stderr).toBe(20);
        expect(deny.stdout).toMatch(/sensitive_op_during_incident/);
        expect(deny.stdout).toMatch(/checkout outage/);
        const zh = await runAgent(["check", "--account", target.account, "--op", "password_change"], {
          ...agent.env,
          LANG: "zh_CN.UTF-8",
        });
        expect(zh.code).toBe(20);
        expect(zh.stdout).toContain("拒绝");
        expect(zh.stdout).toContain("期间执行了敏感操作 password_change");

        const refusedMarker = join(agent.dir, "must-not-exist");
        const refused = await runAgent(
          ["exec", "--account", target.account, "--op", "password_change", "--", "touch", refusedMarker],
          agent.env,
        );
        expect(refused.code).toBe(20);
        expect(existsSync(refusedMarker)).toBe(false);
        expect(await storedEvents(server.url, ADMIN, target.id)).toHaveLength(1);

        // Nothing that identifies the machine left it: only the hash did.
        const wire = JSON.stringify(front.captured);
        expect(front.captured.length).toBeGreaterThan(5);
        const m = agent.machine;
        expect(wire).not.toContain(m.machineId);
        expect(wire.toLowerCase()).not.toContain(m.hostname.toLowerCase());
        for (const mac of m.macs) expect(wire.toLowerCase()).not.toContain(mac.toLowerCase());
        expect(
          front.captured.filter((c) => /"device_id":"dev_[0-9a-f]{32}"/.test(c.body)).length,
        ).toBeGreaterThan(3);
      } finally {
        await new Promise((r) => front.close(r));
      }
    },
    SLOW,
  );

  it(
    "follows the server-down policy: fail-closed for sensitive operations, fail-open for others, or as configured",
    async () => {
      const agent = await initAgent(server.url, ADMIN);
      await setConfig(agent.dir, { server: `http://127.0.0.1:${await freePort()}` });
      const check = (op: string, ...extra: string[]) =>
        runAgent(["check", "--account", agent.target.account, "--op", op, ...extra], agent.env);

      const sensitive = await check("password_change");
      expect(sensitive.code).toBe(20);
      expect(sensitive.stderr).toMatch(/policy auto\/sensitive: fail-closed/);
      const ordinary = await check("inventory_sync");
      expect(ordinary.code).toBe(10);
      expect(ordinary.stderr).toMatch(/policy auto\/not sensitive: fail-open/);
      expect((await check("inventory_sync", "--on-unreachable", "fail-closed")).code).toBe(20);
      expect((await check("password_change", "--on-unreachable", "fail-open")).code).toBe(10);
      // the shell agent's and the Python module's names for the same policy
      expect((await check("inventory_sync", "--offline-policy", "fail-closed")).code).toBe(20);
      const fromEnv = await runAgent(["check", "--account", agent.target.account, "--op", "inventory_sync"], {
        ...agent.env,
        TETHER_OFFLINE_POLICY: "fail-closed",
      });
      expect(fromEnv.code).toBe(20);

      const marker = join(agent.dir, "must-not-exist");
      const exec = await runAgent(
        ["exec", "--account", agent.target.account, "--op", "bank_account_change", "--", "touch", marker],
        agent.env,
      );
      expect(exec.code).toBe(20);
      expect(existsSync(marker)).toBe(false);
    },
    SLOW,
  );
});
