import { type ServerType, serve } from "@hono/node-server";
import pino from "pino";
import { createApp } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { systemClock } from "./clock.ts";
import { createEnricher } from "./domain/enrich/index.ts";
import type { Env } from "./env.ts";
import { createMetrics } from "./http/metrics.ts";
import { openDatabase } from "./store/db.ts";

export interface Running {
  port: number;
  stop(): Promise<void>;
}

/** Parse env → open db → migrate → bootstrap → serve: the only place that starts things. */
export async function startServer(env: Env): Promise<Running> {
  const logger = pino({ level: env.TETHER_LOG_LEVEL, base: { service: "tether" } });
  const database = await openDatabase(env);
  await database.migrate();
  const boot = await bootstrap(database.db, env.TETHER_BOOTSTRAP_TOKEN, systemClock.now());
  if (boot?.generated) {
    // Printed once, to the terminal only: it is stored as a hash and cannot be shown again.
    process.stdout.write(
      `\nCreated workspace "default". Admin token (shown once, keep it safe):\n\n  ${boot.secret}\n\n` +
        `已创建工作区 "default"。管理员令牌（仅显示一次，请妥善保存）见上。\n\n`,
    );
  }
  const enricher = await createEnricher();
  const app = createApp({ database, env, clock: systemClock, logger, enricher, metrics: createMetrics() });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  logger.info({ host: env.HOST, port, database: database.kind }, "tether listening");
  return {
    port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
      logger.info("tether stopped");
    },
  };
}
