import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApp, createIngestFor } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { enrichEvent } from "../../src/core/event.ts";
import { prepareEvent } from "../../src/core/judge.ts";
import type { Settings } from "../../src/core/model.ts";
import { ACCOUNT_RULES } from "../../src/core/rules/index.ts";
import type { Rule } from "../../src/core/rules/types.ts";
import { resolveSettings } from "../../src/core/settings.ts";
import { defaultEnv } from "../../src/env.ts";
import { createMetrics } from "../../src/metrics.ts";
import { type BatchRequest, commitBatch } from "../../src/services/ingest-events.ts";
import { type Database, openPostgres } from "../../src/store/db.ts";
import { genericPlans } from "../../src/store/ingest.ts";
import { ensureEventPartitions } from "../../src/store/partitions.ts";
import { client } from "../support/api.ts";
import { event, HOUR, IP, MINUTE, newWorkspace, uid } from "../support/factories.ts";
import { openTestDatabase, sharedEnricher } from "../support/harness.ts";

const NOW = new Date("2026-02-10T00:00:00Z");

/** Every round trip of the hot path, grouped by transaction (BEGIN … COMMIT). */
function tripRecorder() {
  const transactions: string[][][] = [];
  let open: string[][] | null = null;
  return {
    transactions,
    roundTrip(statements: readonly string[]) {
      if (statements[0] === "begin") {
        open = [];
        transactions.push(open);
      }
      (open ?? transactions[transactions.push([]) - 1]!).push([...statements]);
      if (statements.includes("commit")) open = null;
    },
  };
}

const boom: Rule = {
  id: "boom",
  severity: "high",
  quietWhileLearning: false,
  evaluate(ctx) {
    if (ctx.event.operator === "trigger") throw new Error("rule bug");
    return [];
  },
};

describe("ingest round trips", () => {
  const trips = tripRecorder();
  let database: Database;
  let app: ReturnType<typeof createApp>;
  const clock = new ManualClock(NOW);
  const metrics = createMetrics();

  beforeAll(async () => {
    database = await openTestDatabase({ observer: trips });
    const base = {
      database,
      env: defaultEnv(),
      clock,
      logger: pino({ level: "silent" }),
      enricher: await sharedEnricher(),
      metrics,
    };
    app = createApp({ ...base, ingest: createIngestFor({ ...base }, { rules: [boom, ...ACCOUNT_RULES] }) });
  });
  afterAll(() => database?.close());

  async function ingest(token: string, events: unknown[]) {
    const before = trips.transactions.length;
    const res = await client(app).post("/v1/events", token, { events });
    expect(res.status).toBe(202);
    return { res, transactions: trips.transactions.slice(before) };
  }

  it("stores a single event in one transaction of three round trips", async () => {
    const ws = await newWorkspace(database);
    const { transactions } = await ingest(ws.admin, [event(NOW.getTime() - HOUR)]);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.map((t) => t[0])).toEqual(["begin", "insert_accounts", "insert_user_agents"]);
    expect(transactions[0]!.at(-1)).toContain("commit");
  });

  it("keeps the same three round trips for 500 events of 50 accounts with history", async () => {
    const ws = await newWorkspace(database);
    const history = Array.from({ length: 500 }, (_, i) =>
      event(NOW.getTime() - 3 * HOUR + i * 1000, {
        ref: `store-${i % 50}`,
        env: { ip: IP.home, device_id: `d-${i % 50}` },
      }),
    );
    await ingest(ws.admin, history);
    const next = Array.from({ length: 500 }, (_, i) =>
      event(NOW.getTime() - HOUR + i * 1000, {
        ref: `store-${i % 50}`,
        env: { ip: IP.home, device_id: `d-${i % 50}` },
      }),
    );
    const { transactions } = await ingest(ws.admin, next);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]).toHaveLength(3);
  });

  it("answers a fully duplicated batch from one read, writing nothing", async () => {
    const ws = await newWorkspace(database);
    const events = [event(NOW.getTime() - HOUR), event(NOW.getTime() - HOUR + MINUTE)];
    await ingest(ws.admin, events);
    const { res, transactions } = await ingest(ws.admin, events);
    expect(res.body.duplicates).toBe(2);
    const statements = transactions.flat(2);
    expect(statements).toEqual(["begin", "generic_plans", "lock_keys", "find_stored_events", "commit"]);
  });

  it("takes at most four round trips when platform-side failures may open an incident", async () => {
    const ws = await newWorkspace(database);
    const failing = ["a", "b", "c"].map((ref, i) =>
      event(NOW.getTime() - 10 * MINUTE + i * 1000, {
        ref,
        env: { ip: [IP.home, IP.otherNetwork, IP.virginia][i]!, device_id: `dev-${ref}` },
        result: { status: "error", code: "http_5xx", http_status: 502 },
      }),
    );
    const { transactions } = await ingest(ws.admin, failing);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.length).toBeLessThanOrEqual(4);
    expect(transactions[0]!.flat()).toContain("insert_incidents");
  });

  it("skips a rule that throws for that event, counts it, and keeps the other rules' findings", async () => {
    const ws = await newWorkspace(database);
    const res = await client(app).post("/v1/events", ws.admin, {
      events: [
        event(NOW.getTime() - HOUR, {
          operator: "trigger",
          env: { ip: IP.tokyo, timezone: "America/Los_Angeles" },
        }),
        event(NOW.getTime() - HOUR + MINUTE, { operator: "someone" }),
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.results[0].findings.map((f: { rule: string }) => f.rule)).toContain("timezone_mismatch");
    const scrape = await (await app.request("/metrics")).text();
    expect(scrape).toMatch(/tether_rule_errors_total\{rule="boom"\} 1\b/);
  });
});

