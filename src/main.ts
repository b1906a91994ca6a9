import { type ServerType, serve } from "@hono/node-server";
import pino, { type Logger } from "pino";
import { createApp, createIngestFor } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { systemClock } from "./clock.ts";
import { createEnricher } from "./core/enrich/index.ts";
import type { Env } from "./env.ts";
import { createMetrics } from "./metrics.ts";
import { startStorageMaintenance } from "./services/maintain-storage.ts";
import { type Database, openDatabase } from "./store/db.ts";

export interface Running {
  port: number;
  stop(): Promise<void>;
}

export const createLogger = (env: Env): Logger =>
  pino({ level: env.TETHER_LOG_LEVEL, base: { service: "tether" } });

/** Migrations and the first workspace: once per start, before any process serves. */
export async function prepareDatabase(env: Env, database: Database): Promise<void> {
  await database.migrate();
  const boot = await bootstrap(
    database.db,
    env.TETHER_BOOTSTRAP_TOKEN,
    systemClock.now(),
    env.TETHER_TOKEN_PEPPER,
  );
  if (boot?.generated) {
    // Printed once, to the terminal only: it is stored as a hash and cannot be shown again.
    process.stdout.write(
      `\nCreated workspace "default". Admin token (shown once, keep it safe):\n\n  ${boot.secret}\n\n` +
        `已创建工作区 "default"。管理员令牌（仅显示一次，请妥善保存）见上。\n\n`,
    );
  }
}

/**
 * Parse env → open db → migrate → bootstrap → serve: the only place that starts things. A worker of a
 * cluster skips the preparation, which its primary did (src/cluster.ts).
 */
export async function startServer(env: Env, options: { prepare?: boolean } = {}): Promise<Running> {
  const logger = createLogger(env);
  const database = await openDatabase(env);
  if (options.prepare ?? true) await prepareDatabase(env, database);
  const enricher = await createEnricher();
  const base = { database, env, clock: systemClock, logger, enricher, metrics: createMetrics() };
  const ingest = createIngestFor(base);
  const app = createApp({ ...base, ingest });
  const maintenance = startStorageMaintenance({
    ctx: { db: database.db, clock: systemClock, logger },
    input: {
      retentionDays: env.TETHER_RETENTION_DAYS,
      baselineDays: env.TETHER_BASELINE_DAYS,
      maxEventAgeDays: env.TETHER_MAX_EVENT_AGE_DAYS,
      aheadWeeks: 4,
    },
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  logger.info({ host: env.HOST, port, database: database.kind, pid: process.pid }, "tether listening");
  return {
    port,
    async stop() {
      // No new connections; requests already in the ingest pipeline are committed and answered first.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await ingest.pipeline.idle();
      await maintenance.stop();
      await closed;
      await database.close();
      logger.info("tether stopped");
    },
  };
}
