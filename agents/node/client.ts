/**
 * The typed tether API client shared by the workstation agent, the demo, the bench's load generator and the
 * end-to-end tests. It imports the request and response types only (`import type`), so nothing of the
 * server is loaded at run time. A 429 or 503 answered with Retry-After is waited out and retried, within a
 * budget; every other answer is returned as it came.
 */
import type { EventBody, IngestResponse } from "../../src/http/events/schemas.ts";
import type { PreflightRequest, PreflightResponse } from "../../src/http/preflight/schemas.ts";

export type { EventBody, IngestResponse, PreflightRequest, PreflightResponse };

export interface Whoami {
  token_id: string;
  name: string;
  kind: "agent" | "user";
  role: "agent" | "viewer" | "reviewer" | "admin";
  workspace: { id: string; slug: string };
  environment_id: string | null;
  source_ip: string | null;
}

export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    request_id: string;
    details?: Array<{ path: string; message: string }>;
  };
}

/** What the client needs of fetch: the global one, undici's with a proxy dispatcher, or Hono's app.request. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** the server's base URL, e.g. http://127.0.0.1:8787 */
  base: string;
  token?: string;
  fetch?: FetchLike;
  userAgent?: string;
  /** Accept-Language: the server words findings and reasons in it */
  language?: string;
  /** per attempt; an attempt that runs over is an unreachable server */
  timeoutMs?: number;
  /** how long 429/503 waits may add up to before the answer is handed back as it is */
  retryBudgetMs?: number;
  /** called before each wait, so callers can count or print them */
  onRetry?: (info: { status: number; waitMs: number; attempt: number }) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface Answer<T> {
  status: number;
  ok: boolean;
  body: T;
  /** milliseconds the server asked us to wait (429/503 with Retry-After), or null */
  retryAfterMs: number | null;
  /** how many 429/503 answers were waited out before this one */
  retries: number;
}

/** The server could not be reached at all (refused, reset, DNS, timeout): distinct from any HTTP answer. */
export class Unreachable extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRY_BUDGET_MS = 60_000;
/** A Retry-After is honoured within these bounds: 0 must not become a busy loop, a typo not a day's sleep. */
export const MIN_RETRY_WAIT_MS = 50;
export const MAX_RETRY_WAIT_MS = 300_000;

/** Retry-After in seconds or as an HTTP date, in milliseconds, clamped; null when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const value = header.trim();
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (Number.isNaN(ms)) return null;
  return Math.min(MAX_RETRY_WAIT_MS, Math.max(MIN_RETRY_WAIT_MS, ms));
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class TetherClient {
  readonly base: string;
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    this.base = options.base.replace(/\/+$/, "");
    this.#options = options;
  }

  /** The same client with another token (the demo and tests act as several environments). */
  as(token: string): TetherClient {
    return new TetherClient({ ...this.#options, token });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string; retryBudgetMs?: number } = {},
  ): Promise<Answer<T>> {
    const token = options.token ?? this.#options.token;
    const budget = options.retryBudgetMs ?? this.#options.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
    const sleep = this.#options.sleep ?? defaultSleep;
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.#once<T>(method, path, token, payload);
      answer.retries = attempt - 1;
      const retryable = answer.status === 429 || answer.status === 503;
      if (!retryable || answer.retryAfterMs === null || waited + answer.retryAfterMs > budget) return answer;
      this.#options.onRetry?.({ status: answer.status, waitMs: answer.retryAfterMs, attempt });
      await sleep(answer.retryAfterMs);
      waited += answer.retryAfterMs;
    }
  }

  async #once<T>(
    method: string,
    path: string,
    token: string | undefined,
    payload: string | undefined,
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) headers["content-type"] = "application/json";
    if (this.#options.userAgent) headers["user-agent"] = this.#options.userAgent;
    if (this.#options.language) headers["accept-language"] = this.#options.language;
    const doFetch = this.#options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(`${this.base}${path}`, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new Unreachable(`${method} ${this.base}${path}: ${why}`, err);
    }
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (a proxy's error page): keep the text
    }
    return {
      status: res.status,
      ok: res.status >= 200 && res.status < 300,
      body: parsed as T,
      retryAfterMs:
        res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get("retry-after")) : null,
      retries: 0,
    };
  }

  get<T = unknown>(path: string, token?: string): Promise<Answer<T>> {
    return this.request<T>("GET", path, undefined, token ? { token } : {});
  }

  post<T = unknown>(path: string, body: unknown, token?: string): Promise<Answer<T>> {
    return this.request<T>("POST", path, body, token ? { token } : {});
  }

  whoami(): Promise<Answer<Whoami | ApiErrorBody>> {
    return this.get("/v1/whoami");
  }

  ingest(
    events: EventBody[],
    options: { retryBudgetMs?: number } = {},
  ): Promise<Answer<IngestResponse | ApiErrorBody>> {
    return this.request("POST", "/v1/events", { events }, options);
  }

  preflight(body: PreflightRequest): Promise<Answer<PreflightResponse | ApiErrorBody>> {
    return this.post("/v1/preflight", body);
  }
}

/** A thrown answer: for callers (the demo, tests) that want any non-2xx to stop them. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} answered ${status}: ${JSON.stringify(body).slice(0, 500)}`);
  }
}

/** The body of a 2xx answer, or an HttpError. */
export function expectOk<T>(answer: Answer<T | ApiErrorBody>, what: string): T {
  if (!answer.ok) throw new HttpError(answer.status, answer.body, what);
  return answer.body as T;
}
