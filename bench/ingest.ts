/**
 * Ingest throughput of a real tether server (child process, real HTTP), against the raw ceiling of plain
 * multi-row INSERTs of the same rows. PGlite by default; PostgreSQL when DATABASE_URL is set (a scratch
 * database is created on that server and dropped at the end). Prints a Markdown summary to paste.
 *
 *   npm run bench
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import type { EventBody } from "../src/http/events/schemas.ts";
import { mulberry32 } from "../src/prng.ts";
import { type ServerProcess, startServerProcess } from "../src/server-process.ts";
import { openPglite } from "../src/store/db.ts";

const ACCOUNTS = 200;
const ENVIRONMENTS = 20;
const BATCH = 500;
const PHASE1_BATCHES = 40;
const PHASE2_EVENTS = 5_000;
const CLIENTS = 50;
/** Each phase stops issuing requests after this long, whatever is left. */
const PHASE_TIME_LIMIT_MS = 75_000;
const READY_TIMEOUT_MS = 60_000;
const HISTORY_DAYS = 3;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MIB = 1024 * 1024;
/** The tables an event's storage is spread over. */
const STORAGE_TABLES = ["events", "baseline_values", "feature_counts", "alerts"];

/** Real residential ranges whose offline geolocation matches the timezone (see src/demo.ts for more). */
const NETWORKS = [
  { prefix: "73.15", timezone: "America/Los_Angeles", locale: "en-US" }, // Comcast, Sunnyvale CA
  { prefix: "76.102", timezone: "America/Los_Angeles", locale: "en-US" }, // Comcast, Sunnyvale CA
  { prefix: "71.190", timezone: "America/New_York", locale: "en-US" }, // Verizon, Brooklyn NY
  { prefix: "79.192", timezone: "Europe/Berlin", locale: "de-DE" }, // Deutsche Telekom, Düsseldorf
  { prefix: "82.0", timezone: "Europe/London", locale: "en-GB" }, // Virgin Media, Newcastle
];
const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0",
];
const OPERATIONS = ["order_process", "inventory_sync", "message_reply", "publish_listing", "price_change"];

const rng = mulberry32(7);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

// ——— the database under test ———

interface Target {
  kind: "pglite" | "postgres";
  /** environment for the server process */
  serverEnv: Record<string, string>;
  /** a human name with version, filled in once known */
  label: string;
  dataDir: string | null;
  benchUrl: string | null;
  cleanup(): Promise<void>;
}

