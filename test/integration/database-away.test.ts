import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { systemClock } from "../../src/clock.ts";
import { defaultEnv } from "../../src/env.ts";
import { DatabaseTimeout, isDatabaseUnavailable } from "../../src/errors.ts";
import { createMetrics } from "../../src/metrics.ts";
import { type Database, openPostgres } from "../../src/store/db.ts";
import { sharedEnricher } from "../support/harness.ts";
import { freePort } from "../support/server.ts";

/** An app whose PostgreSQL does not answer: every route says 503 with Retry-After, never 500. */
describe("the database is away", () => {
  let database: Database;
  let app: App;

  beforeAll(async () => {
    // nothing listens on a port just found free: each connection attempt is refused
    database = openPostgres(`postgres://postgres@127.0.0.1:${await freePort()}/tether`, { max: 2 });
    app = createApp({
      database,
      env: defaultEnv(),
      clock: systemClock,
      logger: pino({ level: "silent" }),
      enricher: await sharedEnricher(),
      metrics: createMetrics(),
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("answers /readyz 503 with Retry-After", async () => {
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
  });

  for (const [method, path, body] of [
    ["POST", "/v1/events", { events: [] }],
    ["POST", "/v1/preflight", {}],
    ["GET", "/v1/accounts", undefined],
    ["GET", "/v1/alerts", undefined],
  ] as const) {
    it(`answers ${method} ${path} 503 unavailable with Retry-After and the error envelope`, async () => {
      const res = await app.request(path, {
        method,
        headers: { authorization: "Bearer some-token-some-token", "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("2");
      const answer = (await res.json()) as { error: { code: string; request_id: string } };
      expect(answer.error.code).toBe("unavailable");
      expect(answer.error.request_id).toBeTruthy();
    });
  }

  it("tells transient database errors from others, through drizzle's wrapping", () => {
    const wrapped = (cause: unknown) => Object.assign(new Error("Failed query"), { cause });
    for (const code of [
      "57P01",
      "57P03",
      "08006",
      "53300",
      "57014",
      "55P03",
      "ECONNREFUSED",
      "CONNECTION_CLOSED",
    ]) {
      expect(isDatabaseUnavailable(wrapped(Object.assign(new Error(code), { code }))), code).toBe(true);
    }
    expect(isDatabaseUnavailable(new DatabaseTimeout("frozen"))).toBe(true);
    expect(
      isDatabaseUnavailable(new AggregateError([Object.assign(new Error(), { code: "ECONNREFUSED" })])),
    ).toBe(true);
    for (const code of ["23505", "22P02", "42P01", undefined]) {
      expect(isDatabaseUnavailable(wrapped(Object.assign(new Error("x"), { code }))), String(code)).toBe(
        false,
      );
    }
  });
});
