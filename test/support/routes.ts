import { expect } from "vitest";
import type { App } from "../../src/app.ts";
import type { Client } from "./api.ts";
import { event, uid } from "./factories.ts";

export type Caller = "agent" | "viewer" | "reviewer" | "admin";
export const CALLERS: readonly Caller[] = ["agent", "viewer", "reviewer", "admin"];

/** The ids a protected route's path may name. */
export interface RouteIds {
  alert: string;
  account: string;
  environment: string;
  token: string;
  incident: string;
  drill: string;
  channel: string;
}

export interface ProtectedRoute {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** with `:alert`, `:account`, `:environment`, `:token`, `:incident`, `:drill` or `:channel` where an id goes */
  path: string;
  /** the callers the API documents as allowed */
  allowed: readonly Caller[];
  /** a valid body, fresh per call (unique names and ids) */
  body?: () => unknown;
  /** what an allowed caller gets when every id in the path names nothing: the handler ran */
  reached: number;
}

const READERS: readonly Caller[] = ["viewer", "reviewer", "admin"];
const REVIEWERS: readonly Caller[] = ["reviewer", "admin"];
const ADMINS: readonly Caller[] = ["admin"];

/** Every protected route of the v1 API with who may call it; a new route adds a row. */
export const PROTECTED_ROUTES: readonly ProtectedRoute[] = [
  { method: "GET", path: "/v1/whoami", allowed: CALLERS, reached: 200 },
  { method: "GET", path: "/v1/system", allowed: ["viewer", "reviewer", "admin"], reached: 200 },
  {
    method: "POST",
    path: "/v1/events",
    allowed: ["agent", "admin"],
    body: () => event("2026-01-19T12:00:00Z", { ref: uid("auth-") }),
    reached: 202,
  },
  {
    method: "POST",
    path: "/v1/accounts",
    allowed: ADMINS,
    body: () => ({ platform: "tiktok_shop", ref: uid("auth-") }),
    reached: 201,
  },
  { method: "GET", path: "/v1/accounts", allowed: READERS, reached: 200 },
  { method: "GET", path: "/v1/accounts/:account", allowed: READERS, reached: 404 },
  {
    method: "PATCH",
    path: "/v1/accounts/:account",
    allowed: ADMINS,
    body: () => ({ label: "renamed" }),
    reached: 404,
  },
  { method: "DELETE", path: "/v1/accounts/:account", allowed: ADMINS, reached: 404 },
  { method: "GET", path: "/v1/accounts/:account/export", allowed: ADMINS, reached: 404 },
  { method: "GET", path: "/v1/accounts/:account/baseline", allowed: READERS, reached: 404 },
  { method: "GET", path: "/v1/accounts/:account/events", allowed: READERS, reached: 404 },
  {
    method: "POST",
    path: "/v1/environments",
    allowed: ADMINS,
    body: () => ({ name: uid("auth-env-"), account_ids: [] }),
    reached: 201,
  },
  { method: "GET", path: "/v1/environments", allowed: READERS, reached: 200 },
  {
    method: "PUT",
    path: "/v1/environments/:environment/accounts",
    allowed: ADMINS,
    body: () => ({ account_ids: [] }),
    reached: 404,
  },
  { method: "POST", path: "/v1/environments/:environment/tokens", allowed: ADMINS, reached: 404 },
  {
    method: "POST",
    path: "/v1/tokens",
    allowed: ADMINS,
    body: () => ({ name: uid("auth-tok-"), role: "viewer" }),
    reached: 201,
  },
  { method: "GET", path: "/v1/tokens", allowed: ADMINS, reached: 200 },
  { method: "DELETE", path: "/v1/tokens/:token", allowed: ADMINS, reached: 404 },
  { method: "GET", path: "/v1/settings", allowed: READERS, reached: 200 },
  { method: "GET", path: "/v1/audit", allowed: REVIEWERS, reached: 200 },
  { method: "GET", path: "/v1/associations", allowed: READERS, reached: 200 },
  {
    method: "PATCH",
    path: "/v1/settings",
    allowed: ADMINS,
    body: () => ({ retry_limit: 7 }),
    reached: 200,
  },
  {
    method: "POST",
    path: "/v1/preflight",
    allowed: ["agent", "admin"],
    body: () => ({ account: { platform: "tiktok_shop", ref: uid("pre-") }, operation: "publish_listing" }),
    reached: 200,
  },
  {
    method: "POST",
    path: "/v1/incidents",
    allowed: REVIEWERS,
    body: () => ({ platform: "amazon", title: "auth test outage", started_at: "2026-01-01T00:00:00Z" }),
    reached: 201,
  },
  { method: "GET", path: "/v1/incidents", allowed: READERS, reached: 200 },
  { method: "GET", path: "/v1/incidents/:incident", allowed: READERS, reached: 404 },
  { method: "POST", path: "/v1/incidents/:incident/close", allowed: REVIEWERS, reached: 404 },
  { method: "GET", path: "/v1/incidents/:incident/review", allowed: READERS, reached: 404 },
  {
    method: "POST",
    path: "/v1/drills",
    allowed: REVIEWERS,
    body: () => ({ platform: "amazon", planned_minutes: 1 }),
    reached: 201,
  },
  { method: "GET", path: "/v1/drills", allowed: READERS, reached: 200 },
  { method: "GET", path: "/v1/drills/:incident", allowed: READERS, reached: 404 },
  { method: "POST", path: "/v1/drills/:incident/end", allowed: REVIEWERS, reached: 404 },
  { method: "GET", path: "/v1/drills/:incident/report", allowed: READERS, reached: 404 },
  {
    method: "POST",
    path: "/v1/accounts/:account/overrides",
    allowed: REVIEWERS,
    body: () => ({ operation: "binding_change", minutes: 30, reason: "support ticket 42" }),
    reached: 404,
  },
  { method: "GET", path: "/v1/accounts/:account/overrides", allowed: READERS, reached: 404 },
  { method: "GET", path: "/v1/alerts", allowed: READERS, reached: 200 },
  { method: "GET", path: "/v1/alerts/:alert", allowed: READERS, reached: 404 },
  ...(["acknowledge", "resolve", "dismiss", "trust"] as const).map(
    (action): ProtectedRoute => ({
      method: "POST",
      path: `/v1/alerts/:alert/${action}`,
      allowed: REVIEWERS,
      body: () => ({ note: "checked", verdict: "actionable" }),
      reached: 404,
    }),
  ),
  // Reached in a workspace with no established account: the verification runs and fails.
  { method: "GET", path: "/v1/drills/verify", allowed: READERS, reached: 412 },
  { method: "POST", path: "/v1/drills/verify", allowed: READERS, body: () => ({}), reached: 412 },
  { method: "GET", path: "/v1/drills/verifications", allowed: READERS, reached: 200 },
  { method: "GET", path: "/v1/drills/verifications/:drill", allowed: READERS, reached: 404 },
  {
    method: "POST",
    path: "/v1/channels",
    allowed: ADMINS,
    // a closed port on loopback: nothing is sent from these calls
    body: () => ({ name: uid("ch-"), kind: "slack", url: "http://127.0.0.1:9/hook" }),
    reached: 201,
  },
  { method: "GET", path: "/v1/channels", allowed: ADMINS, reached: 200 },
  { method: "GET", path: "/v1/channels/:channel", allowed: ADMINS, reached: 404 },
  {
    method: "PATCH",
    path: "/v1/channels/:channel",
    allowed: ADMINS,
    body: () => ({ min_severity: "high" }),
    reached: 404,
  },
  { method: "DELETE", path: "/v1/channels/:channel", allowed: ADMINS, reached: 404 },
  { method: "GET", path: "/v1/channels/:channel/deliveries", allowed: ADMINS, reached: 404 },
  { method: "POST", path: "/v1/channels/:channel/test", allowed: ADMINS, reached: 404 },
];

