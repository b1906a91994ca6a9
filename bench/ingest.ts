/**
 * Ingest bench: a real tether server (child process, real HTTP on 127.0.0.1) against the raw ceilings of its
 * database, judged against the targets of issue 7. PGlite by default; PostgreSQL when DATABASE_URL is set (a
 * scratch database is created on that server and dropped at the end). Server, load generator and database
 * share the machine; the ceilings are measured in the same run, once the server has stopped.
 *
 *   npm run bench                                   # 100,000 events of history
 *   npm run bench -- --history 1000000
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench
 *   TETHER_WORKERS=2 npm run bench                  # passed to the server as is
 *
 * Phases, in order:
 *   history  N events in batches of 500 from several clients, over the last 80 days, in time order; the
 *            ingest rate of each fifth (target 3), then the server's RSS per process (target 4)
 *   batches  recent backlog in batches of 500 (target 1, against multi-row INSERTs at the same concurrency)
 *   single   live events, one per request, from 50 clients (target 2, against single-row INSERTs)
 * then, server stopped: storage per event (target 5), the two ceilings. Results go to stdout and to
 * bench/results/<date>-<pglite|postgres>.json.
 */

import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { type ServerProcess, startServerProcess } from "../src/server-process.ts";
import { agentStartFigures } from "./agent-start.ts";
import { type Ceiling, measureCeilings } from "./ceilings.ts";
import { Api, jobsOf, type PhaseStats, runPhase } from "./load.ts";
import { describePhase, fifths, judge, summary, writeResults } from "./report.ts";
import {
  childrenOf,
  descendantsOf,
  describeRss,
  maxRss,
  type ProcessRss,
  processTreeRss,
  reap,
  rssSampler,
} from "./rss.ts";
import { dirBytes, measureStorage, prepareTarget, type Storage, type Target } from "./target.ts";
import {
  ACCOUNTS,
  BATCH,
  batchPhaseJobs,
  createMatrix,
  ENVIRONMENTS,
  historyJobs,
  singleJobs,
} from "./traffic.ts";
import { fmt, MIB, withTimeLimit } from "./util.ts";

const USAGE = `usage: npm run bench -- [options]

  --history N          events of history to build first (default 100000; 0 skips it, else ≥ ${5 * BATCH})
  --history-seconds S  time limit of the history phase (default max(300, N / 400))
  --batches N          batches of ${BATCH} in the batch phase (default 100)
  --batch-clients N    concurrent clients of the history and batch phases, and connections of the
                       multi-row ceiling (default 4)
  --singles N          single events in the single-event phase (default 20000)
  --clients N          concurrent clients of the single-event phase, and connections of the
                       single-row ceiling (default 50)
  --phase-seconds S    time limit of the batch and single-event phases (default 60)
  --ceiling-seconds S  time limit of each ceiling (default 20)
  --check              exit with status 1 when a target is missed
`;

const READY_TIMEOUT_MS = 60_000;
const SETUP_LIMIT_MS = 180_000;
const STORAGE_LIMIT_MS = 300_000;
/** Rows each ceiling inserts at most (within its time limit). */
const MULTI_CEILING_ROWS = 200_000;
const SINGLE_CEILING_ROWS = 40_000;

interface Options {
  history: number;
  historySeconds: number;
  batches: number;
  batchClients: number;
  singles: number;
  clients: number;
  phaseSeconds: number;
  ceilingSeconds: number;
  check: boolean;
}

