import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Database } from "../../src/store/db.ts";
import type { Statement } from "../../src/store/runner.ts";
import { openTestDatabase } from "../support/harness.ts";

const statement = (name: string, text: string): Statement => ({ name, text, params: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The hot path's reserved connections when PostgreSQL ends them: the transaction fails with a connection
 * error (no hang, no crash from a driver timer), and the pool serves the next transactions on new connections.
 */
describe.runIf(inject("databaseUrl"))("the runner when its connection is terminated", () => {
  let database: Database;
  let admin: postgres.Sql;

  beforeAll(async () => {
    database = await openTestDatabase();
    admin = postgres(inject("databaseUrl")!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end();
    await database?.close();
  });

  const terminate = (pid: number) => admin`select pg_terminate_backend(${pid})`;

  /**
   * Service resumes by itself: a transaction handed the dead connection before the pool saw it close may
   * still fail fast with a connection error (a caller hears 503 and retries), then four in a row succeed.
   * Anything else, or no recovery within 20 tries, fails the test.
   */
  async function servesAgain() {
    let inARow = 0;
    for (let attempt = 0; attempt < 20 && inARow < 4; attempt++) {
      try {
        const [rows] = await database.runner.transaction((tx) =>
          tx.commit([statement("x", "select 3 as x")]),
        );
        expect(rows).toEqual([{ x: 3 }]);
        inARow += 1;
      } catch (err) {
        expect(err).toMatchObject({
          code: expect.stringMatching(/CONNECTION_CLOSED|57P01|ECONNRESET|EPIPE/),
        });
        inARow = 0;
        await sleep(100);
      }
    }
    expect(inARow).toBe(4);
  }

  it("fails a transaction whose connection was terminated between pipelines, then serves the next", async () => {
    const failed = database.runner.transaction(async (tx) => {
      const [rows] = await tx.send([statement("pid", "select pg_backend_pid() as pid")]);
      const pid = Number(rows![0]!.pid);
      await terminate(pid);
      await sleep(100);
      return tx.commit([statement("after", "select 2 as x")]);
    });
    await expect(failed).rejects.toMatchObject({
      code: expect.stringMatching(/CONNECTION_CLOSED|57P01|ECONNRESET|EPIPE/),
    });
    await servesAgain();
  });

  it("fails a transaction terminated while its pipeline is in flight, then serves the next", async () => {
    const failed = database.runner.transaction(async (tx) => {
      const [rows] = await tx.send([statement("pid", "select pg_backend_pid() as pid")]);
      const pid = Number(rows![0]!.pid);
      // a postgres.js query runs once awaited
      setTimeout(
        () =>
          terminate(pid).then(
            () => undefined,
            () => undefined,
          ),
        100,
      );
      return tx.commit([
        statement("sleep", "select pg_sleep(2)"),
        statement("one", "select 1 as x"),
        statement("two", "select 2 as x"),
      ]);
    });
    await expect(failed).rejects.toMatchObject({
      code: expect.stringMatching(/CONNECTION_CLOSED|57P01|ECONNRESET|EPIPE/),
    });
    await servesAgain();
  });
});
