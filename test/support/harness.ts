import { readFile } from "node:fs/promises";
import pino from "pino";
import { afterAll, beforeAll, inject } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { createEnricher } from "../../src/core/enrich/index.ts";
import type { Enricher } from "../../src/core/enrich/types.ts";
import { defaultEnv, type Env } from "../../src/env.ts";
import { createMetrics } from "../../src/metrics.ts";
import { type Database, type OpenOptions, openPglite, openPostgres } from "../../src/store/db.ts";

let enricher: Promise<Enricher> | null = null;
/** The offline geo/ASN data takes ~0.6 s and ~200 MB to load: once per test worker. */
export const sharedEnricher = () => {
  enricher ??= createEnricher();
  return enricher;
};

/** A database for one test file, from the run's migrated template; tests isolate themselves by workspace. */
export async function openTestDatabase(options: OpenOptions = {}): Promise<Database> {
  const url = inject("databaseUrl");
  if (url) return openPostgres(url, { max: 4, ...options });
  const template = inject("pgliteTemplate");
  if (!template) throw new Error("global setup provided no database");
  return openPglite({ loadDataDir: new Blob([await readFile(template)]), ...options });
}

export interface TestContext {
  database: Database;
  app: App;
  clock: ManualClock;
  env: Env;
}

/** Registers a database and an app for the current test file; read the context inside tests. */
export function useTestApp(overrides: Partial<Env> = {}, options: OpenOptions = {}): TestContext {
  const ctx = {} as TestContext;
  beforeAll(async () => {
    ctx.database = await openTestDatabase(options);
    ctx.clock = new ManualClock("2026-01-20T00:00:00Z");
    ctx.env = defaultEnv(overrides);
    ctx.app = createApp({
      database: ctx.database,
      env: ctx.env,
      clock: ctx.clock,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      enricher: await sharedEnricher(),
      metrics: createMetrics(),
    });
  });
  afterAll(async () => {
    await ctx.database?.close();
  });
  return ctx;
}
