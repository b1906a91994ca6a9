import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql as q } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { ServerProcess } from "../../src/server-process.ts";
import { type Database, openPglite, openPostgres, rows } from "../../src/store/db.ts";
import { startLoad, until } from "../support/load.ts";
import { scratchPostgres, startServerProcess } from "../support/server.ts";

/**
 * kill -9 of a serving process while three agents post batches, then a restart on the same data: every id
 * answered 202 is stored exactly once, and what the agents sent again after the crash (their unanswered
 * batches) is stored once too. On PGlite the restart also takes over the dead process's data-dir lock.
 */

const ADMIN = "reliability-admin-token-0123456789";
const figures: Record<string, unknown> = {};

afterAll(() => {
  if (Object.keys(figures).length > 0) console.info("kill -9 reconciliation:", JSON.stringify(figures));
});

async function crashAndReconcile(
  label: string,
  env: Record<string, string>,
  open: () => Promise<Database>,
): Promise<void> {
  let server: ServerProcess & { url: string } = await startServerProcess({
    ...env,
    TETHER_BOOTSTRAP_TOKEN: ADMIN,
    TETHER_WORKERS: "1",
  });
  const load = startLoad({ base: () => server.url, token: ADMIN, clients: 3, batchSize: 25 });
  try {
    for (let crash = 0; crash < 2; crash++) {
      const before = load.acknowledged.size;
      await until(() => load.acknowledged.size >= before + 300, 120_000, "acknowledgements before the kill");
      server.child.kill("SIGKILL");
      await server.exited;
      const killedAt = Date.now();
      server = await startServerProcess({ ...env, TETHER_BOOTSTRAP_TOKEN: ADMIN, TETHER_WORKERS: "1" });
      await until(
        () => load.exchanges.some((x) => x.at > killedAt && x.status === 202),
        120_000,
        "a 202 after the restart",
      );
    }
  } finally {
    await load.stop();
    await server.stop();
  }
  const database = await open();
  try {
    const ids = [...load.sent];
    const stored = await rows<{ id: string; n: number }>(
      database.db,
      q`select id, count(*)::int as n from events where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)) group by id`,
    );
    const storedIds = new Set(stored.map((r) => r.id));
    const networkErrors = load.exchanges.filter((x) => x.error !== null).length;
    figures[label] = {
      acknowledged: load.acknowledged.size,
      stored: storedIds.size,
      storedTwice: stored.filter((r) => r.n > 1).length,
      resentAfterFailure: load.retried.size,
      resentStored: [...load.retried].filter((id) => storedIds.has(id)).length,
      requestsWithoutAnswer: networkErrors,
    };
    expect(stored.filter((r) => r.n > 1)).toEqual([]);
    expect([...load.acknowledged].filter((id) => !storedIds.has(id))).toEqual([]);
    expect(storedIds.size).toBe(load.sent.size);
    // the crash did hit requests in flight, and the agents' resends were stored (once, as checked above)
    expect(networkErrors).toBeGreaterThan(0);
    expect(load.retried.size).toBeGreaterThan(0);
    expect([...load.retried].every((id) => storedIds.has(id))).toBe(true);
  } finally {
    await database.close();
  }
}

describe("kill -9 under load", () => {
  it.runIf(!inject("databaseUrl"))(
    "on PGlite: acknowledged and resent events are stored exactly once after two crashes",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "tether-crash-"));
      try {
        await crashAndReconcile("pglite", { TETHER_DATA_DIR: dir }, () => openPglite({ dataDir: dir }));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    600_000,
  );

  it.runIf(inject("databaseUrl"))(
    "on PostgreSQL: acknowledged and resent events are stored exactly once after two crashes",
    async () => {
      const scratch = (await scratchPostgres())!;
      try {
        await crashAndReconcile("postgres", { DATABASE_URL: scratch.url }, async () =>
          openPostgres(scratch.url, { max: 1 }),
        );
      } finally {
        await scratch.drop();
      }
    },
    600_000,
  );
});
