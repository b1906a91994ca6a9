import { randomUUID } from "node:crypto";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { timeout } from "hono/timeout";
import {
  ApiError,
  DATABASE_RETRY_AFTER_SECONDS,
  databaseUnavailable,
  type ErrorCode,
  envelope,
  errorCode,
  isDatabaseUnavailable,
  say,
} from "./errors.ts";
import { overridesRouter } from "./http/accounts/overrides.ts";
import { accountsRouter } from "./http/accounts/routes.ts";
import { alertsRouter } from "./http/alerts/routes.ts";
import { associationsRouter } from "./http/associations/routes.ts";
import { auditRouter } from "./http/audit/routes.ts";
import { channelsRouter } from "./http/channels/routes.ts";
import { consoleRouter, pageSecurityHeaders } from "./http/console/routes.tsx";
import type { AppDeps } from "./http/context.ts";
import { DOCS_SCRIPT, DOCS_STYLE, docsPage } from "./http/docs.ts";
import { drillRehearsalRouter } from "./http/drills/rehearsal-routes.ts";
import { drillsRouter } from "./http/drills/routes.ts";
import { environmentsRouter } from "./http/environments/routes.ts";
import { eventsRouter, INGEST_PATH } from "./http/events/routes.ts";
import { MAX_INGEST_BODY_BYTES } from "./http/events/schemas.ts";
import { incidentsRouter } from "./http/incidents/routes.ts";
import { AuthCache, authenticate } from "./http/middleware/auth.ts";
import { guardInput } from "./http/middleware/input.ts";
import { AuthFailureLimiter } from "./http/middleware/rate-limit.ts";
import { newRouter, serveApiDocument } from "./http/openapi.ts";
import { preflightRouter } from "./http/preflight/routes.ts";
import { settingsRouter } from "./http/settings/routes.ts";
import { callerSystemRouter, systemRouter } from "./http/system/routes.ts";
import { tokensRouter } from "./http/tokens/routes.ts";
import { pickLang } from "./i18n/index.ts";
import type { IngestOptions } from "./services/context.ts";
import { createIngest, type Ingest, populationShard } from "./services/ingest-events.ts";
import type { PipelineLimits } from "./services/ingest-pipeline.ts";

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  415: "bad_request",
  429: "rate_limited",
  503: "unavailable",
};

/** The ingest pipeline of one app, configured from its environment. */
export function createIngestFor(
  deps: Omit<AppDeps, "ingest" | "authCache" | "authLimiter">,
  overrides: Partial<IngestOptions & PipelineLimits> = {},
): Ingest {
  return createIngest(
    { ...deps, db: deps.database.db, runner: deps.database.runner },
    {
      baselineDays: deps.env.TETHER_BASELINE_DAYS,
      historyPerAccount: 2_000,
      shard: populationShard(),
      maxGroupEvents: 1_000,
      maxQueuedEvents: deps.env.TETHER_INGEST_QUEUE_EVENTS,
      ...overrides,
    },
  );
}

