import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Env } from "./env.ts";
import { createLogger, prepareDatabase } from "./main.ts";
import { openDatabase, waitForDatabase } from "./store/db.ts";

/** A worker that dies this soon after starting is broken, not unlucky: the primary stops instead of looping. */
const EARLY_EXIT_MS = 15_000;

/**
 * How many server processes share the port: on PostgreSQL TETHER_WORKERS (default one per core); PGlite
 * owns its data directory from one process, so it is always one.
 */
export function workerCount(env: Env): number {
  if (!env.DATABASE_URL) return 1;
  return env.TETHER_WORKERS ?? availableParallelism();
}

/**
 * The primary of a multi-process server: prepares the database once, forks the workers (node:cluster shares
 * the listening port between them), replaces a worker that dies, and on SIGTERM/SIGINT stops them all,
 * each draining its ingest pipeline first. Resolves with the exit code.
 */
export async function runPrimary(env: Env, workers: number): Promise<number> {
  const logger = createLogger(env);
  const database = await openDatabase(env);
  try {
    await waitForDatabase(database, env.TETHER_DB_WAIT_SECONDS, (line) => logger.warn(line));
    await prepareDatabase(env, database);
  } finally {
    await database.close();
  }
  let stopping = false;
  let failed = false;
  const started = new Map<Worker, number>();
  const fork = () => started.set(cluster.fork(), Date.now());
  const allExited = new Promise<void>((resolve) => {
    cluster.on("exit", (worker, code, signal) => {
      const since = started.get(worker) ?? 0;
      started.delete(worker);
      if (!stopping) {
        if (Date.now() - since < EARLY_EXIT_MS) {
          logger.error({ pid: worker.process.pid, code, signal }, "worker exited while starting; stopping");
          failed = true;
          stop();
        } else {
          logger.error({ pid: worker.process.pid, code, signal }, "worker exited; starting another");
          fork();
        }
      }
      if (started.size === 0) resolve();
    });
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of started.keys()) worker.process.kill("SIGTERM");
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  for (let i = 0; i < workers; i++) fork();
  logger.info({ workers, pid: process.pid }, "tether primary started its workers");
  await allExited;
  logger.info("tether primary stopped");
  return failed ? 1 : 0;
}
