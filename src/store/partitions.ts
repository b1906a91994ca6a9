import { sql } from "drizzle-orm";
import { type Db, rows } from "./db.ts";
import { epochMs, iso } from "./sql.ts";

/**
 * Weekly RANGE partitions of `events` (see db/migrations/0004_events_partitions.sql): each covers
 * [Monday 00:00 UTC, next Monday 00:00 UTC) and is named events_wYYYYMMDD after its Monday.
 */

const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday: the first Monday of the epoch is four days later. */
const FIRST_MONDAY_MS = 4 * DAY_MS;
/** A wrong clock or a bad range must not create thousands of tables: ten years of weeks at most per call. */
const MAX_WEEKS = 522;
/** Serialises partition DDL across server processes (MIGRATION_LOCK in db.ts is 7_270_701). */
const PARTITION_LOCK = 7_270_702;

export interface EventPartition {
  name: string;
  /** inclusive lower bound, epoch ms */
  from: number;
  /** exclusive upper bound, epoch ms */
  to: number;
}

/** Monday 00:00 UTC of the week holding `ms`. */
export function weekStart(ms: number): number {
  const offset = (((ms - FIRST_MONDAY_MS) % WEEK_MS) + WEEK_MS) % WEEK_MS;
  return ms - offset;
}

/** The week starts of every week that [fromMs, toMs] touches, oldest first; empty when from > to. */
export function weekStartsCovering(fromMs: number, toMs: number): number[] {
  if (fromMs > toMs) return [];
  const first = weekStart(fromMs);
  const count = Math.floor((weekStart(toMs) - first) / WEEK_MS) + 1;
  if (count > MAX_WEEKS) {
    throw new RangeError(`refusing to cover ${count} weeks of event partitions (at most ${MAX_WEEKS})`);
  }
  return Array.from({ length: count }, (_, i) => first + i * WEEK_MS);
}

export function partitionName(weekStartMs: number): string {
  return `events_w${iso(weekStartMs).slice(0, 10).replaceAll("-", "")}`;
}

/** Every partition of events with its bounds, oldest first. */
export async function listEventPartitions(db: Db): Promise<EventPartition[]> {
  // The bounds come back as text in the session's time zone, with its offset: cast back, they are exact.
  const result = await rows<{ name: string; from_ms: number | null; to_ms: number | null }>(
    db,
    sql`select name, ${epochMs(sql`b[1]::timestamptz`)} as from_ms, ${epochMs(sql`b[2]::timestamptz`)} as to_ms
      from (
        select c.relname as name,
          regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$FROM \\('([^']+)'\\) TO \\('([^']+)'\\)$re$) as b
        from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'events'::regclass
      ) p
      order by from_ms`,
  );
  return result.map((r) => {
    // Only this module and migration 0004 create partitions, always with timestamp bounds.
    if (r.from_ms === null || r.to_ms === null) {
      throw new Error(`events partition ${r.name} has no time bounds`);
    }
    return { name: r.name, from: Number(r.from_ms), to: Number(r.to_ms) };
  });
}

/**
 * Creates the missing weekly partitions covering [fromMs, toMs]; returns the covering week starts, which all
 * exist afterwards. Safe to call from several processes at once: the DDL runs under a transaction-scoped
 * advisory lock (concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog without it).
 * Creating a partition locks `events` exclusively until commit: call it outside a long transaction.
 */
export async function ensureEventPartitions(db: Db, fromMs: number, toMs: number): Promise<number[]> {
  const wanted = weekStartsCovering(fromMs, toMs);
  if (wanted.length === 0) return [];
  const missing = (existing: EventPartition[]) => {
    const have = new Set(existing.map((p) => p.from));
    return wanted.filter((w) => !have.has(w));
  };
  // The usual case, every week already there, takes neither the lock nor an exclusive lock on events.
  if (missing(await listEventPartitions(db)).length === 0) return wanted;
  await db.transaction(async (tx) => {
    // Creating a partition waits for every transaction that reads or writes events to end. The sessions'
    // lock_timeout (a few seconds) suits requests; this rare DDL would fail under a busy load with it, and
    // ingest of a week without its partition waits for this anyway.
    await tx.execute(sql`set local lock_timeout = '60s'`);
    await tx.execute(sql`set local statement_timeout = '120s'`);
    await tx.execute(sql`select pg_advisory_xact_lock(${PARTITION_LOCK})`);
    for (const week of missing(await listEventPartitions(tx))) {
      await tx.execute(
        sql.raw(`create table if not exists "${partitionName(week)}" partition of events
          for values from ('${iso(week)}') to ('${iso(week + WEEK_MS)}')`),
      );
    }
  });
  return wanted;
}

/** Drops every partition whose upper bound is at or before `cutoffMs`, with its events; returns their names. */
export async function dropExpiredEventPartitions(db: Db, cutoffMs: number): Promise<string[]> {
  const expired = (partitions: EventPartition[]) => partitions.filter((p) => p.to <= cutoffMs);
  if (expired(await listEventPartitions(db)).length === 0) return [];
  return db.transaction(async (tx) => {
    // As for creation: dropping a partition waits for the transactions using events, longer than a request may.
    await tx.execute(sql`set local lock_timeout = '60s'`);
    await tx.execute(sql`set local statement_timeout = '120s'`);
    await tx.execute(sql`select pg_advisory_xact_lock(${PARTITION_LOCK})`);
    // Listed again under the lock: a concurrent pass may have dropped some already.
    const names = expired(await listEventPartitions(tx)).map((p) => p.name);
    for (const name of names) await tx.execute(sql.raw(`drop table if exists "${name}"`));
    return names;
  });
}

/** Forgets baseline values an account has not shown since `cutoffMs`; returns how many were deleted. */
export async function ageOutBaselines(db: Db, cutoffMs: number): Promise<number> {
  // A maintenance pass, not an OLTP statement: it scans every baseline value, so it runs without the sessions'
  // statement timeout (a few seconds), which a large workspace would otherwise hit on every pass.
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local statement_timeout = 0`);
    const [result] = await rows<{ deleted: number }>(
      tx as unknown as Db,
      sql`with gone as (delete from baseline_values where last_seen_at < ${iso(cutoffMs)}::timestamptz returning 1)
        select count(*)::int as deleted from gone`,
    );
    return Number(result?.deleted ?? 0);
  });
}
