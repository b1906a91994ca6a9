import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import type { Enricher } from "../core/enrich/types.ts";
import type { Rule } from "../core/rules/types.ts";
import type { Metrics } from "../metrics.ts";
import type { Db } from "../store/db.ts";
import type { Runner } from "../store/runner.ts";

/** What every service action gets: the database (drizzle and the hot path's runner), time, logs, metrics. */
export interface ServiceContext {
  db: Db;
  runner: Runner;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  enricher: Enricher;
}

/** Ingest's own knobs, from the environment. */
export interface IngestOptions {
  /** baseline values not seen for this many days are not loaded (and are aged out by maintenance) */
  baselineDays: number;
  /** at most this many neighbouring events per account are read for the time-window rules */
  historyPerAccount: number;
  /** the population-count shard this process writes (docs/adr/0007-population-counts.md) */
  shard: number;
  /** the rules judged on every event; all of them unless a test says otherwise */
  rules?: readonly Rule[];
}
