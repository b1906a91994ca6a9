/**
 * The raw ceilings tether is held against: plain INSERTs of rows exactly as wide as the events it stored
 * (a sample of them, read back as text), into a scratch copy of the events table (same columns and defaults,
 * no indexes or constraints), through the same kind of connection as the server's, in the same database.
 *
 *   multi-row: INSERTs of 500 rows, from as many connections as the batch phase had clients
 *   single-row: one row per statement, autocommit, from as many connections as the single-event phase had clients
 *
 * On PGlite there is a single in-process connection: the "connections" are concurrent callers queueing on it,
 * as the server's requests do.
 */
import type { BenchDb } from "./target.ts";
import { percentile } from "./util.ts";

const SAMPLE_ROWS = 20_000;
/** PostgreSQL's limit on the parameters of one statement. */
const MAX_PARAMS = 65_535;

export interface Ceiling {
  name: string;
  rowsPerStatement: number;
  connections: number;
  statements: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** statement latency */
  p50Ms: number;
  p99Ms: number;
  /** stopped at its time limit before inserting all it meant to */
  cut: boolean;
  how: string;
}

interface Column {
  name: string;
  type: string;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The columns an INSERT into events names: all but generated ones. */
async function eventColumns(db: BenchDb): Promise<Column[]> {
  return db.rows<Column>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
      from pg_attribute a
      where a.attrelid = 'public.events'::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      order by a.attnum`,
  );
}

/** Every value as text, cast back to its column's type by the statement: no driver-specific type mapping. */
const placeholders = (columns: Column[], row: number) =>
  `(${columns.map((c, i) => `$${row * columns.length + i + 1}::text::${c.type}`).join(", ")})`;

async function runInserts(
  db: BenchDb,
  options: {
    name: string;
    table: string;
    columns: Column[];
    sample: unknown[][];
    rowsPerStatement: number;
    connections: number;
    rows: number;
    limitMs: number;
  },
): Promise<Ceiling> {
  const { columns, sample, rowsPerStatement: per } = options;
  if (per * columns.length > MAX_PARAMS)
    throw new Error(`${per} rows of ${columns.length} columns: too many parameters`);
  const text = `insert into ${options.table} (${columns.map((c) => ident(c.name)).join(", ")}) values ${Array.from(
    { length: per },
    (_, r) => placeholders(columns, r),
  ).join(", ")}`;
  // The parameters of a few dozen distinct statements, cycled through the sample.
  const distinct = Math.max(1, Math.min(64, Math.floor(sample.length / per)));
  const params = Array.from({ length: distinct }, (_, s) =>
    Array.from({ length: per }, (_, r) => sample[(s * per + r) % sample.length]!).flat(),
  );
  const statements = Math.ceil(options.rows / per);
  const latencies: number[] = [];
  let issued = 0;
  let cut = false;
  await db.connect(options.connections);
  const started = performance.now();
  const deadline = started + options.limitMs;
  const worker = async () => {
    while (issued < statements) {
      if (performance.now() >= deadline) {
        cut = true;
        return;
      }
      const values = params[issued++ % params.length]!;
      const sent = performance.now();
      await db.rows(text, values);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const rows = latencies.length * per;
  return {
    name: options.name,
    rowsPerStatement: per,
    connections: options.connections,
    statements: latencies.length,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cut,
    how: `${db.kind === "pglite" ? "PGlite, on the server's data dir once it stopped" : "postgres.js"}: ${
      per === 1 ? "single-row autocommit INSERTs" : `multi-row INSERTs of ${per} rows`
    } from ${options.connections} ${db.kind === "pglite" ? "concurrent callers" : "connections"}, rows sampled from events (${sample.length}), scratch copy of events without indexes`,
  };
}

export async function measureCeilings(
  db: BenchDb,
  options: {
    batch: number;
    batchConnections: number;
    batchRows: number;
    singleConnections: number;
    singleRows: number;
    limitMs: number;
  },
): Promise<{ multi: Ceiling; single: Ceiling }> {
  const columns = await eventColumns(db);
  if (columns.length === 0) throw new Error("no events table to take the rows' width from");
  const sample = await db.values(
    `select ${columns.map((c) => `${ident(c.name)}::text`).join(", ")} from events limit ${SAMPLE_ROWS}`,
  );
  if (sample.length === 0) throw new Error("no stored events to take the rows from");
  const copy = async (table: string) => {
    await db.rows(`drop table if exists ${table}`);
    await db.rows(`create table ${table} (like events including defaults including generated)`);
  };
  await copy("bench_ceiling_multi");
  await copy("bench_ceiling_single");
  try {
    const multi = await runInserts(db, {
      name: `multi-row INSERT of ${options.batch}, ${options.batchConnections} connections`,
      table: "bench_ceiling_multi",
      columns,
      sample,
      rowsPerStatement: options.batch,
      connections: options.batchConnections,
      rows: options.batchRows,
      limitMs: options.limitMs,
    });
    const single = await runInserts(db, {
      name: `single-row INSERT, autocommit, ${options.singleConnections} connections`,
      table: "bench_ceiling_single",
      columns,
      sample,
      rowsPerStatement: 1,
      connections: options.singleConnections,
      rows: options.singleRows,
      limitMs: options.limitMs,
    });
    return { multi, single };
  } finally {
    await db.rows("drop table if exists bench_ceiling_multi");
    await db.rows("drop table if exists bench_ceiling_single");
  }
}
