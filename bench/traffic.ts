/**
 * What the bench sends: a matrix of store accounts behind workstation environments, and their events.
 * Everything random comes from one seeded generator, so two runs send the same traffic.
 */
import { randomBytes } from "node:crypto";
import type { EventBody } from "../src/http/events/schemas.ts";
import { mulberry32 } from "../src/prng.ts";
import type { Api, Job } from "./load.ts";

export const ACCOUNTS = 200;
export const ENVIRONMENTS = 20;
export const BATCH = 500;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The history spans this many days back (the server refuses events older than 90 days)… */
export const HISTORY_DAYS = 80;
/** …and ends where the batch phase starts, which ends where live traffic (the last 90 minutes) starts. */
const BATCH_PHASE_FROM = 2 * DAY;
const BATCH_PHASE_TO = 2 * HOUR;
const LIVE_WINDOW = 90 * MINUTE;

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

export interface Workstation {
  token: string;
  network: (typeof NETWORKS)[number];
  subnet: string;
  accounts: Array<{ platform: string; ref: string; deviceId: string; userAgent: string }>;
}

/** 200 accounts, 20 environments of 10; an environment's accounts share a group, so sharing it is allowed. */
export async function createMatrix(api: Api, admin: string): Promise<Workstation[]> {
  const created = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await api.request("POST", path, admin, JSON.stringify(body));
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text.slice(0, 300)}`);
    return JSON.parse(res.text) as T;
  };
  const stations: Workstation[] = [];
  const perEnvironment = ACCOUNTS / ENVIRONMENTS;
  for (let e = 0; e < ENVIRONMENTS; e += 1) {
    const network = NETWORKS[e % NETWORKS.length]!;
    const accounts: Workstation["accounts"] = [];
    const ids: string[] = [];
    for (let k = 0; k < perEnvironment; k += 1) {
      const n = e * perEnvironment + k;
      const account = {
        platform: n % 3 === 0 ? "amazon" : "tiktok_shop",
        ref: `bench-${String(n).padStart(3, "0")}`,
        deviceId: `dev-${randomBytes(8).toString("hex")}`,
        userAgent: pick(USER_AGENTS),
      };
      const { id } = await created<{ id: string }>("/v1/accounts", {
        platform: account.platform,
        ref: account.ref,
        group: `team-${e}`,
      });
      ids.push(id);
      accounts.push(account);
    }
    const { token } = await created<{ token: string }>("/v1/environments", {
      name: `bench-env-${e}`,
      account_ids: ids,
    });
    const subnet = `${network.prefix}.${Math.floor(e / NETWORKS.length)}`;
    stations.push({ token, network, subnet, accounts });
  }
  return stations;
}

function makeEvent(station: Workstation, id: string, at: number): EventBody {
  const account = pick(station.accounts);
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
      ip: `${station.subnet}.${host}`,
      device_id: account.deviceId,
      user_agent: account.userAgent,
      timezone: station.network.timezone,
      locale: station.network.locale,
    },
  };
}

/** `size` events of one workstation spread evenly over [from, to), in time order, as one batch request. */
function batchJob(station: Workstation, idPrefix: string, size: number, from: number, to: number): Job {
  const events = Array.from({ length: size }, (_, k) =>
    makeEvent(station, `${idPrefix}-${k}`, from + ((k + rng()) / size) * (to - from)),
  );
  return { token: station.token, body: JSON.stringify({ events }), events: size };
}

/**
 * A backlog of `total` events over the last 80 days, built lazily (a million events do not fit in memory as
 * request bodies). Every workstation uploads its own history in time order, batch after batch, and all of
 * them advance through time together: batch b is workstation b % 20's slice floor(b / 20) of the timeline.
 */
export function historyJobs(stations: Workstation[], total: number, now: number): () => Job | null {
  const batches = Math.ceil(total / BATCH);
  const slices = Math.max(1, Math.ceil(batches / stations.length));
  const start = now - HISTORY_DAYS * DAY;
  const span = (HISTORY_DAYS * DAY - BATCH_PHASE_FROM) / slices;
  let b = 0;
  return () => {
    if (b >= batches) return null;
    const station = stations[b % stations.length]!;
    const from = start + Math.floor(b / stations.length) * span;
    const job = batchJob(station, `h${b}`, Math.min(BATCH, total - b * BATCH), from, from + span);
    b += 1;
    return job;
  };
}

/** Recent backlog: `count` batches of 500 over the two days before the live window, in time order. */
export function batchPhaseJobs(stations: Workstation[], count: number, now: number): Job[] {
  const slices = Math.max(1, Math.ceil(count / stations.length));
  const span = (BATCH_PHASE_FROM - BATCH_PHASE_TO) / slices;
  const start = now - BATCH_PHASE_FROM;
  return Array.from({ length: count }, (_, b) => {
    const from = start + Math.floor(b / stations.length) * span;
    return batchJob(stations[b % stations.length]!, `b${b}`, BATCH, from, from + span);
  });
}

/** Live traffic: single events of the last 90 minutes, one per request. */
export function singleJobs(stations: Workstation[], count: number, now: number): Job[] {
  return Array.from({ length: count }, (_, i) => {
    const station = stations[i % stations.length]!;
    const event = makeEvent(station, `s${i}`, now - rng() * LIVE_WINDOW);
    return { token: station.token, body: JSON.stringify(event), events: 1 };
  });
}
