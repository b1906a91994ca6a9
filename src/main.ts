import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { type ServerType, serve } from "@hono/node-server";
import pino, { type Logger } from "pino";
import { createApp, createIngestFor } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { systemClock } from "./clock.ts";
import { dataAgeDays } from "./core/enrich/index.ts";
import type { Enricher } from "./core/enrich/types.ts";
import { loadEnricher } from "./enrichment-data.ts";
import type { Env } from "./env.ts";
import { errorCode, isDatabaseUnavailable } from "./errors.ts";
import { answerClientError } from "./http/client-error.ts";
import { createMetrics } from "./metrics.ts";
import { DEFAULT_DELIVERY, startDeliverer } from "./services/deliver-notifications.ts";
import { startStorageMaintenance } from "./services/maintain-storage.ts";
import { type Database, openDatabase, waitForDatabase } from "./store/db.ts";
import { loadPepper } from "./store/tenancy.ts";

export interface Running {
  port: number;
  stop(): Promise<void>;
}

export const createLogger = (env: Env): Logger =>
  pino({ level: env.TETHER_LOG_LEVEL, base: { service: "tether" } });

/** IP data older than this misplaces reassigned networks often enough to matter. */
export const STALE_DATA_DAYS = 60;

/** One warning per data set older than STALE_DATA_DAYS, saying how to refresh it. */
export function warnOfStaleData(enricher: Enricher, now: Date, logger: Logger): void {
  for (const d of enricher.datasets) {
    const ageDays = dataAgeDays(d, now);
    if (ageDays <= STALE_DATA_DAYS) continue;
    logger.warn(
      { dataset: d.dataset, source: d.source, built_at: d.builtAt.toISOString(), age_days: ageDays },
      `the ${d.dataset} data is ${ageDays} days old: download current files and install them with ` +
        '`npm run data:refresh -- <files…>` (docs/enrichment.md, "Refreshing the data")',
    );
  }
}

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
 * Once an answer is sent, the rest of its request's body is read and dropped, so the client finishes sending
 * and reads the answer, and the connection stays usable. A client that keeps sending is cut by the request
 * timeout (TETHER_HTTP_REQUEST_TIMEOUT_MS).
 */
function drainAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.once("finish", () => {
    if (req.readableEnded || req.destroyed) return;
    // whoever was reading (the handler's body stream) is done: the answer is out
    req.removeAllListeners("data");
    req.on("data", () => {});
    req.resume();
  });
}

/**
 * The last line of defence of a serving process: a connection error that escapes the driver (postgres.js
 * has thrown from a timer when PostgreSQL dropped its connections under load) is logged and survived, since
 * the pool reconnects by itself; anything else still ends the process, as Node would.
 */
export function guardDriverFaults(logger: Logger): void {
  const driverFault = (err: unknown) =>
    isDatabaseUnavailable(err) ||
    (err instanceof Error && /[\\/]node_modules[\\/]postgres[\\/]/.test(err.stack ?? ""));
  process.on("uncaughtException", (err) => {
    if (driverFault(err)) {
      logger.error({ code: errorCode(err), message: err.message }, "database driver fault survived");
      return;
    }
    logger.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    if (driverFault(err)) {
      logger.error({ code: errorCode(err) }, "database driver fault survived");
      return;
    }
    logger.fatal({ err }, "unhandled rejection");
    process.exit(1);
  });
}

/**
 * Parse env → open db → migrate → bootstrap → serve: the only place that starts things. A worker of a
 * cluster skips the preparation, which its primary did (src/cluster.ts).
 */
export async function startServer(env: Env, options: { prepare?: boolean } = {}): Promise<Running> {
  const logger = createLogger(env);
  const database = await openDatabase(env);
  try {
    await waitForDatabase(database, env.TETHER_DB_WAIT_SECONDS, (line) => logger.warn(line));
    if (options.prepare ?? true) await prepareDatabase(env, database);
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
  const enricher = await loadEnricher(env.TETHER_ENRICHMENT_DIR);
  warnOfStaleData(enricher, systemClock.now(), logger);
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
  // Sends what the outbox owes, including messages a previous process committed but never delivered.
  const pepper = await loadPepper(database.db, env.TETHER_TOKEN_PEPPER);
  const deliverer = startDeliverer({
    ctx: { db: database.db, clock: systemClock, logger, pepperKey: pepper.key },
    options: {
      ...DEFAULT_DELIVERY,
      onAttempt: (kind, outcome) => base.metrics.notificationDeliveries.inc({ channel: kind, outcome }),
    },
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        // @hono/node-server drains the unread body of an early answer (401, 413) for 0.5 s, then destroys the
        // socket: a client still sending gets ECONNRESET/EPIPE and cannot tell whether its batch was taken.
        // drainAfterAnswer reads the rest instead, bounded by the request timeout.
        autoCleanupIncoming: false,
        port: env.PORT,
        hostname: env.HOST,
        serverOptions: {
          // A client that sends its headers or body too slowly is cut after these (Node's defaults hold a
          // slow body for 300 s); the check runs every second instead of every 30 s.
          headersTimeout: env.TETHER_HTTP_HEADERS_TIMEOUT_MS,
          requestTimeout: env.TETHER_HTTP_REQUEST_TIMEOUT_MS,
          connectionsCheckingInterval: 1_000,
          // Longer than a proxy's or an agent's idle timeout (typically 60 s): the client, not the server,
          // closes an idle connection, so no request is ever sent on a connection the server is closing.
          keepAliveTimeout: env.TETHER_HTTP_KEEP_ALIVE_TIMEOUT_MS,
        },
      },
      () => resolve(s),
    );
  });
  (server as Server).on("request", drainAfterAnswer);
  (server as Server).on("clientError", answerClientError);
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
      await deliverer.stop();
      await closed;
      await database.close();
      logger.info("tether stopped");
    },
  };
}
