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

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The one error type of the API; `onError` turns it into the one envelope. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** sent as `Retry-After` */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  get status(): ErrorStatus {
    return ERROR_STATUS[this.code];
  }
}

export function envelope(err: ApiError, requestId: string) {
  return {
    error: {
      code: err.code,
      message: err.message,
      request_id: requestId,
      ...(err.details ? { details: err.details } : {}),
    },
  };
}

export const notFound = (what: string) => new ApiError("not_found", `${what} not found`);

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
  new ApiError(
    "unavailable",
    "the database is unavailable; retry after Retry-After seconds (events already stored are answered as duplicates)",
    undefined,
    DATABASE_RETRY_AFTER_SECONDS,
  );