async function prepareTarget(): Promise<Target> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const dataDir = await mkdtemp(join(tmpdir(), "tether-bench-"));
    return {
      kind: "pglite",
      serverEnv: { TETHER_DATA_DIR: dataDir },
      label: `PGlite ${pgliteVersion()}`,
      dataDir,
      benchUrl: null,
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `tether_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const [{ version } = { version: "?" }] = await admin`select current_setting('server_version') as version`;
  await admin`create database ${admin(name)}`;
  const bench = new URL(url);
  bench.pathname = `/${name}`;
  return {
    kind: "postgres",
    serverEnv: { DATABASE_URL: bench.toString() },
    label: `PostgreSQL ${version}`,
    dataDir: null,
    benchUrl: bench.toString(),
    async cleanup() {
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end({ timeout: 5 });
    },
  };
}

function pgliteVersion(): string {
  const manifest = new URL("../node_modules/@electric-sql/pglite/package.json", import.meta.url);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

// ——— the server ———

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

async function startServer(target: Target, token: string): Promise<ServerProcess> {
  return startServerProcess({
    port: await freePort(),
    readyTimeoutMs: READY_TIMEOUT_MS,
    env: { ...target.serverEnv, TETHER_BOOTSTRAP_TOKEN: token, TETHER_LOG_LEVEL: "warn" },
  });
}

/** Samples the server's resident set from /proc; `take()` returns the peak since the last take. */
function rssSampler(pid: number) {
  let peak = 0;
  const read = () => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      if (kb) peak = Math.max(peak, Number(kb) * 1024);
    } catch {
      // the process is gone
    }
  };
  const timer = setInterval(read, 100);
  return {
    take(): number {
      read();
      const out = peak;
      peak = 0;
      return out;
    },
    stop: () => clearInterval(timer),
  };
}

// ——— the API ———

async function call<T>(base: string, method: string, path: string, token: string, body?: unknown) {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started, json: () => JSON.parse(text) as T };
}

interface Env {
  token: string;
  network: (typeof NETWORKS)[number];
  subnet: string;
  accounts: Array<{ platform: string; ref: string; deviceId: string; userAgent: string }>;
}

/** 200 accounts, 20 environments of 10; an environment's accounts share a group, so sharing it is allowed. */
async function createMatrix(base: string, admin: string): Promise<Env[]> {
  const envs: Env[] = [];
  for (let e = 0; e < ENVIRONMENTS; e += 1) {
    const network = NETWORKS[e % NETWORKS.length]!;
    const members: Env["accounts"] = [];
    const ids: string[] = [];
    for (let k = 0; k < ACCOUNTS / ENVIRONMENTS; k += 1) {
      const n = e * (ACCOUNTS / ENVIRONMENTS) + k;
      const account = {
        platform: n % 3 === 0 ? "amazon" : "tiktok_shop",
        ref: `bench-${String(n).padStart(3, "0")}`,
        deviceId: `dev-${randomBytes(8).toString("hex")}`,
        userAgent: pick(USER_AGENTS),
      };
      const res = await call<{ id: string }>(base, "POST", "/v1/accounts", admin, {
        platform: account.platform,
        ref: account.ref,
        group: `team-${e}`,
      });
      if (res.status !== 201) throw new Error(`POST /v1/accounts: ${res.status} ${res.text}`);
      ids.push(res.json().id);
      members.push(account);
    }
    const res = await call<{ token: string }>(base, "POST", "/v1/environments", admin, {
      name: `bench-env-${e}`,
      account_ids: ids,
    });
    if (res.status !== 201) throw new Error(`POST /v1/environments: ${res.status} ${res.text}`);
    const subnet = `${network.prefix}.${Math.floor(e / NETWORKS.length)}`;
    envs.push({ token: res.json().token, network, subnet, accounts: members });
  }
  return envs;
}

function makeEvent(env: Env, id: string, at: number): EventBody {
  const account = pick(env.accounts);
  const login = rng() < 0.3;
  // Mostly the environment's usual address; now and then a renewal inside its /24.
  const host = rng() < 0.05 ? 100 + Math.floor(rng() * 100) : 10;
  return {
    id,
    type: login ? "login" : "operation",
    occurred_at: new Date(at).toISOString(),
    account: { platform: account.platform, ref: account.ref },
    operator: `op-${account.ref}`,
    ...(login ? {} : { operation: pick(OPERATIONS) }),
    ...(rng() < 0.02 ? { result: { status: "error" as const, code: "rate_limited", http_status: 429 } } : {}),
    env: {
      ip: `${env.subnet}.${host}`,
      device_id: account.deviceId,
      user_agent: account.userAgent,
      timezone: env.network.timezone,
      locale: env.network.locale,
    },
  };
}

/** 40 batches: each environment sends two, the first and second half of the history, in time order. */
function phase1Batches(envs: Env[], now: number): Array<{ token: string; events: EventBody[] }> {
  const start = now - HISTORY_DAYS * 24 * HOUR;
  const half = (HISTORY_DAYS * 24 * HOUR - 2 * HOUR) / 2;
  return Array.from({ length: PHASE1_BATCHES }, (_, b) => {
    const env = envs[b % envs.length]!;
    const from = start + Math.floor(b / envs.length) * half;
    const events = Array.from({ length: BATCH }, (_, k) =>
      makeEvent(env, `p1-${b}-${k}`, from + ((k + rng()) / BATCH) * half),
    );
    return { token: env.token, events };
  });
}

// ——— the phases ———

interface PhaseResult {
  name: string;
  requests: number;
  events: number;
  errors: number;
  firstError: string | null;
  /** the phase hit its time limit before sending everything */
  cut: boolean;
  seconds: number;
  p50: number;
  p99: number;
  rss: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}

async function runPhase(
  name: string,
  rss: ReturnType<typeof rssSampler>,
  work: (
    record: (r: { status: number; ms: number; text: string }, events: number) => void,
  ) => Promise<boolean>,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  const result = { name, requests: 0, events: 0, errors: 0, firstError: null as string | null };
  rss.take();
  const started = performance.now();
  const cut = await work((r, events) => {
    result.requests += 1;
    latencies.push(r.ms);
    if (r.status === 202) result.events += events;
    else {
      result.errors += 1;
      result.firstError ??= `${r.status} ${r.text.slice(0, 300)}`;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ...result,
    cut,
    seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    rss: rss.take(),
  };
}

async function phase1(base: string, envs: Env[], rss: ReturnType<typeof rssSampler>) {
  const batches = phase1Batches(envs, Date.now());
  return runPhase(`1: batches of ${BATCH}, sequential`, rss, async (record) => {
    const deadline = performance.now() + PHASE_TIME_LIMIT_MS;
    for (const { token, events } of batches) {
      if (performance.now() > deadline) return true;
      record(await call(base, "POST", "/v1/events", token, { events }), events.length);
    }
    return false;
  });
}

/** Live traffic: single events of the last 90 minutes, from 50 agents at once. */
async function phase2(base: string, envs: Env[], rss: ReturnType<typeof rssSampler>) {
  const now = Date.now();
  const events = Array.from({ length: PHASE2_EVENTS }, (_, i) => {
    const env = envs[i % envs.length]!;
    return { token: env.token, event: makeEvent(env, `p2-${i}`, now - rng() * 90 * MINUTE) };
  });
  return runPhase(`2: single events, ${CLIENTS} clients`, rss, async (record) => {
    const deadline = performance.now() + PHASE_TIME_LIMIT_MS;
    let next = 0;
    const client = async () => {
      while (next < events.length && performance.now() < deadline) {
        const { token, event } = events[next++]!;
        record(await call(base, "POST", "/v1/events", token, event), 1);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    return next < events.length;
  });
}

// ——— storage and the raw ceiling ———

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await lstat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return total;
}

type Row = Record<string, unknown>;

interface Storage {
  /** the PostgreSQL version the rows were stored by */
  version: string;
  bytesPerEvent: number;
  how: string;
  rows: Row[];
}

const sizeQuery = `select ${STORAGE_TABLES.map((t) => `pg_total_relation_size('${t}')`).join(" + ")} as bytes,
  current_setting('server_version') as version`;

/** PostgreSQL: relation sizes through a connection of our own, and the stored rows for the raw ceiling. */
async function postgresStorage(url: string): Promise<Storage> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [size] = await sql.unsafe(sizeQuery);
    const rows = await sql`select * from events order by received_at, id`;
    return {
      version: String(size?.version),
      bytesPerEvent: Number(size?.bytes) / rows.length,
      how: `pg_total_relation_size(${STORAGE_TABLES.join(" + ")}) / events`,
      rows: [...rows],
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** PGlite: growth of the data dir once the server has closed it; the rows are read back from it. */
async function pgliteStorage(dataDir: string, before: number, events: number): Promise<Storage> {
  const grown = (await dirBytes(dataDir)) - before;
  const db = await PGlite.create({ dataDir });
  try {
    const rows = (await db.query<Row>("select * from events order by received_at, id")).rows;
    const [size] = (await db.query<{ bytes: number; version: string }>(sizeQuery)).rows;
    return {
      version: String(size?.version),
      bytesPerEvent: grown / events,
      how: `data dir growth / events (tables alone: ${fmt(Number(size?.bytes) / rows.length)} B/event)`,
      rows,
    };
  } finally {
    await db.close();
  }
}

interface Raw {
  rowsPerSecond: number;
  how: string;
}

const JSONB_COLUMNS = new Set(["attributes", "findings"]);

async function rawPostgres(url: string, rows: Row[]): Promise<Raw> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`create table bench_raw_events (like events including defaults)`;
    const values = rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, JSONB_COLUMNS.has(k) && v !== null ? sql.json(v as never) : v]),
      ),
    );
    const started = performance.now();
    for (let i = 0; i < values.length; i += BATCH) {
      await sql`insert into bench_raw_events ${sql(values.slice(i, i + BATCH))}`;
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      rowsPerSecond: rows.length / seconds,
      how: `postgres.js multi-row INSERT of ${BATCH} rows into a scratch copy of events (no indexes), same database`,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The server holds the data dir while it runs, so the ceiling is measured on a PGlite of our own, in memory. */
async function rawPglite(rows: Row[]): Promise<Raw> {
  const database = await openPglite();
  try {
    await database.migrate();
    const db = (database.db as unknown as { $client: PGlite }).$client;
    await db.exec("create table bench_raw_events (like events including defaults)");
    const columns = Object.keys(rows[0] ?? {});
    const started = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) {
      const batch = rows.slice(i, i + BATCH);
      const tuples = batch.map(
        (_, j) => `(${columns.map((__, c) => `$${j * columns.length + c + 1}`).join(", ")})`,
      );
      await db.query(
        `insert into bench_raw_events (${columns.join(", ")}) values ${tuples.join(", ")}`,
        batch.flatMap((r) => columns.map((c) => r[c])),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      rowsPerSecond: rows.length / seconds,
      how: `separate in-process PGlite in memory (the server holds the data dir): multi-row INSERT of ${BATCH} rows, no indexes`,
    };
  } finally {
    await database.close();
  }
}

// ——— the report ———

function printPhase(p: PhaseResult): void {
  console.log(`phase ${p.name}`);
  console.log(
    `  ${fmt(p.events)} events in ${fmt(p.requests)} requests, ${fmt(p.seconds, 1)} s → ${fmt(p.events / p.seconds)} events/s`,
  );
  console.log(`  request latency p50 ${fmt(p.p50, 1)} ms, p99 ${fmt(p.p99, 1)} ms`);
  console.log(`  server RSS max ${fmt(p.rss / MIB)} MiB`);
  if (p.errors > 0) console.log(`  ${p.errors} requests failed; first: ${p.firstError}`);
  if (p.cut) console.log(`  stopped at the ${PHASE_TIME_LIMIT_MS / 1000} s limit before sending everything`);
}

function summary(target: Target, phases: PhaseResult[], storage: Storage, raw: Raw): string {
  const cpu = cpus();
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const lines = [
    `**tether ingest bench** — ${target.label} · Node ${process.version} · ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}) · ${ACCOUNTS} accounts, ${ENVIRONMENTS} environments`,
    "",
    row(["phase", "requests", "events", "events/s", "p50 ms", "p99 ms", "server RSS max", "vs raw"]),
    row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ...phases.map((p) =>
      row([
        p.name +
          (p.errors > 0 ? ` (${p.errors} failed)` : "") +
          (p.cut ? ` (cut at ${PHASE_TIME_LIMIT_MS / 1000} s)` : ""),
        fmt(p.requests),
        fmt(p.events),
        fmt(p.events / p.seconds),
        fmt(p.p50, 1),
        fmt(p.p99, 1),
        `${fmt(p.rss / MIB)} MiB`,
        `${fmt((100 * p.events) / p.seconds / raw.rowsPerSecond, 1)} %`,
      ]),
    ),
    row([
      `raw ceiling: INSERT ${BATCH} rows`,
      fmt(Math.ceil(storage.rows.length / BATCH)),
      fmt(storage.rows.length),
      fmt(raw.rowsPerSecond),
      "–",
      "–",
      "–",
      "100 %",
    ]),
    "",
    `Storage: ${fmt(storage.bytesPerEvent)} bytes per event (${storage.how}).`,
    `Raw ceiling: ${raw.how}.`,
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const target = await prepareTarget();
  const admin = `ttu_bench_${randomBytes(24).toString("base64url")}`;
  let server: ServerProcess | null = null;
  try {
    console.log(
      `tether ingest bench on ${target.label}: ${target.dataDir ?? `scratch database ${new URL(target.benchUrl!).pathname.slice(1)}`}`,
    );
    server = await startServer(target, admin);
    const pid = server.child.pid!;
    const rss = rssSampler(pid);
    const before = target.dataDir ? await dirBytes(target.dataDir) : 0;
    console.log(`server pid ${pid} ready; creating ${ACCOUNTS} accounts and ${ENVIRONMENTS} environments`);
    const envs = await createMatrix(server.base, admin);

    const phases = [await phase1(server.base, envs, rss)];
    printPhase(phases[0]!);
    phases.push(await phase2(server.base, envs, rss));
    printPhase(phases[1]!);
    rss.stop();
    await server.stop();
    server = null;

    const accepted = phases.reduce((n, p) => n + p.events, 0);
    const storage = target.benchUrl
      ? await postgresStorage(target.benchUrl)
      : await pgliteStorage(target.dataDir!, before, accepted);
    if (target.kind === "pglite") target.label += ` (PostgreSQL ${storage.version}, WASM)`;
    console.log(`storage: ${fmt(storage.bytesPerEvent)} bytes per event (${storage.how})`);
    const raw = target.benchUrl
      ? await rawPostgres(target.benchUrl, storage.rows)
      : await rawPglite(storage.rows);
    console.log(`raw ceiling: ${fmt(raw.rowsPerSecond)} rows/s — ${raw.how}`);
    for (const p of phases)
      console.log(
        `  tether/raw, phase ${p.name}: ${fmt((100 * p.events) / p.seconds / raw.rowsPerSecond, 1)} %`,
      );
    console.log(`\n${summary(target, phases, storage, raw)}`);
  } finally {
    if (server) await server.stop();
    await target.cleanup();
  }
}

await main();
