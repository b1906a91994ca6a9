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
