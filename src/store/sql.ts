import { type SQL, sql } from "drizzle-orm";

/** One parameter carrying a whole set: the set-wise statements unpack it with jsonb_to_recordset. */
export const jsonParam = (value: unknown): SQL => sql`${JSON.stringify(value)}::jsonb`;

/** A timestamp as epoch milliseconds, the same on both drivers (they parse timestamptz differently). */
export const epochMs = (column: SQL | string): SQL =>
  sql`(extract(epoch from ${typeof column === "string" ? sql.raw(column) : column}) * 1000)::float8`;

export const iso = (ms: number | Date): string => new Date(ms).toISOString();

export const SEVERITY_ARRAY = sql.raw(`array['info','low','medium','high','critical']`);