const parseCommandLine = () =>
  parseArgs({
    options: {
      history: { type: "string", default: "100000" },
      "history-seconds": { type: "string" },
      batches: { type: "string", default: "100" },
      "batch-clients": { type: "string", default: "4" },
      singles: { type: "string", default: "20000" },
      clients: { type: "string", default: "50" },
      "phase-seconds": { type: "string", default: "60" },
      "ceiling-seconds": { type: "string", default: "20" },
      check: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });

class UsageError extends Error {}

function parseOptions(): Options | null {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) return null;
  const count = (name: string, value: string, min: number) => {
    const n = Number(value.replaceAll("_", ""));
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${name} must be an integer ≥ ${min}, not ${value}`);
    return n;
  };
  const history = count("history", values.history, 0);
  if (history > 0 && history < 5 * BATCH) {
    throw new UsageError(`--history must be 0 or at least ${5 * BATCH}: a batch of ${BATCH} for each fifth`);
  }
  return {
    history,
    historySeconds: values["history-seconds"]
      ? count("history-seconds", values["history-seconds"], 1)
      : Math.max(300, Math.ceil(history / 400)),
    batches: count("batches", values.batches, 1),
    batchClients: count("batch-clients", values["batch-clients"], 1),
    singles: count("singles", values.singles, 1),
    clients: count("clients", values.clients, 1),
    phaseSeconds: count("phase-seconds", values["phase-seconds"], 1),
    ceilingSeconds: count("ceiling-seconds", values["ceiling-seconds"], 1),
    check: values.check,
  };
}

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

/** SIGTERM to the processes this one started (the server, tsx's esbuild), by pid; then `reap` them all. */
async function stopChildren(): Promise<void> {
  const tree = descendantsOf(process.pid);
  for (const pid of childrenOf(process.pid)) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  await reap(tree, 15_000);
}

/** Set on Ctrl-C: what fails after it fails because of it. */
let interrupted = false;

interface ServerRun {
  history: PhaseStats | null;
  batch: PhaseStats;
  single: PhaseStats;
  rss: { afterHistory: ProcessRss[]; end: ProcessRss[]; peak: ProcessRss[] };
  /** PGlite: the data dir's size once the matrix exists, before the events */
  dataDirBefore: number;
  /** how the server ended on SIGTERM: 0 when it shut down cleanly */
  exitCode: number | null;
}

/** The server's last few lines of output, cut short (a logged error carries its whole stack). */
const tail = (server: ServerProcess) =>
  server.tail
    .slice(-5)
    .map((line) => `\n  ${line.length > 400 ? `${line.slice(0, 400)}…` : line}`)
    .join("");

/** Starts the server, runs the three phases against it, stops it. */
async function runServer(target: Target, options: Options, workers: string | undefined): Promise<ServerRun> {
  const admin = `ttu_bench_${randomBytes(24).toString("base64url")}`;
  const server: ServerProcess = await startServerProcess({
    port: await freePort(),
    readyTimeoutMs: READY_TIMEOUT_MS,
    env: {
      ...target.serverEnv,
      TETHER_BOOTSTRAP_TOKEN: admin,
      TETHER_LOG_LEVEL: "warn",
      ...(workers ? { TETHER_WORKERS: workers } : {}),
    },
  });
  const pid = server.child.pid!;
  const sampler = rssSampler(pid);
  const api = new Api(server.base, Math.max(options.clients, options.batchClients) + 2);
  const stop = async () => {
    sampler.stop();
    api.close();
    const tree = descendantsOf(pid);
    const asked = performance.now();
    const exitCode = await server.stop(); // SIGTERM, then SIGKILL after 15 s
    const seconds = (performance.now() - asked) / 1000;
    if (exitCode !== 0) {
      const how = exitCode === null ? `signal ${server.child.signalCode}` : `code ${exitCode}`;
      console.log(
        `the server did not exit cleanly on SIGTERM: ${how} after ${fmt(seconds, 1)} s${tail(server)}`,
      );
    }
    const killed = await reap(tree, 5_000);
    if (killed.length > 0)
      console.log(`processes left running after the server exited, killed: ${killed.join(", ")}`);
    return exitCode;
  };
  try {
    console.log(`server pid ${pid} ready; creating ${ACCOUNTS} accounts and ${ENVIRONMENTS} environments`);
    const stations = await withTimeLimit("creating the matrix", SETUP_LIMIT_MS, () =>
      createMatrix(api, admin),
    );
    const dataDirBefore = target.dataDir ? await dirBytes(target.dataDir) : 0;

    let history: PhaseStats | null = null;
    if (options.history > 0) {
      console.log(
        `history: ${fmt(options.history)} events in batches of ${BATCH} from ${options.batchClients} clients (limit ${options.historySeconds} s)`,
      );
      let reported = 0;
      let last: [number, number] = [0, 0];
      history = await runPhase(api, `history, batches of ${BATCH}`, {
        clients: options.batchClients,
        limitMs: options.historySeconds * 1000,
        next: historyJobs(stations, options.history, Date.now()),
        onAnswer: (s) => {
          // Each fifth's rate as it completes, so a long run shows how it goes.
          const point = s.timeline.at(-1)!;
          if (point[1] < Math.ceil(((reported + 1) * options.history) / 5)) return;
          while (point[1] >= Math.ceil(((reported + 1) * options.history) / 5)) reported += 1;
          const rate = (point[1] - last[1]) / (point[0] - last[0]);
          console.log(
            `  fifth ${reported}: ${fmt(point[1])} events at ${fmt(point[0], 1)} s, ${fmt(rate)} ev/s`,
          );
          last = point;
        },
      });
      console.log(describePhase(history));
    }
    const afterHistory = processTreeRss(pid);
    console.log(`server RSS after the history: ${describeRss(afterHistory)}`);

    const now = Date.now();
    const batch = await runPhase(api, `batches of ${BATCH}`, {
      clients: options.batchClients,
      limitMs: options.phaseSeconds * 1000,
      next: jobsOf(batchPhaseJobs(stations, options.batches, now)),
    });
    console.log(describePhase(batch));
    const single = await runPhase(api, "single events", {
      clients: options.clients,
      limitMs: options.phaseSeconds * 1000,
      next: jobsOf(singleJobs(stations, options.singles, now)),
    });
    console.log(describePhase(single));

    if ([history, batch, single].some((p) => p && p.errors > 0) && server.tail.length > 0) {
      console.log(`the server's last lines:${tail(server)}`);
    }
    const end = processTreeRss(pid);
    const peak = sampler.take();
    console.log(`server RSS at the end: ${describeRss(end)}; peak ${fmt(maxRss(peak) / MIB)} MiB`);
    const exitCode = await stop();
    return { history, batch, single, rss: { afterHistory, end, peak }, dataDirBefore, exitCode };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Once the server has stopped, its data is ours: storage per event, then the raw ceilings beside it. */
async function measureDatabase(
  target: Target,
  options: Options,
): Promise<{ storage: Storage; ceilings: { multi: Ceiling; single: Ceiling } | null }> {
  const db = await target.open(Math.max(options.clients, options.batchClients));
  try {
    const storage = await withTimeLimit("measuring storage", STORAGE_LIMIT_MS, () => measureStorage(db));
    console.log(
      `storage: ${fmt(storage.bytesPerEvent)} B/event (${fmt(storage.bytes / MIB, 1)} MiB / ${fmt(storage.events)} events)`,
    );
    if (storage.events === 0) {
      console.log("ceilings: not measured, no event was stored to take the rows' width from");
      return { storage, ceilings: null };
    }
    console.log("ceilings…");
    const limitMs = options.ceilingSeconds * 1000;
    const ceilings = await withTimeLimit("measuring the ceilings", 2 * limitMs + SETUP_LIMIT_MS, () =>
      measureCeilings(db, {
        batch: BATCH,
        batchConnections: options.batchClients,
        batchRows: MULTI_CEILING_ROWS,
        singleConnections: options.clients,
        singleRows: SINGLE_CEILING_ROWS,
        limitMs,
      }),
    );
    for (const c of [ceilings.multi, ceilings.single]) {
      console.log(
        `  ${c.name}: ${fmt(c.rows)} rows, ${fmt(c.seconds, 1)} s → ${fmt(c.rowsPerSecond)} rows/s; ` +
          `statement p50 ${fmt(c.p50Ms, 1)} ms, p99 ${fmt(c.p99Ms, 1)} ms`,
      );
    }
    return { storage, ceilings };
  } finally {
    await db.close();
  }
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const workers = process.env.TETHER_WORKERS;
  // Anything else running on the machine competes with the server, the load generator and the database.
  const loadAtStart = loadavg()[0]!;
  const target = await prepareTarget();
  // Ctrl-C: stop the server (even one still starting: a child of ours) and drop the scratch data.
  process.once("SIGINT", () => {
    interrupted = true;
    console.log("\ninterrupted: stopping the server and dropping the scratch data");
    void stopChildren()
      .then(() => target.cleanup())
      .finally(() => process.exit(130));
  });
  try {
    console.log(
      `tether ingest bench on ${target.label} (${target.where}); ${workers ? `TETHER_WORKERS=${workers}` : "TETHER_WORKERS unset"}`,
    );
    if (loadAtStart > cpus().length / 2) {
      console.log(
        `warning: load average ${fmt(loadAtStart, 2)} at start: other processes compete for the CPUs`,
      );
    }
    console.log(agentStartFigures());
    const run = await runServer(target, options, workers);
    const { storage, ceilings } = await measureDatabase(target, options);
    const dataDirGrowthBytes = target.dataDir ? (await dirBytes(target.dataDir)) - run.dataDirBefore : null;

    const cpu = cpus();
    const database =
      target.kind === "pglite" ? `${target.label} (PostgreSQL ${storage.version}, WASM)` : target.label;
    const machine = `Node ${process.version} · ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}) · ${fmt(totalmem() / MIB / 1024)} GiB · load ${fmt(loadAtStart, 2)} at start`;
    const measurements = {
      kind: target.kind,
      setting: `${database} · ${machine} · ${ACCOUNTS} accounts, ${ENVIRONMENTS} environments · ${workers ? `TETHER_WORKERS=${workers}` : "TETHER_WORKERS unset"}`,
      history: {
        requested: options.history,
        phase: run.history,
        fifths: run.history ? fifths(run.history.timeline, options.history) : [],
      },
      batch: run.batch,
      single: run.single,
      ceilings,
      rss: run.rss,
      storage,
      dataDirGrowthBytes,
    };
    const figures = judge(measurements);
    console.log(`\n${summary(measurements, figures)}`);

    const withoutTimeline = (p: PhaseStats | null) => {
      if (!p) return null;
      const { timeline: _, ...rest } = p;
      return rest;
    };
    const file = await writeResults(target.kind, {
      date: new Date().toISOString(),
      database,
      machine,
      tetherWorkers: workers ?? null,
      options,
      figures,
      phases: {
        history: withoutTimeline(run.history),
        batch: withoutTimeline(run.batch),
        single: withoutTimeline(run.single),
      },
      historyFifths: measurements.history.fifths,
      ceilings,
      rss: run.rss,
      storage: { ...storage, dataDirGrowthBytes },
      serverExitCode: run.exitCode,
    });
    console.log(`\nresults: ${file}`);
    return options.check && figures.some((f) => f.pass === false) ? 1 : 0;
  } finally {
    await target.cleanup();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  if (interrupted) await new Promise(() => {}); // the interrupt handler exits once it has cleaned up
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
  process.exitCode = 2;
}
