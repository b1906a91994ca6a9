import { mkdir } from "node:fs/promises";
import { Socket, type SocketConstructorOpts } from "node:net";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { Logger, SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "../../db/schema/index.ts";
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
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // net.Socket passes stream options through to its Duplex; its type omits them.
    const socket = new Socket({ writableHighWaterMark: PIPELINE_WRITE_BUFFER } as SocketConstructorOpts);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      onSocket?.(socket);
      resolve(socket);
    });
    if (options.path) socket.connect(options.path);
    else socket.connect(options.port[0] ?? 5432, options.host[0] ?? "localhost");
  });
}

export function openPostgres(url: string, options: OpenOptions & { max?: number } = {}): Database {
  // prepare: the hot path's statements are prepared once per connection (drizzle's own stay unnamed).
  const tls = /[?&]ssl(mode)?=/.test(url);
  const client = postgres(url, {
    max: options.max ?? 10,
    prepare: true,
    onnotice: () => {},
    // JIT compiles a plan's expressions at every execution, and a cached generic plan over events' partitions
    // is estimated far above jit_above_cost: each idempotency lookup then spent 0.15–4 s compiling code it ran
    // for 1 ms. tether's statements are short OLTP reads and writes, so its sessions run without JIT.
    connection: { application_name: "tether", jit: "off" },
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
      const conn = postgres(url, { max: 1, onnotice: () => {} });
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
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir: options.dataDir, loadDataDir: options.loadDataDir });
  const db = drizzlePglite(client, { schema, logger: options.logger }) as unknown as Db;
  return {
    db,
    runner: pgliteRunner(client, options.observer),
    kind: "pglite",
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_DIR }),
    close: () => client.close(),
  };
}

export async function openDatabase(config: {
  DATABASE_URL?: string;
  TETHER_DATA_DIR: string;
}): Promise<Database> {
  return config.DATABASE_URL
    ? openPostgres(config.DATABASE_URL)
    : openPglite({ dataDir: config.TETHER_DATA_DIR });
}
