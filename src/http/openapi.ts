import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { PLATFORM_INCIDENT_RULE } from "../core/incidents.ts";
import type { PLATFORM_FAILURES, SENSITIVE_OPERATIONS, Severity } from "../core/model.ts";
import { ACCOUNT_RULES } from "../core/rules/index.ts";
import {
  ApiError,
  ERROR_STATUS,
  type ErrorCode,
  type ErrorDetail,
  type Say,
  say,
  sayInWords,
} from "../errors.ts";
import { CATALOGUES } from "../i18n/index.ts";
import type { ACCOUNT_FAILURES } from "../store/review.ts";
import type { HonoEnv, Role } from "./context.ts";
import { ROLES_EXTENSION } from "./roles.ts";

/** What each error code means to a caller; typed against ERROR_STATUS, so a new code cannot go undescribed. */
const ERROR_MEANINGS: Record<ErrorCode, string> = {
  bad_request:
    "The request is malformed or does not match the schema (also for a body that is not UTF-8 JSON: status 415); `details` names the paths",
  unauthorized: "No bearer token, or one tether does not know (revoked, mistyped)",
  forbidden: "The token is valid but its role may not call this operation",
  not_found: "No such route, or no such object in the caller's workspace",
  conflict: "The change conflicts with the current state (a name taken, an alert already closed)",
  payload_too_large: "The body is larger than the route admits",
  rate_limited:
    "Too many failed authentications from this address or for this token; wait `Retry-After` seconds",
  internal: "A fault of the server; the request id names it in the server log",
  unavailable: "Busy, or the database is unreachable; nothing was stored; retry after `Retry-After` seconds",
};

const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

export const ErrorCodeSchema = z.enum(ERROR_CODES).openapi("ErrorCode", {
  description:
    "The machine-readable error code: branch on it, never on `message` (which is for people and may be translated).",
  "x-enum-descriptions": ERROR_CODES.map((c) => `${ERROR_STATUS[c]}: ${ERROR_MEANINGS[c]}`),
  "x-tether-statuses": ERROR_STATUS,
});

export const ErrorSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string().openapi({
        description:
          "For people, in the language of Accept-Language: Simplified Chinese for any `zh`, else English. " +
          "Programs read `code` and `details[].path`, which are the same in every language.",
      }),
      request_id: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi("Error");

const ERROR_DESCRIPTIONS: Record<number, [ErrorCode, string]> = {
  400: [
    "bad_request",
    "Malformed JSON, wrong types or values, unknown fields, keys given twice, NUL or lone surrogates, nesting past 32 levels; `details` names the offending paths",
  ],
  401: ["unauthorized", "No token, or a token tether does not know"],
  403: ["forbidden", "The token's role may not do this"],
  404: ["not_found", "No such object in the caller's workspace"],
  409: ["conflict", "Conflicts with an existing object"],
  413: [
    "payload_too_large",
    "The body is larger than the route admits: the largest legal batch for POST /v1/events, TETHER_MAX_BODY_BYTES elsewhere",
  ],
  415: [
    "bad_request",
    "The body is not application/json in UTF-8, or has a Content-Encoding other than identity (send it uncompressed)",
  ],
  429: [
    "rate_limited",
    "Too many failed authentications from this address or for this token: retry after `Retry-After` seconds",
  ],
  503: [
    "unavailable",
    "Busy or the database is unreachable: nothing was stored; retry after `Retry-After` seconds",
  ],
};

/**
 * The error answers a route declares: the shared envelope under each status. A route that authenticates
 * (401) may also answer 429 to a caller past the failed-authentication limit.
 */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 413 | 415 | 503>) {
  const out: Record<
    number,
    { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }
  > = {};
  for (const s of statuses.includes(401) ? [...statuses, 429] : statuses) {
    out[s] = {
      description: ERROR_DESCRIPTIONS[s]![1],
      content: { "application/json": { schema: ErrorSchema } },
    };
  }
  return out;
}

/** Zod issues as `details`; for a union (single event or batch) the branch that got furthest is reported. */
export function zodDetails(error: ZodError): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const walk = (issues: ZodError["issues"], prefix: PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      if (issue.code === "invalid_union" && issue.errors.length > 0) {
        const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
        walk(best, path);
        continue;
      }
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys)
          out.push({ path: [...path, key].map(String).join("."), message: "is not a known field" });
        continue;
      }
      out.push({
        path: path.length > 0 ? path.map(String).join(".") : "body",
        message: issue.message,
        say: sayInWords(issue.message) ?? sayIssue(issue),
      });
    }
  };
  walk(error.issues, []);
  return out.slice(0, 100);
}

