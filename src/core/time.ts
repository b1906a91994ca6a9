import { LRUCache } from "lru-cache";

// One formatter per zone: building an Intl.DateTimeFormat costs far more than formatting with it. Zone names
// come from client telemetry, so the cache is bounded and evicts its oldest entry.
const MAX_CACHED_ZONES = 1000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function offsetFormatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "longOffset" });
    if (formatters.size >= MAX_CACHED_ZONES) formatters.delete(formatters.keys().next().value!);
    formatters.set(tz, f);
  }
  return f;
}

/** True for zone names Intl knows (IANA names and their aliases, any case); false for fixed offsets. */
export function isValidTimeZone(tz: string): boolean {
  // Newer engines also accept offsets like "+05:00", which are not zones and have no DST.
  if (tz === "" || tz.startsWith("+") || tz.startsWith("-")) return false;
  try {
    offsetFormatter(tz);
    return true;
  } catch {
    return false;
  }
}

const OFFSET = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * The zone's offset from UTC in minutes at `at` (east positive, so Asia/Shanghai is 480), with DST applied.
 * Historic local-mean-time offsets with seconds are rounded to the minute. Throws RangeError for an unknown
 * zone or an invalid date.
 */
export function utcOffsetMinutes(tz: string, at: Date): number {
  const t = at.getTime();
  if (Number.isNaN(t)) return offsetNow(tz, at);
  const start = Math.floor(t / SLICE_MS) * SLICE_MS;
  const key = `${tz}\u0000${start}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    // Zone transitions fall on quarter hours: a slice with one offset at both ends has it throughout. Any
    // other slice (historic local mean time) is computed exactly for each instant and not cached.
    const first = offsetNow(tz, new Date(start));
    if (first !== offsetNow(tz, new Date(start + SLICE_MS - 1))) return offsetNow(tz, at);
    offset = first;
    offsets.set(key, offset);
  }
  return offset;
}

/** Offsets by (zone, quarter hour): every event of a batch asks, and formatting through Intl is slow. */
const SLICE_MS = 15 * 60_000;
const offsets = new LRUCache<string, number>({ max: 20_000 });

function offsetNow(tz: string, at: Date): number {
  const name = offsetFormatter(tz)
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName")?.value;
  const m = name === undefined ? null : OFFSET.exec(name);
  if (!m) throw new RangeError(`unexpected offset ${JSON.stringify(name)} for time zone ${tz}`);
  if (!m[1]) return 0;
  const minutes = Math.round(Number(m[2]) * 60 + Number(m[3]) + Number(m[4] ?? 0) / 60);
  return m[1] === "-" ? -minutes : minutes;
}