/** Builds the HTTP app from its dependencies; nothing here opens, listens or reads at import time. */
export function createApp(
  given: Omit<AppDeps, "ingest" | "authCache" | "authLimiter"> & { ingest?: Ingest },
) {
  const deps: AppDeps = {
    ...given,
    ingest: given.ingest ?? createIngestFor(given),
    authCache: new AuthCache(given.env.TETHER_AUTH_CACHE_MS, given.env.TETHER_TOKEN_PEPPER),
    authLimiter: new AuthFailureLimiter(
      given.env.TETHER_AUTH_FAILURE_LIMIT,
      given.env.TETHER_AUTH_FAILURE_WINDOW_S * 1000,
    ),
  };
  const app = newRouter();

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.header("x-request-id", requestId);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routePath(c) || "unmatched";
    deps.metrics.httpRequests.observe({ method: c.req.method, route, status: String(c.res.status) }, seconds);
    deps.logger.debug(
      { requestId, method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 1000) },
      "request",
    );
  });

  // A frozen database (or a full pool) would otherwise hold a request for as long as the kernel keeps the
  // connection: past the deadline the caller hears 503 and retries; ingest is idempotent by event id.
  app.use(
    "/v1/*",
    timeout(deps.env.TETHER_RESPONSE_TIMEOUT_MS, () => {
      const late = new ApiError(
        "unavailable",
        say("api.timeout", { ms: deps.env.TETHER_RESPONSE_TIMEOUT_MS }),
        undefined,
        DATABASE_RETRY_AFTER_SECONDS,
      );
      return new HTTPException(503, { message: late.message, cause: late });
    }),
  );

  // Under the deadline too: authentication reads tokens from the database.
  app.use("/v1/*", authenticate(deps));
  // After authentication: a caller without a token gets its 401 before tether reads a byte of its body.
  app.use(
    "/v1/*",
    guardInput((path) => (path === INGEST_PATH ? MAX_INGEST_BODY_BYTES : deps.env.TETHER_MAX_BODY_BYTES)),
  );

  app.route("/", systemRouter(deps));
  app.route("/", callerSystemRouter(deps));
  app.route("/", eventsRouter(deps));
  app.route("/", accountsRouter(deps));
  app.route("/", environmentsRouter(deps));
  app.route("/", tokensRouter(deps));
  app.route("/", alertsRouter(deps));
  app.route("/", settingsRouter(deps));
  app.route("/", associationsRouter(deps));
  app.route("/", incidentsRouter(deps));
  app.route("/", preflightRouter(deps));
  app.route("/", overridesRouter(deps));
  app.route("/", auditRouter(deps));
  app.route("/", channelsRouter(deps));
  app.route("/", drillsRouter(deps));
  // Last of the /v1/drills routers: its `GET /v1/drills/{id}` would otherwise take `verify` for an id.
  app.route("/", drillRehearsalRouter(deps));

  serveApiDocument(app);
  app.use("/docs", pageSecurityHeaders());
  app.use("/docs/*", pageSecurityHeaders());
  app.get("/docs", (c) => c.html(docsPage()));
  app.get("/docs/docs.js", (c) =>
    c.body(DOCS_SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8" }),
  );
  app.get("/docs/docs.css", (c) => c.body(DOCS_STYLE, 200, { "content-type": "text/css; charset=utf-8" }));
  // The review console under /console, server-rendered, signed in with a user token (docs/adr/0017).
  app.get("/", (c) => c.redirect("/console", 302));
  app.route("/", consoleRouter(deps) as unknown as ReturnType<typeof newRouter>);

  app.notFound((c) => {
    throw new ApiError("not_found", say("api.no_route", { method: c.req.method, path: c.req.path }));
  });

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? randomUUID();
    let apiError: ApiError;
    if (err instanceof ApiError) {
      apiError = err;
    } else if (err instanceof HTTPException && err.cause instanceof ApiError) {
      apiError = err.cause;
    } else if (err instanceof HTTPException) {
      const code = STATUS_CODES[err.status] ?? (err.status >= 500 ? "internal" : "bad_request");
      const message = err.status === 415 ? say("api.content_type_json") : err.message || "bad request";
      const retryAfter = code === "unavailable" ? DATABASE_RETRY_AFTER_SECONDS : undefined;
      apiError = new ApiError(code, message, undefined, retryAfter);
    } else if (isDatabaseUnavailable(err)) {
      // Expected while the database restarts or fails over: one line, no stack, and a retryable answer.
      deps.logger.warn({ code: errorCode(err), requestId }, "database unavailable");
      apiError = databaseUnavailable();
    } else {
      // Database errors carry the statement's parameters (events, tokens' hashes): log what identifies the
      // failure, never the data.
      const e = err as Error & { code?: string };
      deps.logger.error(
        { err: { name: e.name, message: e.message, code: e.code, stack: e.stack }, requestId },
        "unhandled error",
      );
      apiError = new ApiError("internal", say("api.internal"));
    }
    if (apiError.retryAfterSeconds !== undefined) c.header("retry-after", String(apiError.retryAfterSeconds));
    c.header("vary", "Accept-Language", { append: true });
    const lang = pickLang(undefined, c.req.header("accept-language"));
    return c.json(envelope(apiError, requestId, lang), apiError.status);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
