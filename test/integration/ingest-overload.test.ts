import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { cachingEnricher } from "../../src/core/event.ts";
import { defaultEnv } from "../../src/env.ts";
import { createMetrics } from "../../src/metrics.ts";
import type { BatchOutcome, BatchRequest } from "../../src/services/ingest-events.ts";
import { IngestPipeline } from "../../src/services/ingest-pipeline.ts";
import type { Database } from "../../src/store/db.ts";
import { client } from "../support/api.ts";
import { event, HOUR, newWorkspace } from "../support/factories.ts";
import { openTestDatabase, sharedEnricher } from "../support/harness.ts";

const NOW = new Date("2026-02-10T00:00:00Z");

/** An app whose ingest transaction waits until the test lets it finish: the queue fills deterministically. */
describe("ingest under overload", () => {
  let database: Database;
  let app: ReturnType<typeof createApp>;
  let pipeline: IngestPipeline;
  const held: Array<() => void> = [];
  const metrics = createMetrics();

  beforeAll(async () => {
    database = await openTestDatabase();
    const enricher = await sharedEnricher();
    pipeline = new IngestPipeline(
      (requests: BatchRequest[]) =>
        new Promise<BatchOutcome[]>((resolve) =>
          held.push(() =>
            resolve(requests.map((r) => ({ accepted: r.events.length, duplicates: 0, results: [] }))),
          ),
        ),
      { maxGroupEvents: 1000, maxQueuedEvents: 1000 },
      { rejected: () => metrics.ingestRejected.inc() },
    );
    app = createApp({
      database,
      env: defaultEnv(),
      clock: new ManualClock(NOW),
      logger: pino({ level: "silent" }),
      enricher,
      metrics,
      ingest: { pipeline, enricher: cachingEnricher(enricher) },
    });
  });
  afterAll(() => database?.close());

  it("answers 503 with Retry-After when the queue is full, instead of growing memory", async () => {
    const ws = await newWorkspace(database);
    const api = client(app);
    const batch = (n: number) => ({
      events: Array.from({ length: n }, (_, i) => event(NOW.getTime() - HOUR + i)),
    });
    const running = api.post("/v1/events", ws.admin, batch(1));
    while (held.length === 0) await new Promise((r) => setImmediate(r));
    const queued = api.post("/v1/events", ws.admin, batch(900));
    while (pipeline.queued < 900) await new Promise((r) => setImmediate(r));
    const res = await app.request("/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${ws.admin}`, "content-type": "application/json" },
      body: JSON.stringify(batch(200)),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unavailable");
    expect(body.error.message).toContain("nothing of this request was stored");
    held.shift()!();
    expect((await running).status).toBe(202);
    while (held.length === 0) await new Promise((r) => setImmediate(r));
    held.shift()!();
    expect((await queued).status).toBe(202);
    expect(await (await app.request("/metrics")).text()).toMatch(/tether_ingest_rejected_total 1\b/);
  });
});
