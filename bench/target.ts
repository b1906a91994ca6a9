/**
 * The database under test: a scratch database on the PostgreSQL server of DATABASE_URL (created here, dropped
 * at the end), or a PGlite data dir in a temp folder. Once the server has stopped, the bench opens it itself
 * to measure storage and the raw ceilings.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";

export type Kind = "pglite" | "postgres";

export interface Target {
  kind: Kind;
  /** environment for the server process */
  serverEnv: Record<string, string>;
  label: string;
  /** where the data lives, for the log */
  where: string;
  dataDir: string | null;
  /** a connection to the scratch data, for the bench itself; open it only while the server is stopped */
  open(connections: number): Promise<BenchDb>;
  cleanup(): Promise<void>;
}

/** The little of a database the bench needs, the same on postgres.js and PGlite. */
export interface BenchDb {
  kind: Kind;
  rows<T>(text: string, params?: unknown[]): Promise<T[]>;
  /** rows as arrays of values, in column order */
  values(text: string, params?: unknown[]): Promise<unknown[][]>;
  /** warm up to `n` connections so a timed run does not pay for opening them */
  connect(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function prepareTarget(): Promise<Target> {
  const url = process.env.DATABASE_URL;
  const target = url ? await preparePostgres(url) : await preparePglite();
  // Once, whoever asks first (the end of the run or an interrupt).
  let cleaned: Promise<void> | null = null;
  const cleanup = target.cleanup;
  target.cleanup = () => {
    cleaned ??= cleanup();
    return cleaned;
  };
  return target;
}

async function preparePglite(): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), "tether-bench-"));
  return {
    kind: "pglite",
    serverEnv: { TETHER_DATA_DIR: dataDir },
    label: `PGlite ${pgliteVersion()}`,
    where: dataDir,
    dataDir,
    open: async () => pgliteDb(await PGlite.create({ dataDir })),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

async function preparePostgres(url: string): Promise<Target> {
  const name = `tether_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const [{ version } = { version: "?" }] = await admin`select current_setting('server_version') as version`;
  const scratch = new URL(url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(scratch.hostname)) {
    await admin.end({ timeout: 5 });
    throw new Error(`the bench only talks to a local PostgreSQL (127.0.0.1), not ${scratch.hostname}`);
  }
  await admin`create database ${admin(name)}`;
  scratch.pathname = `/${name}`;
  return {
    kind: "postgres",
    serverEnv: { DATABASE_URL: scratch.toString() },
    label: `PostgreSQL ${version}`,
    where: `scratch database ${name}`,
    dataDir: null,
    open: async (connections) =>
      postgresDb(postgres(scratch.toString(), { max: connections, onnotice: () => {} })),
    async cleanup() {
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end({ timeout: 5 });
    },
  };
}

function postgresDb(sql: postgres.Sql): BenchDb {
  return {
    kind: "postgres",
    rows: async <T>(text: string, params: unknown[] = []) =>
      [...(await sql.unsafe(text, params as never[], { prepare: true }))] as T[],
    values: async (text, params = []) =>
      [...(await sql.unsafe(text, params as never[], { prepare: true }).values())] as unknown[][],
    async connect(n) {
      await Promise.all(Array.from({ length: n }, () => sql`select pg_sleep(0.05)`));
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

function pgliteDb(db: PGlite): BenchDb {
  return {
    kind: "pglite",
    rows: async <T>(text: string, params: unknown[] = []) => (await db.query<T>(text, params)).rows,
    values: async (text, params = []) => (await db.query<unknown[]>(text, params, { rowMode: "array" })).rows,
    connect: async () => {}, // one in-process connection; concurrent queries queue on it
    close: () => db.close(),
  };
}

function pgliteVersion(): string {
  const manifest = new URL("../node_modules/@electric-sql/pglite/package.json", import.meta.url);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await lstat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return total;
}

// ——— storage ———

export interface Storage {
  /** the PostgreSQL version that stored the rows (PGlite embeds one) */
  version: string;
  events: number;
  bytes: number;
  bytesPerEvent: number;
  /** per table of the public schema, partitions summed into their partitioned table */
  tables: Array<{ table: string; partitions: number; bytes: number }>;
  how: string;
}

/**
 * Every ordinary table of the public schema (relkind 'r', which includes the partitions of a partitioned
 * table; the partitioned parent, relkind 'p', has no storage of its own), with its indexes and TOAST, over
 * the number of events. The bench's own scratch tables are left out.
 */
export async function measureStorage(db: BenchDb): Promise<Storage> {
  const tables = await db.rows<{ table: string; partitions: number; bytes: number }>(
    `select coalesce(p.relname, c.relname) as table,
        count(*) filter (where c.relispartition)::float8 as partitions,
        sum(pg_total_relation_size(c.oid))::float8 as bytes
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_inherits i on c.relispartition and i.inhrelid = c.oid
      left join pg_class p on p.oid = i.inhparent
      where n.nspname = 'public' and c.relkind = 'r' and c.relname not like 'bench\\_%'
      group by 1
      order by 3 desc`,
  );
  const [{ events = 0, version = "?" } = {}] = await db.rows<{ events: number; version: string }>(
    `select (select count(*) from events)::float8 as events, current_setting('server_version') as version`,
  );
  const bytes = tables.reduce((sum, t) => sum + Number(t.bytes), 0);
  return {
    version,
    events: Number(events),
    bytes,
    bytesPerEvent: events > 0 ? bytes / Number(events) : Number.NaN,
    tables: tables.map((t) => ({ table: t.table, partitions: Number(t.partitions), bytes: Number(t.bytes) })),
    how: "sum of pg_total_relation_size over the ordinary tables (relkind 'r', partitions included) of schema public / count(*) from events",
  };
}
