import { appendFileSync, mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentRun, initAgent, listen, relay, runAgent, setConfig, storedEvents } from "./agent.ts";
import { uid } from "./factories.ts";
import { scratchPostgres, startServerProcess } from "./server.ts";

const SLOW = 600_000;

/** Runs `n` jobs with at most `width` at once. */
async function pool<T>(n: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}

/**
 * The spool's promises against a real server process: events reported while the server is away are all
 * delivered once it is back, by two flushers at once; a flusher killed with -9 loses and doubles nothing.
 * `outage` is how many report processes run while the server is stopped (the reliability suite runs 200).
 */
export function spoolScenarios(outage: number) {
  const ADMIN = `e2e-admin-${uid()}`;
  describe(`tether-agent's spool against a real server process (${outage} events reported during an outage)`, () => {
    let dataDir: string;
    let pg: Awaited<ReturnType<typeof scratchPostgres>>;
    let env: Record<string, string>;
    let server: Awaited<ReturnType<typeof startServerProcess>>;
    let port: number;

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "tether-agent-e2e-"));
      pg = await scratchPostgres();
      env = {
        TETHER_DATA_DIR: dataDir,
        TETHER_BOOTSTRAP_TOKEN: ADMIN,
        ...(pg ? { DATABASE_URL: pg.url } : {}),
      };
      server = await startServerProcess(env);
      port = Number(new URL(server.url).port);
    }, SLOW);
    afterAll(async () => {
      await server?.stop();
      await rm(dataDir, { recursive: true, force: true });
      await pg?.drop();
    });

    async function agentFor(base: string) {
      const { target, dir, env: agentEnv } = await initAgent(server.url, ADMIN);
      if (base !== server.url) await setConfig(dir, { server: base });
      return { target, dir, agentEnv };
    }

    it(
      "delivers every event reported while the server was stopped, each stored once, and two flushers double nothing",
      async () => {
        const { target, dir, agentEnv } = await agentFor(server.url);
        await server.stop();
        const reports: AgentRun[] = await pool(outage, 6, (i) =>
          runAgent(
            [
              "report",
              "--account",
              target.account,
              "--type",
              "operation",
              "--op",
              "inventory_sync",
              "--id",
              `ev-${i}`,
            ],
            agentEnv,
          ),
        );
        for (const r of reports) expect(r.code, r.stderr).toBe(0);
        expect(reports.some((r) => /not sent yet/.test(r.stderr))).toBe(true);
        const status = await runAgent(["status", "--json"], agentEnv);
        const summary = JSON.parse(status.stdout);
        expect(summary).toMatchObject({ reachable: false, spool: { pending: outage, corrupt: 0 } });

        server = await startServerProcess(env);
        expect(new URL(server.url).port).not.toBe(String(port));
        // the server came back on another port: point the agent at it (a moved server, as after a failover)
        await setConfig(dir, { server: server.url });
        port = Number(new URL(server.url).port);

        const [a, b] = await Promise.all([runAgent(["flush"], agentEnv), runAgent(["flush"], agentEnv)]);
        expect(a.code, a.stderr).toBe(0);
        expect(b.code, b.stderr).toBe(0);
        const sent = [a, b].map((r) => Number(/flushed (\d+)/.exec(r.stdout)?.[1]));
        expect(sent[0]! + sent[1]!).toBe(outage);
        const stored = await storedEvents(server.url, ADMIN, target.id);
        expect(stored).toHaveLength(outage);
        expect(new Set(stored.map((e) => e.id)).size).toBe(outage);
        const after = JSON.parse((await runAgent(["status", "--json"], agentEnv)).stdout);
        expect(after).toMatchObject({ reachable: true, spool: { pending: 0 } });
      },
      SLOW,
    );

    it(
      "loses and doubles nothing when killed with -9 in the middle of a flush",
      async () => {
        let agentPid = 0;
        let ingests = 0;
        const front = relay(server.url, (answer) => {
          ingests += 1;
          // The server has stored the second batch; the agent dies before it hears so.
          if (ingests === 2 && answer.status === 202) process.kill(agentPid, "SIGKILL");
        });
        const relayUrl = await listen(front);
        try {
          const { target, dir, agentEnv } = await agentFor(relayUrl);
          // 2500 events written straight into the journal (its format is one event per line): three batches.
          mkdirSync(join(dir, "spool"), { recursive: true });
          const now = Date.now();
          const lines = Array.from({ length: 2500 }, (_, i) =>
            JSON.stringify({
              id: `k9-${i}`,
              type: "operation",
              operation: "inventory_sync",
              occurred_at: new Date(now - (2500 - i) * 1000).toISOString(),
              account: { platform: target.platform, ref: target.ref },
              env: { ip: "127.0.0.1" },
            }),
          );
          appendFileSync(join(dir, "spool", "journal.ndjson"), `${lines.join("\n")}\n`);
          const killed = await runAgent(["flush"], agentEnv, { onSpawn: (pid) => (agentPid = pid) });
          expect(killed.signal).toBe("SIGKILL");
          const mid = JSON.parse((await runAgent(["status", "--json"], agentEnv)).stdout);
          expect(mid.spool.pending).toBe(1500);

          // The dead flusher's lock goes stale (10 s) and is taken over.
          const again = await runAgent(["flush"], agentEnv);
          expect(again.code, again.stderr).toBe(0);
          const stored = await storedEvents(server.url, ADMIN, target.id);
          expect(stored).toHaveLength(2500);
          expect(new Set(stored.map((e) => e.id)).size).toBe(2500);
          expect(JSON.parse((await runAgent(["status", "--json"], agentEnv)).stdout).spool.pending).toBe(0);
        } finally {
          await new Promise((r) => front.close(r));
        }
      },
      SLOW,
    );
  });
}