const TYPES = new Set(["string", "number", "int", "boolean", "object", "array"]);

/** A zod issue in the catalogue's words: zod's own English messages have no Chinese. */
function sayIssue(issue: ZodError["issues"][number]): Say {
  switch (issue.code) {
    case "invalid_type":
      if (issue.message.endsWith("received undefined")) return say("api.detail.required");
      if (!TYPES.has(issue.expected)) return say("api.detail.invalid");
      return (t) => t("api.detail.wrong_type", { expected: t(`api.type.${issue.expected as "string"}`) });
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "string") return say("api.detail.too_long", { max });
      if (issue.origin === "array") return say("api.detail.too_many", { max });
      return say("api.detail.too_big", { max });
    }
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string") return say("api.detail.too_short", { min });
      if (issue.origin === "array") return say("api.detail.too_few", { min });
      return say("api.detail.too_small", { min });
    }
    case "invalid_value":
      return say("api.detail.one_of", { values: issue.values.map((v) => JSON.stringify(v)).join(", ") });
    case "invalid_format":
      return say(issue.format === "datetime" ? "api.detail.datetime" : "api.detail.format");
    default:
      return say("api.detail.invalid");
  }
}

const depth = (issues: ZodError["issues"]) => Math.max(0, ...issues.map((i) => i.path.length));

export function newRouter() {
  return new OpenAPIHono<HonoEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError("bad_request", say("api.schema_mismatch"), zodDetails(result.error));
      }
    },
  });
}

/** Free text: anything printable or not, except NUL, which PostgreSQL text and jsonb cannot hold. */
export const text = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point
    .regex(/^[^\u0000]*$/, "must not contain NUL characters");

/** Names and identifiers: no control characters at all. */
export const name = (max: number, min = 1) =>
  z
    .string()
    .min(min)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters");

/** Printable characters, the rule in Unicode's terms. */
const PRINTABLE = /^[^\p{C}]+$/u;

/**
 * Text of printable characters only: no control, format, surrogate, private-use or unassigned code point
 * (Unicode category C). Checked with a Unicode property class, which a JSON Schema `pattern` (ECMA-262
 * without flags) cannot express, so the document states the rule in words instead of a pattern.
 */
export const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => PRINTABLE.test(s), "must be printable characters")
    .openapi({
      description:
        "Printable characters only: no control, format, surrogate, private-use or unassigned code point (Unicode category C)",
    });

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    // tether's ids are ASCII; a NUL (`%00`) or other control character must not reach a query
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .openapi({ param: { name: "id", in: "path" } }),
});

export const ListQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
};

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** Every rule that can raise a finding or an alert, with its default severity, in reporting order. */
export const RULES: ReadonlyArray<{ id: string; severity: Severity }> = [
  ...ACCOUNT_RULES.map(({ id, severity }) => ({ id, severity })),
  PLATFORM_INCIDENT_RULE,
];

/** A rule's one-line meaning, the one the console shows (catalogue key `rule.<id>`). */
export function ruleMeaning(id: string): string {
  const meaning = (CATALOGUES.en as Record<string, string>)[`rule.${id}`];
  if (!meaning) throw new Error(`rule ${id} has no rule.${id} entry in the message catalogue`);
  return meaning;
}

const SEVERITY_MEANINGS: Record<Severity, string> = {
  info: "Kept on the event and in its risk score; never worth a look on its own",
  low: "Ordinary churn (a browser update, a renewed IP of a known network); below the default alert threshold",
  medium:
    "A deviation worth a look; the lowest severity that opens an alert unless `alert_min_severity` says otherwise",
  high: "Likely to draw the platform's attention: a new country or device, a pin contradicted, a shared IP",
  critical: "Links isolated accounts, or switches networks during an outage: act now",
};

const PLATFORM_FAILURE_MEANINGS: Record<(typeof PLATFORM_FAILURES)[number], string> = {
  timeout: "The platform did not answer in time",
  http_5xx: "The platform answered with a 5xx status",
  internal_error: "The platform reported an error of its own",
  image_processing_failed: "The platform failed to process an uploaded image",
  network_error: "The connection to the platform failed",
};