/** "GET /v1/accounts/{id}": a table row named as the OpenAPI document names its operation. */
export const openApiName = (route: ProtectedRoute) =>
  `${route.method} ${route.path.replace(/:(alert|account|environment|token|incident|drill|channel)\b/g, "{id}")}`;

/** Ids that name nothing, in any workspace. */
export const MISSING_IDS: RouteIds = {
  alert: "alr_00000000000000000000000000",
  account: "acc_00000000000000000000000000",
  environment: "env_00000000000000000000000000",
  token: "tok_00000000000000000000000000",
  incident: "inc_00000000000000000000000000",
  drill: "drv_00000000000000000000000000",
  channel: "chn_00000000000000000000000000",
};

export function fillPath(template: string, ids: RouteIds): string {
  return template.replace(
    /:(alert|account|environment|token|incident|drill|channel)\b/g,
    (_, name: keyof RouteIds) => ids[name],
  );
}

/** Calls a route of the table as `token` would, with its body when it has one. */
export function callRoute(api: Client, route: ProtectedRoute, ids: RouteIds, token: string | null) {
  return api.call(route.method, fillPath(route.path, ids), token, route.body?.());
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read loosely by assertions like api.ts's Answer
  body: any;
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    request_id: string;
    details?: Array<{ path: string; message: string }>;
  };
}

/** A request with exactly the headers given (no defaults), answering headers too. */
export async function rawRequest(
  app: App,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  const res = await app.request(path, { method, headers: init.headers ?? {}, body: init.body ?? null });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** The contract's one error envelope, with the expected code. */
export function expectError(answer: { status: number; body: unknown }, status: number, code: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String), request_id: expect.any(String) }),
  });
  const { error } = answer.body as ErrorBody;
  expect(error.message.length).toBeGreaterThan(0);
  expect(Object.keys(error).filter((k) => !["code", "message", "request_id", "details"].includes(k))).toEqual(
    [],
  );
}

/** A 400 whose `details` name exactly the given paths (in any order). */
export function expectInvalid(answer: { status: number; body: unknown }, ...paths: string[]) {
  expectError(answer, 400, "bad_request");
  const details = (answer.body as ErrorBody).error.details ?? [];
  expect(details.map((d) => d.path).sort()).toEqual([...paths].sort());
  for (const d of details) expect(d.message).toEqual(expect.any(String));
}