/**
 * On a real server, a round trip is the client writing after it has read an answer: counted on the
 * connection's socket, so pipelining is checked on the wire, not only by the code's own bookkeeping.
 */
describe.runIf(inject("databaseUrl"))("ingest round trips on the wire (PostgreSQL)", () => {
  let database: Database;
  let flights = 0;
  const trips = tripRecorder();

  beforeAll(async () => {
    database = openPostgres(inject("databaseUrl")!, {
      max: 1,
      observer: trips,
      onSocket(socket) {
        let wrote = false;
        const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
        socket.write = ((...args: unknown[]) => {
          if (!wrote) flights += 1;
          wrote = true;
          return write(...args);
        }) as typeof socket.write;
        socket.on("data", () => {
          wrote = false;
        });
      },
    });
  });
  afterAll(() => database?.close());

  it("sends each pipeline in one flight: three per ingest transaction once statements are prepared", async () => {
    const ws = await newWorkspace(database);
    const settings: Settings = resolveSettings(defaultEnv(), {});
    const enricher = await sharedEnricher();
    const caller = { workspaceId: ws.id, environmentId: null, tokenId: null, name: "test" };
    await ensureEventPartitions(database.db, NOW.getTime() - 7 * 24 * HOUR, NOW.getTime());
    const request = (n: number): BatchRequest => ({
      caller,
      settings,
      events: Array.from({ length: n }, (_, i) => {
        const e = event(NOW.getTime() - HOUR + i * 1000, {
          ref: `wire-${i % 5}`,
          env: { ip: IP.home, device_id: uid("d") },
        });
        return prepareEvent(enrichEvent(enricher, e, null), e.account!, settings);
      }),
    });
    const ctx = {
      runner: database.runner,
      clock: new ManualClock(NOW),
      logger: pino({ level: "silent" }),
      metrics: createMetrics(),
    };
    const options = { baselineDays: 90, historyPerAccount: 2000, shard: 0 };
    // Twice to prepare every statement on the one connection (a statement's first use describes it first).
    await commitBatch(ctx, options, [request(10)]);
    await commitBatch(ctx, options, [request(10)]);
    const before = flights;
    const tripsBefore = trips.transactions.length;
    // Large enough that a pipeline spans several socket writes (and several reads on the server's side).
    await commitBatch(ctx, options, [request(300), request(200)]);
    expect(trips.transactions.slice(tripsBefore).flat()).toHaveLength(3);
    expect(flights - before).toBe(3);
  });
});

describe.runIf(inject("databaseUrl"))("JIT on the server's sessions (PostgreSQL)", () => {
  let database: Database;
  beforeAll(() => {
    database = openPostgres(inject("databaseUrl")!, { max: 1 });
  });
  afterAll(() => database?.close());

  it("is off for every session, and again inside the hot path's transaction", async () => {
    // A cached generic plan over every events partition is costed above jit_above_cost: with JIT on, each
    // idempotency lookup compiled ~150 functions (0.15–4 s) to run for a millisecond.
    const [session] = await database.runner.send([{ name: "show_jit", text: "show jit", params: [] }]);
    expect(session![0]!.jit).toBe("off");
    const inTransaction = await database.runner.transaction(async (tx) => {
      const [, shown] = await tx.send([genericPlans, { name: "show_jit_tx", text: "show jit", params: [] }]);
      return shown![0]!.jit;
    });
    expect(inTransaction).toBe("off");
  });
});