const ACCOUNT_FAILURE_MEANINGS: Record<(typeof ACCOUNT_FAILURES)[number], string> = {
  auth_failed: "The platform refused the account's credentials",
  captcha: "The platform asked for a captcha",
  risk_control: "The platform's risk control stepped in",
  rate_limited: "The platform throttled the account",
};

const SENSITIVE_OPERATION_MEANINGS: Record<(typeof SENSITIVE_OPERATIONS)[number], string> = {
  profile_edit: "Editing the store's profile",
  permission_change: "Changing who may act for the account",
  binding_change: "Binding or unbinding a device, app or sub-account",
  payment_change: "Changing a payment method",
  password_change: "Changing the password",
  email_change: "Changing the account's e-mail address",
  phone_change: "Changing the account's phone number",
  bank_account_change: "Changing the bank account that receives payouts",
};

const ROLE_MEANINGS: Record<Role, string> = {
  agent:
    "An environment's token (`tta_…`): reports events and asks preflight for the accounts its environment operates",
  viewer: "A person or script that reads: accounts, alerts, incidents, associations, settings",
  reviewer:
    "A viewer who also works alerts, declares and closes incidents, grants overrides and reads the audit log",
  admin: "Everything: accounts, environments, tokens, settings, exports and deletions",
};

/** An enumeration as a schema: `enum`, a description, and one line per value (`x-enum-descriptions`). */
const enumeration = (description: string, meanings: Record<string, string>, extra: object = {}) => ({
  type: "string",
  enum: Object.keys(meanings),
  description,
  "x-enum-descriptions": Object.values(meanings),
  ...extra,
});

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const DESCRIPTION = `tether watches a matrix of store accounts (TikTok Shop, Amazon, …) for broken isolation: agents in each \
environment report logins and operations, tether checks every event against the account's baseline and the other \
accounts, scores its risk and opens alerts for people to work. A newcomer's guide with examples is docs/api.md in \
the repository.

**Tokens.** Send \`Authorization: Bearer <token>\`. User tokens read \`ttu_<id>_<secret>\` and carry a role \
(viewer, reviewer, admin); an environment's agent token reads \`tta_<id>_<secret>\` and acts only for that \
environment. The bootstrap admin token may be any secret chosen in \`TETHER_BOOTSTRAP_TOKEN\`. Each operation lists \
the roles it admits in \`x-tether-roles\`; any other role is answered 403.

**Bodies.** UTF-8 JSON, uncompressed (415 otherwise). Unknown fields, keys given twice, NUL, lone surrogates and \
nesting past 32 levels are refused with 400 and their paths in \`details\`; nothing of a refused request is stored.

**Errors.** Every answer that is not 2xx is \`{"error":{"code","message","request_id","details"?}}\`; \`code\` is \
one of ErrorCode. 429 and 503 carry \`Retry-After\`. Branch on \`code\`; \`message\` is for people.

**Lists.** Newest first, \`limit\` 1–500 (default 50); pass the answer's \`next_cursor\` as \`cursor\` for the next \
page, until it is null.

**Enumerations.** RuleId (with default severities), Severity, PlatformFailureCode, AccountFailureCode, \
SensitiveOperation, Role and ErrorCode are in \`components.schemas\`.`;

const TAGS = [
  ["telemetry", "What agents send: events, and the question before acting (preflight)"],
  ["alerts", "Findings worth a person's look, and their workflow"],
  ["accounts", "Store accounts: pins, groups, baselines, events, overrides, export and erasure"],
  ["environments", "Where accounts are operated from, and their agent tokens"],
  ["tokens", "User tokens"],
  ["incidents", "Platform outages, declared or detected, and their review"],
  ["associations", "Devices, IPs and subnets shared across isolation groups"],
  ["settings", "Per-workspace thresholds"],
  ["audit", "Who did what"],
  ["channels", "Where alerts are sent: webhooks, group robots, Slack, PagerDuty"],
  ["system", "Probes, metrics and the caller's identity"],
] as const;

type JsonObject = Record<string, unknown>;

