import { CATALOGUES, type Lang, type MessageKey, type Translate, translator } from "./i18n/index.ts";

/**
 * The HTTP status of each error code. The values stay literal: `ApiError.status` is their union, which the HTTP
 * layer's `c.json(body, status)` accepts as it is (and rejects at compile time should a code map to a status
 * without a body).
 */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/** A message said from the catalogue in the reader's language (Accept-Language). */
export type Say = (t: Translate) => string;
export const say =
  (key: MessageKey, params?: Record<string, string | number>): Say =>
  (t) =>
    t(key, params);

const english = translator("en");

export interface ErrorDetail {
  path: string;
  /** English, as the API has always answered */
  message: string;
  /** the same in other languages; without it the English words are looked up in the catalogue */
  say?: Say;
}

/**
 * The one error type of the API; `onError` turns it into the one envelope. The message is English text, or a
 * `Say` whose English is the message and whose other languages answer a reader who asks for them; a plain
 * English message reads, in another language, as its code's sentence.
 */
export class ApiError extends Error {
  readonly say: Say | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string | Say,
    readonly details?: ErrorDetail[],
    /** sent as `Retry-After` */
    readonly retryAfterSeconds?: number,
  ) {
    super(typeof message === "string" ? message : message(english));
    this.say = typeof message === "string" ? undefined : message;
  }

  get status(): ErrorStatus {
    return ERROR_STATUS[this.code];
  }
}

export function envelope(err: ApiError, requestId: string, lang: Lang = "en") {
  const t = translator(lang);
  const local = lang === "en";
  return {
    error: {
      code: err.code,
      message: local ? err.message : (err.say?.(t) ?? t(`api.code.${err.code}`)),
      request_id: requestId,
      ...(err.details
        ? {
            details: err.details.map((d) => ({
              path: d.path,
              message: local ? d.message : (d.say ?? sayInWords(d.message) ?? say("api.detail.invalid"))(t),
            })),
          }
        : {}),
    },
  };
}

/** Detail messages built from a validator's issue (openapi.ts), never written out as English elsewhere. */
export const ISSUE_KEYS = new Set<MessageKey>([
  "api.detail.invalid",
  "api.detail.wrong_type",
  "api.detail.too_long",
  "api.detail.too_short",
  "api.detail.too_many",
  "api.detail.too_few",
  "api.detail.too_big",
  "api.detail.too_small",
  "api.detail.one_of",
  "api.detail.format",
]);

/**
 * The catalogue's detail messages as patterns over their English words: schemas and core write their
 * messages as English text (`refine(isValidIp, "must be an IPv4 or IPv6 address")`), found here by those
 * words, parameters and all. Messages without parameters are tried first, so a fixed sentence never reads
 * as a parameter of a looser one.
 */
const DETAIL_WORDS = (Object.entries(CATALOGUES.en) as Array<[MessageKey, string]>)
  .filter(([key]) => key.startsWith("api.detail.") && !ISSUE_KEYS.has(key))
  .map(([key, text]) => {
    const names = [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const source = text
      .split(/\{\w+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("(.+)");
    return { key, names, pattern: new RegExp(`^${source}$`) };
  })
  .sort((a, b) => a.names.length - b.names.length);

/** The catalogue entry that says these English words, with its parameters, if there is one. */
export function sayInWords(message: string): Say | undefined {
  for (const { key, names, pattern } of DETAIL_WORDS) {
    const match = pattern.exec(message);
    if (match) return say(key, Object.fromEntries(names.map((name, i) => [name, match[i + 1]!])));
  }
  return undefined;
}

/** What a route may report missing, by name. */
export type Thing = "account" | "alert" | "channel" | "environment" | "incident" | "token";

export const notFound = (what: Thing) =>
  new ApiError("not_found", (t) => t("api.not_found", { thing: t(`api.thing.${what}`) }));

/** Seconds a client waits before retrying while the database is away: short, since service resumes by itself. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** The client gave up waiting for the database (a frozen server or a full pool); the server never answered. */
export class DatabaseTimeout extends Error {
  readonly code = "TETHER_DB_TIMEOUT";
}

/**
 * Node's socket errors, postgres.js's own connection errors, and the PostgreSQL SQLSTATEs that mean "not now"
 * rather than "never": shutdown and start-up (57P01–57P03), connection exceptions (class 08), too many
 * connections (53300), statement and lock timeouts (57014, 55P03), idle-in-transaction timeout (25P03),
 * serialization failures and deadlocks (40001, 40P01), read-only during failover (25006).
 */
const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "TETHER_DB_TIMEOUT",
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "57014",
  "55P03",
  "25P03",
  "25006",
  "40001",
  "40P01",
]);

/**
 * Whether an error means the database is away or too busy for now, so the request may be retried. drizzle
 * wraps a driver's error in its own (the driver's under `cause`), and Node's connection errors may be an
 * AggregateError of one per address tried: the whole chain is looked at.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 5) return false;
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string" && (TRANSIENT_CODES.has(code) || code.startsWith("08"))) return true;
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

/** The first code along an error's cause chain, for a one-line log. */
export function errorCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 5) return undefined;
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0], depth + 1);
  return errorCode(cause, depth + 1);
}

export const databaseUnavailable = () =>
  new ApiError("unavailable", say("api.database_unavailable"), undefined, DATABASE_RETRY_AFTER_SECONDS);
