/**
 * Sends the spool: batches of at most 1000, oldest first; a 202 acknowledges a batch, a 429/503 is waited out
 * for as long as its Retry-After says, a network error or 5xx backs off exponentially with full jitter, and a
 * 400 moves the events it names aside (they can never be accepted; they must not block the others).
 */
import { type ApiErrorBody, type TetherClient, Unreachable } from "./client.ts";
import type { Spool } from "./spool.ts";

export const MAX_BATCH = 1000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 60_000;
const COMPACT_EVERY_BATCHES = 20;

export interface FlushOptions {
  /** stop retrying after this long (the events stay spooled) */
  budgetMs: number;
  /** wait for another flusher to finish rather than leave at once */
  waitForLock: boolean;
  batchSize?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onWait?: (info: { reason: string; waitMs: number }) => void;
}

export interface FlushResult {
  busy: boolean;
  sent: number;
  rejected: number;
  pending: number;
  /** why the flush stopped with events left, or null when it emptied the spool */
  error: string | null;
  /** the server could not be reached at all */
  unreachable: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Full jitter: a uniform wait in [0, min(cap, base·2^attempt)). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
}

function badIndices(body: unknown, size: number): number[] {
  const details = (body as ApiErrorBody | null)?.error?.details ?? [];
  const out = new Set<number>();
  for (const d of details) {
    const m = /^\/?events[./[](\d+)/.exec(d.path);
    if (m && Number(m[1]) < size) out.add(Number(m[1]));
  }
  return [...out];
}

export async function flushSpool(
  spool: Spool,
  client: TetherClient,
  options: FlushOptions,
): Promise<FlushResult> {
  const result: FlushResult = {
    busy: false,
    sent: 0,
    rejected: 0,
    pending: 0,
    error: null,
    unreachable: false,
  };
  const release = await spool.lockFlush(options.waitForLock);
  if (!release) {
    result.busy = true;
    result.pending = spool.stats().pending;
    return result;
  }
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + options.budgetMs;
  const size = options.batchSize ?? MAX_BATCH;
  try {
    let failures = 0;
    let batches = 0;
    while (true) {
      const batch = spool.pending(size);
      if (!batch.length) break;
      let waitMs: number;
      let reason: string;
      try {
        const answer = await client.ingest(batch, { retryBudgetMs: 0 });
        if (answer.status === 202) {
          spool.ack(batch.map((e) => e.id));
          result.sent += batch.length;
          result.unreachable = false;
          failures = 0;
          if (++batches % COMPACT_EVERY_BATCHES === 0) await spool.compact();
          continue;
        }
        if (answer.status === 400) {
          const bad = badIndices(answer.body, batch.length);
          const refused = bad.length ? bad.map((i) => batch[i]!) : batch;
          spool.reject(refused, JSON.stringify(answer.body).slice(0, 2000));
          result.rejected += refused.length;
          continue;
        }
        reason = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
        if (
          answer.status === 401 ||
          answer.status === 403 ||
          answer.status === 413 ||
          answer.status === 415
        ) {
          // Retrying cannot help: the token or the agent must be fixed; the events wait in the spool.
          result.error = reason;
          break;
        }
        waitMs = answer.retryAfterMs ?? backoffMs(failures, options.random);
      } catch (err) {
        if (!(err instanceof Unreachable)) throw err;
        result.unreachable = true;
        reason = err.message;
        waitMs = backoffMs(failures, options.random);
      }
      failures += 1;
      if (Date.now() + waitMs > deadline) {
        result.error = reason;
        break;
      }
      options.onWait?.({ reason, waitMs });
      await sleep(waitMs);
    }
    await spool.compact();
  } finally {
    result.pending = spool.stats().pending;
    spool.writeState({
      last_flush_at: new Date().toISOString(),
      last_sent: result.sent,
      ...(result.error ? { last_error: result.error, last_error_at: new Date().toISOString() } : {}),
    });
    await release();
  }
  return result;
}
