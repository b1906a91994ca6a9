import { z } from "zod";

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** Every piece of configuration, validated once at start. A bad value stops start-up with a clear message. */
const EnvObject = z.object({
  PORT: int(8787, 0, 65535),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  TETHER_DATA_DIR: z.string().min(1).default("./.tether"),
  /** IP data installed by `npm run data:refresh`; it wins over the data shipped in node_modules */
  TETHER_ENRICHMENT_DIR: z.string().min(1).default("./.tether-enrichment"),
  TETHER_BOOTSTRAP_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  TETHER_LEARNING_EVENTS: int(20, 1, 100_000),
  TETHER_LEARNING_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  TETHER_MAX_KMH: z.coerce.number().positive().max(100_000).default(900),
  TETHER_SHARE_DAYS: z.coerce.number().positive().max(3650).default(30),
  TETHER_RETRY_LIMIT: int(5, 2, 1000),
  /** a quarantined value of low/medium churn heals after this many clean uses (docs/adr/0003) */
  TETHER_HEAL_EVENTS: int(20, 1, 100_000),
  /** … spanning at least this many hours of event time */
  TETHER_HEAL_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(72),
  /** events older than this are refused: a wrong clock must not rewrite an account's history */
  TETHER_MAX_EVENT_AGE_DAYS: int(90, 1, 3650),
  /** a baseline value not seen for this many days leaves the baseline */
  TETHER_BASELINE_DAYS: int(90, 1, 3650),
  /** events older than this are dropped, a whole weekly partition at a time; aggregates stay */
  TETHER_RETENTION_DAYS: int(180, 1, 3650),
  /** events waiting for the ingest pipeline at most; past that, ingest answers 503 with Retry-After */
  TETHER_INGEST_QUEUE_EVENTS: int(10_000, 1_000, 1_000_000),
  /** server processes sharing the port (PostgreSQL only; PGlite is one process); default: one per core */
  TETHER_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  /** how long a process may reuse a token it has read (0: never); a revocation elsewhere takes this long */
  TETHER_AUTH_CACHE_MS: int(2_000, 0, 60_000),
  /** keys token hashes; unset: one generated once and kept in the database (see docs/adr/0013) */
  TETHER_TOKEN_PEPPER: z.string().min(32, "must be at least 32 characters").optional(),
  /** failed authentications per source address and per token within the window, then 429 (0: no limit) */
  TETHER_AUTH_FAILURE_LIMIT: int(20, 0, 1_000_000),
  TETHER_AUTH_FAILURE_WINDOW_S: int(60, 1, 86_400),
  TETHER_MAX_BODY_BYTES: int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
  TETHER_TRUST_PROXY: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  /** a /v1 request not answered by then gets 503 with Retry-After (a frozen database must not hold it) */
  TETHER_RESPONSE_TIMEOUT_MS: int(10_000, 100, 600_000),
  /** PostgreSQL: statement_timeout of the server's sessions */
  TETHER_DB_STATEMENT_TIMEOUT_MS: int(5_000, 100, 600_000),
  /** PostgreSQL: lock_timeout of the server's sessions */
  TETHER_DB_LOCK_TIMEOUT_MS: int(3_000, 100, 600_000),
  /** PostgreSQL: idle_in_transaction_session_timeout of the server's sessions */
  TETHER_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int(10_000, 100, 600_000),
  /** PostgreSQL: seconds to open one connection */
  TETHER_DB_CONNECT_TIMEOUT_SECONDS: int(5, 1, 600),
  /** PostgreSQL: an unused pooled connection is closed after this many seconds */
  TETHER_DB_IDLE_TIMEOUT_SECONDS: int(60, 1, 86_400),
  /** a client must have sent a request's headers within this */
  TETHER_HTTP_HEADERS_TIMEOUT_MS: int(10_000, 1_000, 600_000),
  /** a client must have sent a whole request (headers and body) within this */
  TETHER_HTTP_REQUEST_TIMEOUT_MS: int(30_000, 1_000, 3_600_000),
  /** an idle keep-alive connection is closed after this; keep it above the proxy's or agents' idle timeout */
  TETHER_HTTP_KEEP_ALIVE_TIMEOUT_MS: int(65_000, 1_000, 600_000),
  /** how long start-up waits for an unreachable database before giving up (0: try once) */
  TETHER_DB_WAIT_SECONDS: int(30, 0, 86_400),
  TETHER_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** Thresholds that only make sense together. */
export const EnvSchema = EnvObject.superRefine((env, issue) => {
  if (env.TETHER_RETENTION_DAYS < env.TETHER_MAX_EVENT_AGE_DAYS) {
    issue.addIssue({
      code: "custom",
      path: ["TETHER_RETENTION_DAYS"],
      message: `must be at least TETHER_MAX_EVENT_AGE_DAYS (${env.TETHER_MAX_EVENT_AGE_DAYS}): accepted events must have a partition to land in`,
    });
  }
  if (env.TETHER_HTTP_HEADERS_TIMEOUT_MS > env.TETHER_HTTP_REQUEST_TIMEOUT_MS) {
    issue.addIssue({
      code: "custom",
      path: ["TETHER_HTTP_HEADERS_TIMEOUT_MS"],
      message: `must be at most TETHER_HTTP_REQUEST_TIMEOUT_MS (${env.TETHER_HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`,
    });
  }
  if (env.TETHER_BASELINE_DAYS < env.TETHER_SHARE_DAYS) {
    issue.addIssue({
      code: "custom",
      path: ["TETHER_BASELINE_DAYS"],
      message: `must be at least TETHER_SHARE_DAYS (${env.TETHER_SHARE_DAYS}): the baselines are the sharing index`,
    });
  }
});

export type Env = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvObject.shape)) {
    const value = source[key];
    if (value !== undefined && value !== "") picked[key] = value;
  }
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** Defaults for tests and tools that build an app without a process environment. */
export function defaultEnv(overrides: Partial<Env> = {}): Env {
  return { ...parseEnv({}), ...overrides };
}
