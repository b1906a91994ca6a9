import { z } from "@hono/zod-openapi";

/** Characters of the longest timestamp accepted (nanoseconds and an offset fit in 35). */
export const MAX_TIMESTAMP_LENGTH = 40;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Every timestamp the API reads: RFC 3339 with `Z` or a `±hh:mm` offset. Years outside 1970–9999 are refused
 * (PostgreSQL has no year 0, and no telemetry predates 1970), and so are leap seconds (`:60`), which neither
 * JavaScript nor PostgreSQL can hold.
 */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .max(MAX_TIMESTAMP_LENGTH)
  .refine((v) => {
    const at = Date.parse(v);
    // a string that is no timestamp at all has its issue from the format already
    return Number.isNaN(at) || (at >= EARLIEST && at <= LATEST);
  }, "must be between 1970-01-01 and 9999-12-31")
  .openapi({ example: "2026-01-25T17:32:05Z" });
