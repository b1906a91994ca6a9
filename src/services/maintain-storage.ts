import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import type { Db } from "../store/db.ts";
import {
  ageOutBaselines,
  dropExpiredEventPartitions,
  ensureEventPartitions,
  listEventPartitions,
  partitionName,
  WEEK_MS,
} from "../store/partitions.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface StorageContext {
  db: Db;
  clock: Clock;
  logger: Logger;
}

export interface StoragePolicy {
  /** events are kept at least this long: a week's partition is dropped once all of it is older */
  retentionDays: number;
  /** a baseline value not seen for this long is forgotten */
  baselineDays: number;
  /** the oldest event ingest accepts: its week must have a partition */
  maxEventAgeDays: number;
  /** weeks of partitions made ahead of now, so ingest rarely has to create one */
  aheadWeeks: number;
}

export interface StorageSummary {
  at: string;
  /** partitions that did not exist when the pass began */
  created: string[];
  dropped: string[];
  baselinesAgedOut: number;
}

/** Refuses a policy that would drop the partitions of events ingest still accepts. */
export function checkStoragePolicy(policy: StoragePolicy): void {
  for (const [key, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${key} must be a number >= 0, not ${value}`);
    }
  }
  if (policy.retentionDays < policy.maxEventAgeDays) {
    throw new RangeError(
      `retentionDays (${policy.retentionDays}) must be at least maxEventAgeDays (${policy.maxEventAgeDays}): ` +
        "an event ingest still accepts needs a partition to live in",
    );
  }
}

/** One maintenance pass: partitions for the weeks ingest may write, expired partitions dropped, stale baselines forgotten. */
export async function maintainStorage({
  ctx,
  input,
}: {
  ctx: StorageContext;
  input: StoragePolicy;
}): Promise<StorageSummary> {
  checkStoragePolicy(input);
  const now = ctx.clock.now().getTime();
  const before = new Set((await listEventPartitions(ctx.db)).map((p) => p.name));
  const weeks = await ensureEventPartitions(
    ctx.db,
    now - input.maxEventAgeDays * DAY_MS,
    now + input.aheadWeeks * WEEK_MS,
  );
  const created = weeks.map(partitionName).filter((name) => !before.has(name));
  const dropped = await dropExpiredEventPartitions(ctx.db, now - input.retentionDays * DAY_MS);
  const baselinesAgedOut = await ageOutBaselines(ctx.db, now - input.baselineDays * DAY_MS);
  const summary = { at: new Date(now).toISOString(), created, dropped, baselinesAgedOut };
  const changed = created.length > 0 || dropped.length > 0 || baselinesAgedOut > 0;
  ctx.logger[changed ? "info" : "debug"](summary, "storage maintenance");
  return summary;
}

export interface StorageMaintenance {
  /** the pass run at start */
  firstPass: Promise<StorageSummary | null>;
  /** stops the timer and waits for a running pass, so the database can be closed after it */
  stop(): Promise<void>;
}

/**
 * Runs a pass now and then every `intervalMs` (an hour) until stopped. Several server processes may each run
 * it: the partition DDL is serialised in the database. A failed pass is logged and retried at the next tick.
 */
export function startStorageMaintenance({
  ctx,
  input,
  intervalMs = HOUR_MS,
}: {
  ctx: StorageContext;
  input: StoragePolicy;
  intervalMs?: number;
}): StorageMaintenance {
  checkStoragePolicy(input);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const pass = async (): Promise<StorageSummary | null> => {
    try {
      return await maintainStorage({ ctx, input });
    } catch (err) {
      ctx.logger.error({ err }, "storage maintenance failed");
      return null;
    } finally {
      // Scheduled after the pass ends, so a slow pass never overlaps the next.
      if (!stopped) {
        timer = setTimeout(() => {
          running = pass();
        }, intervalMs);
        timer.unref();
      }
    }
  };
  let running = pass();
  return {
    firstPass: running,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
