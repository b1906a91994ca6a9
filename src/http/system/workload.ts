import { errorCode } from "../../errors.ts";
import { workloadCounts } from "../../store/workload.ts";
import type { AppDeps } from "../context.ts";

/**
 * How long one reading of the database gauges serves scrapes: however many Prometheus servers scrape, and
 * however often, the database answers one query per aggregate in this time.
 */
export const WORKLOAD_TTL_MS = 5_000;
/** A frozen database must not hold the scrape: past this, the gauges are left out of that answer. */
const WORKLOAD_TIMEOUT_MS = 2_000;

/**
 * Refreshes the database gauges (open alerts, active incidents) when the last reading is older than
 * WORKLOAD_TTL_MS; concurrent scrapes share one reading. When the database cannot be read the gauges are
 * cleared rather than left stale, and the scrape still answers with everything else.
 */
export function workloadRefresher(deps: Pick<AppDeps, "database" | "clock" | "metrics" | "logger">) {
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | null = null;
  const read = async (at: number) => {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the database did not answer in time")), WORKLOAD_TIMEOUT_MS);
    });
    try {
      deps.metrics.setWorkload(await Promise.race([workloadCounts(deps.database.db), gaveUp]));
      readAt = at;
    } catch (err) {
      deps.metrics.clearWorkload();
      readAt = Number.NEGATIVE_INFINITY;
      deps.logger.warn({ code: errorCode(err) ?? "timeout" }, "metrics: database gauges unavailable");
    } finally {
      clearTimeout(timer);
    }
  };
  return async (): Promise<void> => {
    const now = deps.clock.now().getTime();
    // A clock set back (tests move theirs) counts as stale, not as fresh for ever.
    if (now >= readAt && now - readAt < WORKLOAD_TTL_MS) return;
    reading ??= read(now).finally(() => {
      reading = null;
    });
    await reading;
  };
}