/** A property of a named component schema; a schema renamed or reshaped fails loudly here, not silently. */
function property(doc: JsonObject, schema: string, name: string): JsonObject {
  const schemas = (doc.components as { schemas: Record<string, { properties?: Record<string, JsonObject> }> })
    .schemas;
  const found = schemas[schema]?.properties?.[name];
  if (!found) throw new Error(`the OpenAPI document has no ${schema}.${name}`);
  return found;
}

/**
 * The generated document, completed: the enumerations tether understands as components, referenced where
 * they are used, and each operation's roles (from the `access` declaration that enforces them) in words.
 */
export function apiDocument(app: OpenAPIHono<HonoEnv>): JsonObject {
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "tether API", version: "1", description: DESCRIPTION },
    servers: [{ url: "/", description: "The server that serves this document" }],
    tags: TAGS.map(([name, description]) => ({ name, description })),
  }) as unknown as JsonObject;
  const schemas = (doc.components as { schemas: JsonObject }).schemas;
  Object.assign(schemas, {
    RuleId: enumeration(
      "The rule behind a finding or an alert. `x-tether-default-severity` gives each rule's severity; a few rules " +
        "grade a milder case lower (a new IP in a known subnet and network is low, not medium).",
      Object.fromEntries(RULES.map((r) => [r.id, `${r.severity}: ${ruleMeaning(r.id)}`])),
      { "x-tether-default-severity": Object.fromEntries(RULES.map((r) => [r.id, r.severity])) },
    ),
    Severity: enumeration("How bad a finding is, from least to most.", SEVERITY_MEANINGS),
    PlatformFailureCode: enumeration(
      "Event `result.code` values that mean the platform failed, not the account: they count toward detecting a " +
        "platform incident.",
      PLATFORM_FAILURE_MEANINGS,
    ),
    AccountFailureCode: enumeration(
      "Event `result.code` values that concern one account; they never count toward a platform incident.",
      ACCOUNT_FAILURE_MEANINGS,
    ),
    SensitiveOperation: enumeration(
      "Operations frozen during an incident on the account's platform (preflight denies them) and audited. " +
        "Admins may mark more slugs sensitive per workspace (`extra_sensitive_operations`).",
      SENSITIVE_OPERATION_MEANINGS,
    ),
    Role: enumeration(
      "What a token may do; each operation names the roles it admits in `x-tether-roles`.",
      ROLE_MEANINGS,
    ),
  });

  Object.assign(property(doc, "Alert", "rule"), ref("RuleId"));
  Object.assign(property(doc, "Alert", "severity"), ref("Severity"));
  Object.assign(property(doc, "Finding", "severity"), ref("Severity"));
  Object.assign(property(doc, "Finding", "rule"), {
    description: "A rule id; in a preflight answer also `override`, a reviewer's break-glass override",
    anyOf: [ref("RuleId"), { const: "override" }],
  });
  Object.assign(property(doc, "EventResult", "code"), {
    description: "Codes tether understands are listed below; any other lowercase code is kept as given",
    anyOf: [ref("PlatformFailureCode"), ref("AccountFailureCode"), { type: "string" }],
  });
  for (const schema of ["Event", "PreflightRequest"]) {
    Object.assign(property(doc, schema, "operation"), {
      description: "A slug naming what is done; the sensitive ones are listed below",
      anyOf: [ref("SensitiveOperation"), { type: "string" }],
    });
  }

  for (const operations of Object.values(doc.paths as Record<string, Record<string, JsonObject>>)) {
    for (const op of Object.values(operations)) {
      const roles = op[ROLES_EXTENSION] as Role[] | undefined;
      if (!roles) continue;
      const sentence = `Tokens allowed: ${roles.join(", ")}. A token of any other role is answered 403.`;
      op.description = op.description ? `${op.description}\n\n${sentence}` : sentence;
    }
  }
  return doc;
}

/** Serves /openapi.json, built once on its first request (every route is registered by then). */
export function serveApiDocument(app: OpenAPIHono<HonoEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description:
      "A user token (`ttu_<id>_<secret>`, role viewer, reviewer or admin), an environment's agent token " +
      "(`tta_<id>_<secret>`), or the bootstrap admin secret. Shown once when issued; stored only as a keyed hash.",
  });
  let built: JsonObject | undefined;
  app.get("/openapi.json", (c) => {
    built ??= apiDocument(app);
    return c.json(built);
  });
}
