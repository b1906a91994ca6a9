import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ServerProcess } from "../../src/server-process.ts";
import { type Load, startLoad, until } from "../support/load.ts";
import { type PgCluster, postgresBin, startPgCluster } from "../support/pg-cluster.ts";
import { startServerProcess } from "../support/server.ts";

/**
 * A real `tether serve` on a PostgreSQL cluster of the test's own, under load from three agents, while the
 * database goes away in each way it does in production. The process must survive, answer 503 with
 * Retry-After while the database is away, resume by itself, and store every acknowledged event exactly once.
 * Runs in the PostgreSQL pass of the suite (the cluster is private either way).
 */

const ADMIN = "reliability-admin-token-0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(inject("databaseUrl") && postgresBin())("the database goes away under load", () => {
  let cluster: PgCluster;
  let server: ServerProcess & { url: string };
  let sql: postgres.Sql;
  const timeline: Record<string, number> = {};

  beforeAll(async () => {
    cluster = await startPgCluster();
    server = await startServerProcess({
      DATABASE_URL: cluster.url,
      TETHER_BOOTSTRAP_TOKEN: ADMIN,
      TETHER_WORKERS: "1",
      TETHER_RESPONSE_TIMEOUT_MS: "3000",
    });
    sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await server?.stop();
    await sql?.end({ timeout: 1 }).catch(() => undefined);
    cluster?.destroy();
    if (Object.keys(timeline).length > 0) console.info("outage timeline (s):", JSON.stringify(timeline));
  });

  /** What a run of load must show: only 202s and 503s with Retry-After, and each acknowledged id stored once. */
  async function reconcile(load: Load): Promise<void> {
    const odd = load.exchanges.filter(
      (x) => !(x.status === 202 || (x.status === 503 && x.retryAfter !== null)),
    );
    expect(
      odd.map((x) => `${x.status ?? x.error}`),
      "answers other than 202 and 503 + Retry-After",
    ).toEqual([]);
    expect(server.child.exitCode, server.tail.join("\n")).toBeNull();
    const ids = [...load.sent];
    const stored = await sql<Array<{ id: string; n: number }>>`
      select id, count(*)::int as n from events where id = any(${ids}) group by id`;
    const twice = stored.filter((r) => r.n > 1);
    expect(twice).toEqual([]);
    const storedIds = new Set(stored.map((r) => r.id));
    expect([...load.acknowledged].filter((id) => !storedIds.has(id))).toEqual([]);
    // every batch was retried until it was acknowledged, the retried ones included
    expect(storedIds.size).toBe(load.sent.size);
    expect(load.acknowledged.size).toBe(load.sent.size);
  }

  it("survives pg_terminate_backend of its connections under load", async () => {
    const load = startLoad({ base: () => server.url, token: ADMIN, clients: 3, batchSize: 20 });
    await until(() => load.acknowledged.size >= 200, 60_000, "first acknowledgements");
    for (let round = 0; round < 5; round++) {
      const before = load.acknowledged.size;
      const [{ n }] = await sql<[{ n: number }]>`
          select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
          where application_name = 'tether' and pid <> pg_backend_pid()`;
      expect(n).toBeGreaterThan(0);
      await until(() => load.acknowledged.size > before + 100, 60_000, "acknowledgements after a kill");
    }
    await load.stop();
    await reconcile(load);
  }, 180_000);

  for (const mode of ["fast", "immediate"] as const) {
    it(`answers 503 with Retry-After while the cluster is stopped (-m ${mode}) and resumes after a restart`, async () => {
      const load = startLoad({ base: () => server.url, token: ADMIN, clients: 3, batchSize: 20 });
      await until(() => load.acknowledged.size >= 200, 60_000, "first acknowledgements");
      const stoppedAt = Date.now();
      cluster.stop(mode);
      await until(
        () => load.exchanges.some((x) => x.at > stoppedAt && x.status === 503),
        60_000,
        "a 503 while the database is stopped",
      );
      const firstUnavailable = load.exchanges.find((x) => x.at > stoppedAt && x.status === 503)!;
      const ready = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(30_000) });
      expect(ready.status).toBe(503);
      await sleep(3_000);
      const restartedAt = Date.now();
      cluster.start();
      await until(
        () => load.exchanges.some((x) => x.at > restartedAt && x.status === 202),
        60_000,
        "a 202 after the restart",
      );
      const firstAccepted = load.exchanges.find((x) => x.at > restartedAt && x.status === 202)!;
      timeline[`${mode}: stop to first 503`] = (firstUnavailable.at - stoppedAt) / 1000;
      timeline[`${mode}: restart to first 202`] = (firstAccepted.at - restartedAt) / 1000;
      await load.stop();
      await reconcile(load);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    }, 180_000);
  }

  it("answers 503 instead of hanging while the database is frozen (SIGSTOP), and resumes on SIGCONT", async () => {
    const load = startLoad({ base: () => server.url, token: ADMIN, clients: 3, batchSize: 20 });
    await until(() => load.acknowledged.size >= 100, 60_000, "first acknowledgements");
    const frozenAt = Date.now();
    cluster.freeze();
    try {
      const ready = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(30_000) });
      expect(ready.status).toBe(503);
      await until(
        () => load.exchanges.some((x) => x.at > frozenAt && x.status === 503),
        30_000,
        "a 503 while the database is frozen",
      );
      timeline["frozen: freeze to first 503"] =
        (load.exchanges.find((x) => x.at > frozenAt && x.status === 503)!.at - frozenAt) / 1000;
    } finally {
      cluster.thaw();
    }
    const thawedAt = Date.now();
    await until(
      () => load.exchanges.some((x) => x.at > thawedAt && x.status === 202),
      60_000,
      "a 202 after SIGCONT",
    );
    await load.stop();
    await reconcile(load);
  }, 180_000);
});
