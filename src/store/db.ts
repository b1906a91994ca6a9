import { mkdir } from "node:fs/promises";
import { Socket, type SocketConstructorOpts } from "node:net";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { type Logger, type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "../../db/schema/index.ts";
import { DatabaseTimeout, errorCode, isDatabaseUnavailable } from "../errors.ts";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { pgliteRunner, postgresRunner, type Runner, type RunnerObserver } from "./runner.ts";

export type Schema = typeof schema;
/** A database or a transaction: every query function takes one of these first. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  /** the hot path's prepared, pipelined statements on the same database */
  runner: Runner;
  kind: "pglite" | "postgres";
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../db/migrations", import.meta.url));
const MIGRATION_LOCK = 7_270_701;

/** Rows of a raw statement, whichever driver ran it (postgres.js answers an array, PGlite `{ rows }`). */
export async function rows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

export interface OpenOptions {
  /** sees every statement drizzle sends */
  logger?: Logger;
  /** sees every round trip of the hot path (tests count them) */
  observer?: RunnerObserver;
  /** sees each PostgreSQL connection's socket once connected (tests count what crosses the wire) */
  onSocket?: (socket: Socket) => void;
}

/**
 * postgres.js pipelines queries on a connection only while its socket accepts writes without backpressure;
 * past Node's default 16 KiB high-water mark it sends the rest of a pipeline one query per round trip. An
 * ingest pipeline carries up to ~1 MiB of JSON, so its sockets get a high-water mark above that.
 */
const PIPELINE_WRITE_BUFFER = 16 * 1024 * 1024;

function pipelineSocket(
  options: { host: string[]; port: number[]; path?: string | false },
  onSocket?: (socket: Socket) => void,
): Socket {
  // net.Socket passes stream options through to its Duplex; its type omits them.
  const socket = new Socket({ writableHighWaterMark: PIPELINE_WRITE_BUFFER } as SocketConstructorOpts);
  // Handed over while still connecting: the socket buffers the start-up message meanwhile, and a refused or
  // timed-out connection then reaches the driver as 'error' and 'close', which return the connection to its
  // pool. (A rejected socket promise leaves the driver's connection stuck in "connecting" for good.)
  socket.once("connect", () => onSocket?.(socket));
  if (options.path) socket.connect(options.path);
  else socket.connect(options.port[0] ?? 5432, options.host[0] ?? "localhost");
  return socket;
}

/** How long the server's PostgreSQL sessions may wait for anything. */
export interface PostgresTimeouts {
  statementMs: number;
  lockMs: number;
  idleInTransactionMs: number;
  connectSeconds: number;
  idleSeconds: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  statementMs: 5_000,
  lockMs: 3_000,
  idleInTransactionMs: 10_000,
  connectSeconds: 5,
  idleSeconds: 60,
};

export function openPostgres(
  url: string,
  options: OpenOptions & { max?: number; timeouts?: PostgresTimeouts } = {},
): Database {
  // prepare: the hot path's statements are prepared once per connection (drizzle's own stay unnamed).
  const tls = /[?&]ssl(mode)?=/.test(url);
  const timeouts = options.timeouts ?? DEFAULT_POSTGRES_TIMEOUTS;
  const client = postgres(url, {
    max: options.max ?? 10,
    prepare: true,
    onnotice: () => {},
    connect_timeout: timeouts.connectSeconds,
    // The driver's default backoff grows with every failed connect of the outage, up to 20 s, so service
    // resumed up to 20 s after the database did; at most a second between tries per connection is cheap.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    idle_timeout: timeouts.idleSeconds,
    connection: {
      application_name: "tether",
      // JIT compiles a plan's expressions at every execution, and a cached generic plan over events' partitions
      // is estimated far above jit_above_cost: each idempotency lookup then spent 0.15–4 s compiling code it
      // ran for 1 ms. tether's statements are short OLTP reads and writes, so its sessions run without JIT.
      jit: "off",
      // A stuck statement, a lock held by someone else, or a transaction whose client went away end within
      // seconds as errors (answered 503) instead of holding a connection of the pool.
      statement_timeout: timeouts.statementMs,
      lock_timeout: timeouts.lockMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    },
    // TLS connections keep the driver's own socket (it wraps it itself).
    ...(tls
      ? {}
      : {
          socket: ((o: Parameters<typeof pipelineSocket>[0]) => pipelineSocket(o, options.onSocket)) as never,
        }),
  });
  const db = drizzlePostgres(client, { schema, logger: options.logger }) as unknown as Db;
  return {
    db,
    runner: postgresRunner(client, options.observer),
    kind: "postgres",
    async migrate() {
      // Several servers may start at once against one database: one migrates, the others wait. A
      // one-connection client keeps the session-level advisory lock and the migration on the same session.
      const conn = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: timeouts.connectSeconds });
      try {
        await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
        await migratePostgres(drizzlePostgres(conn), { migrationsFolder: MIGRATIONS_DIR });
        await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`;
      } finally {
        await conn.end({ timeout: 5 });
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

export async function openPglite(
  options: OpenOptions & { dataDir?: string; loadDataDir?: Blob } = {},
): Promise<Database> {
  let lock: DataDirLock | undefined;
  if (options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    lock = lockDataDir(options.dataDir);
  }
  let client: PGlite;
  try {
    client = await PGlite.create({ dataDir: options.dataDir, loadDataDir: options.loadDataDir });
  } catch (err) {
    lock?.release();
    throw err;
  }
  const db = drizzlePglite(client, { schema, logger: options.logger }) as unknown as Db;
  return {
    db,
    runner: pgliteRunner(client, options.observer),
    kind: "pglite",
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_DIR }),
    async close() {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

export async function openDatabase(config: {
  DATABASE_URL?: string;
  TETHER_DATA_DIR: string;
  TETHER_DB_STATEMENT_TIMEOUT_MS?: number;
  TETHER_DB_LOCK_TIMEOUT_MS?: number;
  TETHER_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number;
  TETHER_DB_CONNECT_TIMEOUT_SECONDS?: number;
  TETHER_DB_IDLE_TIMEOUT_SECONDS?: number;
}): Promise<Database> {
  const d = DEFAULT_POSTGRES_TIMEOUTS;
  return config.DATABASE_URL
    ? openPostgres(config.DATABASE_URL, {
        timeouts: {
          statementMs: config.TETHER_DB_STATEMENT_TIMEOUT_MS ?? d.statementMs,
          lockMs: config.TETHER_DB_LOCK_TIMEOUT_MS ?? d.lockMs,
          idleInTransactionMs: config.TETHER_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? d.idleInTransactionMs,
          connectSeconds: config.TETHER_DB_CONNECT_TIMEOUT_SECONDS ?? d.connectSeconds,
          idleSeconds: config.TETHER_DB_IDLE_TIMEOUT_SECONDS ?? d.idleSeconds,
        },
      })
    : openPglite({ dataDir: config.TETHER_DATA_DIR });
}

/** A one-row probe that gives up after `ms`: a frozen database must not hold the caller. */
export async function probe(database: Database, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseTimeout(`the database did not answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([database.db.execute(sql`select 1`), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** Start-up could not reach the database within TETHER_DB_WAIT_SECONDS. */
export class DatabaseWaitError extends Error {}

/**
 * Waits for the database at start-up: retries every second while it is unreachable, saying so once in one
 * line, and gives up after `seconds` with a message naming the cause. Other errors (a wrong password, a
 * missing database) are not waited for.
 */
export async function waitForDatabase(
  database: Database,
  seconds: number,
  say: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let told = false;
  for (;;) {
    try {
      await probe(database, 5_000);
      if (told) say("database reachable; starting");
      return;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const code = errorCode(err) ?? "unreachable";
      if (Date.now() >= deadline) {
        throw new DatabaseWaitError(
          `cannot reach the database (${code}) after ${seconds} s; start PostgreSQL or check DATABASE_URL, or wait longer with TETHER_DB_WAIT_SECONDS`,
        );
      }
      if (!told)
        say(`database unreachable (${code}); retrying for up to ${seconds} s (TETHER_DB_WAIT_SECONDS)`);
      told = true;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
